"""A release's analysis, in the style of Argo Rollouts' AnalysisTemplate: each metric is
measured every ``interval_s``, ``count`` times; each measurement is judged by the metric's
success and failure conditions; the metric fails once more than ``failure_limit`` measurements
failed, is inconclusive once more than ``inconclusive_limit`` were, errs once more than
``consecutive_error_limit`` in a row could not be taken (no data), and succeeds after
``count`` measurements otherwise. The analysis fails as soon as one metric fails.

Judging one measurement, as Argo does:

- both conditions: success true -> Successful, failure true -> Failed, neither -> Inconclusive;
- success only: true -> Successful, else Failed;
- failure only: true -> Failed, else Successful.

A condition is ``result <op> <number>`` (op one of < <= > >= == !=), parsed once; anything else
is refused with the field named. Pure: the measuring is the caller's.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "AnalysisSpec",
    "Condition",
    "Measurement",
    "MetricProgress",
    "MetricSpec",
    "Phase",
    "judge",
    "overall",
    "roc_auc",
]

_CONDITION = re.compile(r"^\s*result\s*(<=|>=|==|!=|<|>)\s*"
                        r"(-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*$")
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne}


class Phase(StrEnum):
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    INCONCLUSIVE = "Inconclusive"
    ERROR = "Error"
    RUNNING = "Running"


@dataclass(frozen=True, slots=True)
class Condition:
    text: str
    op: str
    threshold: float

    @classmethod
    def parse(cls, text: str) -> Condition:
        match = _CONDITION.match(text)
        if match is None:
            raise ValueError(f"{text!r}: expected 'result <op> <number>', op one of "
                             f"{' '.join(_OPERATORS)}")
        return cls(text.strip(), match[1], float(match[2]))

    def holds(self, result: float) -> bool:
        return _OPERATORS[self.op](result, self.threshold)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricSpec(_Strict):
    """One metric of the analysis. ``provider`` measures it (``prometheus``: a named query or
    PromQL over the stack's own metrics; ``shadow``: the labelled shadow set sent straight to
    the canary), ``query`` says what (``error_rate``, ``latency_p99``, ``roc_auc`` or PromQL
    with ``{member}``, ``{version}``, ``{window}``)."""

    name: str = Field(min_length=1)
    provider: Literal["prometheus", "shadow"]
    query: str = Field(min_length=1)
    success_condition: str | None = None
    failure_condition: str | None = None
    failure_limit: int = Field(0, ge=0)
    inconclusive_limit: int = Field(0, ge=0)
    consecutive_error_limit: int = Field(4, ge=0)

    @field_validator("success_condition", "failure_condition")
    @classmethod
    def _parses(cls, text: str | None) -> str | None:
        if text is not None:
            Condition.parse(text)
        return text

    @model_validator(mode="after")
    def _judged(self) -> MetricSpec:
        if self.success_condition is None and self.failure_condition is None:
            raise ValueError(f"metric {self.name}: give success_condition, failure_condition "
                             "or both")
        return self

    def conditions(self) -> tuple[Condition | None, Condition | None]:
        return (None if self.success_condition is None else Condition.parse(
                    self.success_condition),
                None if self.failure_condition is None else Condition.parse(
                    self.failure_condition))


class AnalysisSpec(_Strict):
    """``count`` measurements of every metric, ``interval_s`` apart, after ``initial_delay_s``
    (Argo's initialDelay: the new weight's first requests must reach the metrics)."""

    interval_s: float = Field(5.0, gt=0, le=600)
    count: int = Field(3, ge=1, le=1000)
    initial_delay_s: float = Field(0.0, ge=0, le=600)
    metrics: tuple[MetricSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> AnalysisSpec:
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise ValueError(f"metric names must be unique: {names}")
        return self


@dataclass(frozen=True, slots=True)
class Measurement:
    metric: str
    t_s: float
    value: float | None  # None: no data (an error)
    phase: Phase
    detail: str = ""

    def as_json(self) -> dict[str, object]:
        return {"metric": self.metric, "t_s": self.t_s, "value": self.value,
                "phase": self.phase.value, "detail": self.detail}


def judge(spec: MetricSpec, value: float | None) -> Phase:
    """One measurement's phase by the metric's conditions (no data or NaN: Error)."""
    if value is None or math.isnan(value):
        return Phase.ERROR
    success, failure = spec.conditions()
    if failure is not None and failure.holds(value):
        return Phase.FAILED
    if success is None:
        return Phase.SUCCESSFUL
    if success.holds(value):
        return Phase.SUCCESSFUL
    return Phase.INCONCLUSIVE if failure is not None else Phase.FAILED


@dataclass
class MetricProgress:
    """One metric's measurements so far and where they leave it."""

    spec: MetricSpec
    count: int
    measurements: list[Measurement] = field(default_factory=list)

    def add(self, t_s: float, value: float | None, detail: str = "") -> Measurement:
        measured = Measurement(self.spec.name, t_s, value, judge(self.spec, value), detail)
        self.measurements.append(measured)
        return measured

    def _tally(self, phase: Phase) -> int:
        return sum(m.phase == phase for m in self.measurements)

    def _consecutive_errors(self) -> int:
        run = 0
        for measured in reversed(self.measurements):
            if measured.phase != Phase.ERROR:
                break
            run += 1
        return run

    @property
    def phase(self) -> Phase:
        if self._tally(Phase.FAILED) > self.spec.failure_limit:
            return Phase.FAILED
        if self._consecutive_errors() > self.spec.consecutive_error_limit:
            return Phase.ERROR
        if self._tally(Phase.INCONCLUSIVE) > self.spec.inconclusive_limit:
            return Phase.INCONCLUSIVE
        taken = sum(m.phase != Phase.ERROR for m in self.measurements)
        return Phase.SUCCESSFUL if taken >= self.count else Phase.RUNNING

    @property
    def done(self) -> bool:
        return self.phase != Phase.RUNNING or len(self.measurements) >= 4 * self.count


def overall(progress: list[MetricProgress]) -> Phase:
    """The analysis: Failed, Error or Inconclusive as soon as one metric is; Successful once
    every metric is; Running until then."""
    phases = [p.phase for p in progress]
    for settled in (Phase.FAILED, Phase.ERROR, Phase.INCONCLUSIVE):
        if settled in phases:
            return settled
    return Phase.SUCCESSFUL if all(p == Phase.SUCCESSFUL for p in phases) else Phase.RUNNING



def roc_auc(scores: list[float], labels: list[int]) -> float | None:
    """Area under the ROC curve: the chance that a random positive scores above a random
    negative (ties count half), from the ranks (Mann-Whitney); None without both classes."""
    positives = sum(1 for label in labels if label)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    order = sorted(range(len(scores)), key=scores.__getitem__)
    ranks = [0.0] * len(scores)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        for k in range(start, end + 1):
            ranks[order[k]] = (start + end) / 2 + 1  # ties share their mean rank
        start = end + 1
    rank_sum = sum(rank for rank, label in zip(ranks, labels, strict=True) if label)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
