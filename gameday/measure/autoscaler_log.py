"""What the autoscaling figures are computed from: the local autoscaler's log
(``autoscaler.jsonl``, written by ``gameday.autoscaler``: a ``decision`` every sync, a
``scaled`` line once a change took effect, a ``problem`` line when one went wrong) and the
load's rate over time, from the generators' ``load_start`` events (base rate and steps)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gameday.records import Event, EventKind

__all__ = ["AUTOSCALER_FILE", "AutoscalerLog", "Decision", "LoadStep", "Scaled",
           "load_steps", "offered_rates", "read_autoscaler_log"]

AUTOSCALER_FILE = "autoscaler.jsonl"  # gameday.autoscaler writes it (not imported: it runs)
_SAME_TIME_S = 1e-3  # workers' steps due at one instant are one step


@dataclass(frozen=True, slots=True)
class Decision:
    """One sync of one region's HPA: ``desired`` replicas from ``current``."""

    t_s: float
    stack: str
    component: str
    region: str
    current: int
    desired: int
    ready: int = 0
    metric: float | None = None
    target: float | None = None
    raw_desired: int | None = None
    recommended: int | None = None
    reason: str = ""
    limited_by: str | None = None


@dataclass(frozen=True, slots=True)
class Scaled:
    """A change that took effect at ``t_s`` (new members serving at the edge, or removed
    ones gone), begun at ``started_s`` (the decision's time)."""

    t_s: float
    started_s: float
    stack: str
    component: str
    region: str
    from_replicas: int
    to_replicas: int
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AutoscalerLog:
    decisions: tuple[Decision, ...]
    scaled: tuple[Scaled, ...]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LoadStep:
    """The offered rate of a stack's load changed at ``at_s`` (epoch s), summed over its
    generators and their workers."""

    at_s: float
    stack: str
    from_rate_per_s: float
    to_rate_per_s: float

    @property
    def upward(self) -> bool:
        return self.to_rate_per_s > self.from_rate_per_s


def read_autoscaler_log(run_dir: Path) -> AutoscalerLog | None:
    """The run's autoscaler log; None when it has none. A torn or unknown line is skipped
    (the writer appends line by line; a crash leaves at most a torn last line)."""
    path = run_dir / AUTOSCALER_FILE
    if not path.is_file():
        return None
    decisions, scaled, problems = [], [], []
    for line in path.read_text(errors="replace").splitlines():
        try:
            raw = json.loads(line)
            kind = raw.get("kind")
            if kind == "decision":
                decisions.append(_decision(raw))
            elif kind == "scaled":
                scaled.append(_scaled(raw))
            elif kind == "problem":
                problems.append(f"{raw.get('stack', '')}: {raw.get('message', '')}")
        except (ValueError, TypeError, KeyError, AttributeError):
            continue
    return AutoscalerLog(tuple(sorted(decisions, key=lambda d: d.t_s)),
                         tuple(sorted(scaled, key=lambda s: s.t_s)), tuple(problems))


def _decision(raw: Mapping[str, Any]) -> Decision:
    def optional(name: str) -> Any:
        return raw.get(name)

    return Decision(t_s=float(raw["t_s"]), stack=str(raw["stack"]),
                    component=str(raw.get("component", "")), region=str(raw.get("region", "")),
                    current=int(raw["current"]), desired=int(raw["desired"]),
                    ready=int(raw.get("ready") or 0),
                    metric=None if optional("metric") is None else float(raw["metric"]),
                    target=None if optional("target") is None else float(raw["target"]),
                    raw_desired=optional("raw_desired"), recommended=optional("recommended"),
                    reason=str(raw.get("reason", "")), limited_by=optional("limited_by"))


def _scaled(raw: Mapping[str, Any]) -> Scaled:
    return Scaled(t_s=float(raw["t_s"]), started_s=float(raw.get("started_s", raw["t_s"])),
                  stack=str(raw["stack"]), component=str(raw.get("component", "")),
                  region=str(raw.get("region", "")), from_replicas=int(raw["from"]),
                  to_replicas=int(raw["to"]),
                  members=tuple(str(m) for m in raw.get("members") or ()))


@dataclass(frozen=True, slots=True)
class _Generator:
    stack: str
    start_s: float
    base_per_s: float
    steps: tuple[tuple[float, float], ...]  # (due at, rate), in time order

    def rate_at(self, t_s: float) -> float:
        if t_s < self.start_s:
            return 0.0
        rate = self.base_per_s
        for at_s, step_rate in self.steps:
            if at_s <= t_s + _SAME_TIME_S / 2:
                rate = step_rate
        return rate


def _generators(events: Sequence[Event], default_stack: str) -> list[_Generator]:
    generators = []
    for event in events:
        if event.kind != EventKind.LOAD_START:
            continue
        detail = event.detail
        plan = detail.get("plan")
        stack = str(plan.get("stack", default_stack)) if isinstance(plan, dict) \
            else str(detail.get("stack", default_stack))
        base = detail.get("rate_per_s", detail.get("target_rate_per_s"))
        steps = tuple(sorted((float(s["at_s"]), float(s["rate_per_s"]))
                             for s in detail.get("steps") or () if isinstance(s, dict)))
        if base is not None:
            generators.append(_Generator(stack, event.t_s, float(base), steps))
    return generators


def offered_rates(events: Sequence[Event], default_stack: str
                  ) -> dict[str, tuple[tuple[float, float], ...]]:
    """Per stack, the offered rate from each instant it changed: ``(t_s, rate_per_s)``, the
    first at the load's start. ``default_stack``: a ``load_start`` that names none."""
    generators = _generators(events, default_stack)
    rates: dict[str, tuple[tuple[float, float], ...]] = {}
    for stack in dict.fromkeys(g.stack for g in generators):
        mine = [g for g in generators if g.stack == stack]
        instants = _instants([t for g in mine for t in (g.start_s, *(a for a, _ in g.steps))])
        rates[stack] = tuple((t, sum(g.rate_at(t) for g in mine)) for t in instants)
    return rates


def load_steps(events: Sequence[Event], default_stack: str) -> tuple[LoadStep, ...]:
    """Every change of a stack's offered rate at a step's due time (a generator starting
    late is not a step), in time order."""
    due = sorted(at_s for g in _generators(events, default_stack) for at_s, _ in g.steps)
    steps = []
    for stack, changes in offered_rates(events, default_stack).items():
        for (_, before), (t_s, after) in itertools.pairwise(changes):
            if after != before and any(abs(t_s - at_s) <= _SAME_TIME_S for at_s in due):
                steps.append(LoadStep(t_s, stack, before, after))
    return tuple(sorted(steps, key=lambda step: step.at_s))


def _instants(times: Sequence[float]) -> list[float]:
    """The times in order, those within ``_SAME_TIME_S`` of the one before merged into it."""
    merged: list[float] = []
    for t_s in sorted(times):
        if not merged or t_s - merged[-1] > _SAME_TIME_S:
            merged.append(t_s)
    return merged
