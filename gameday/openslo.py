"""OpenSLO v1 ``SLO`` objects in a suite (https://github.com/OpenSLO/OpenSLO, v1), read into
the one objective model every SLO of a suite is judged by (``gameday.measure.budget``).

Accepted: ``apiVersion: openslo/v1``, ``kind: SLO`` inline in ``slos:``, or in files named by
``openslo:`` (YAML, several documents: ``SLO``, ``SLI``, ``AlertPolicy`` and ``AlertCondition``
objects; ``indicatorRef``, ``alertPolicyRef`` and ``conditionRef`` resolve against them).
``indicator`` is a ``ratioMetric`` (good / total or bad / total) or a ``thresholdMetric``
whose metric source is ``type: gameday``: the run's own request records. Its ``spec``:

- ratio ``good``: ``{requests: ok}`` (optionally ``latency_le_s``: ok and at most that slow),
  ``bad``: ``{requests: failed}`` (optionally ``latency_gt_s``: failed, or slower than that),
  ``total``: ``{requests: all}``;
- threshold: ``{metric: latency_s}``, the objective's ``op`` (lt, lte) and ``value`` (s): a
  request is good when its latency from the scheduled send meets it (and it did not fail);
- in any of them: ``stack``, ``endpoint`` (which requests count; the same in each part) and
  ``scope``: ``all`` (default), ``outside_faults`` or ``during_faults``.

Any other source type (Prometheus, Datadog, ...) is refused naming the field: the harness
judges the records it wrote, not a monitoring system's view. ``budgetingMethod`` Occurrences,
Timeslices and RatioTimeslices; ``timeWindow`` (one item) is the budgeting period the alert
windows are scaled from (``gameday.measure.budget``); its ``calendar`` is read and not used (a
run is its own period). Durations are OpenSLO's shorthand (``5m``, ``1h``, ``28d``, ``1w``,
``1M`` = 30 d, ``1Q`` = 90 d, ``1Y`` = 365 d), plus ``s`` for seconds (a run lasts minutes);
a bare number of ``timeSliceWindow`` is minutes, as the spec says. Composite SLOs (an
``indicator`` per objective) are refused. ``alertPolicies`` burn-rate conditions become the
objective's burn alerts (op, threshold, lookbackWindow, alertAfter, severity).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ConfigDict, Field, model_validator

from gameday.strict import Strict
from gameday.strict import relative_field_error as _field_error

__all__ = ["API_VERSION", "AlertPolicy", "BurnCondition", "ConditionSpec", "OpenSlo", "duration_s",
           "expand_openslo", "read_openslo_file"]

API_VERSION = "openslo/v1"
_UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "M": 30 * 86400,
            "Q": 90 * 86400, "Y": 365 * 86400}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdwMQY])$")
Op = Literal["lt", "lte", "gt", "gte"]


def duration_s(text: str | float | int, *, bare_unit_s: float | None = None) -> float:
    """Seconds of an OpenSLO duration shorthand; ValueError naming what was expected."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        if bare_unit_s is None:
            raise ValueError(f"expected a duration such as 5m, 1h or 28d, got {text!r}")
        seconds = float(text) * bare_unit_s
    else:
        match = _DURATION.match(str(text).strip())
        if not match:
            raise ValueError(f"expected a duration such as 30s, 5m, 1h, 28d, 1w or 1M, got "
                             f"{text!r}")
        seconds = float(match.group(1)) * _UNITS_S[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"expected a positive duration, got {text!r}")
    return seconds


class _Open(Strict):
    """OpenSLO objects are camelCase; unknown keys are still errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Metadata(_Open):
    name: str = Field(min_length=1, max_length=63)
    display_name: str = Field("", alias="displayName")
    labels: dict[str, Any] = Field(default_factory=dict)
    annotations: dict[str, Any] = Field(default_factory=dict)


class MetricSource(_Open):
    type: str = "gameday"
    metric_source_ref: str = Field("", alias="metricSourceRef")
    spec: dict[str, Any] = Field(default_factory=dict)

    @property
    def ours(self) -> bool:
        return self.type.lower() == "gameday" and not self.metric_source_ref


class Query(_Open):
    metric_source: MetricSource = Field(alias="metricSource")


class RatioMetric(_Open):
    counter: bool = True
    good: Query | None = None
    bad: Query | None = None
    total: Query | None = None
    raw: Query | None = None
    raw_type: Literal["success", "failure"] | None = Field(None, alias="rawType")

    @model_validator(mode="after")
    def _parts(self) -> RatioMetric:
        if self.raw is not None or self.raw_type is not None:
            raise _field_error("raw", "a precomputed ratio has no source here: give good (or "
                                      "bad) and total")
        if (self.good is None) == (self.bad is None):
            raise _field_error("good", "give exactly one of good and bad, with total")
        if self.total is None:
            raise _field_error("total", "required key is missing")
        return self


class ThresholdMetric(_Open):
    metric_source: MetricSource = Field(alias="metricSource")


class SliSpec(_Open):
    description: str = Field("", max_length=1050)
    ratio_metric: RatioMetric | None = Field(None, alias="ratioMetric")
    threshold_metric: ThresholdMetric | None = Field(None, alias="thresholdMetric")

    @model_validator(mode="after")
    def _one(self) -> SliSpec:
        if (self.ratio_metric is None) == (self.threshold_metric is None):
            raise _field_error("ratioMetric", "give exactly one of ratioMetric and "
                                              "thresholdMetric")
        return self


class Sli(_Open):
    api_version: Literal["openslo/v1"] | None = Field(None, alias="apiVersion")
    kind: Literal["SLI"] | None = None
    metadata: Metadata | None = None
    spec: SliSpec


class TimeWindow(_Open):
    duration: str
    is_rolling: bool | None = Field(None, alias="isRolling")
    calendar: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _duration(self) -> TimeWindow:
        try:
            duration_s(self.duration)
        except ValueError as exc:
            raise _field_error("duration", str(exc)) from None
        return self


class Objective(_Open):
    display_name: str = Field("", alias="displayName")
    op: Op | None = None
    value: float | None = None
    target: float | None = Field(None, ge=0, lt=1)
    target_percent: float | None = Field(None, alias="targetPercent", ge=0, lt=100)
    time_slice_target: float | None = Field(None, alias="timeSliceTarget", gt=0, le=1)
    time_slice_window: str | float | None = Field(None, alias="timeSliceWindow")
    indicator: Any = None
    indicator_ref: str | None = Field(None, alias="indicatorRef")
    composite_weight: float | None = Field(None, alias="compositeWeight")

    @model_validator(mode="after")
    def _target(self) -> Objective:
        if (self.target is None) == (self.target_percent is None):
            raise _field_error("target", "give exactly one of target and targetPercent")
        if self.indicator is not None or self.indicator_ref is not None \
                or self.composite_weight is not None:
            raise _field_error("indicator", "composite SLOs (an indicator per objective) are "
                                            "not judged: give the SLO one indicator")
        if self.time_slice_window is not None:
            try:
                duration_s(self.time_slice_window, bare_unit_s=60)
            except ValueError as exc:
                raise _field_error("timeSliceWindow", str(exc)) from None
        return self

    @property
    def ratio_target(self) -> float:
        return self.target if self.target is not None else (self.target_percent or 0) / 100


class BurnCondition(_Open):
    kind: Literal["burnrate"] = "burnrate"
    op: Op
    threshold: float = Field(gt=0)
    lookback_window: str = Field(alias="lookbackWindow")
    alert_after: str = Field("0m", alias="alertAfter")

    @model_validator(mode="after")
    def _windows(self) -> BurnCondition:
        try:
            duration_s(self.lookback_window)
        except ValueError as exc:
            raise _field_error("lookbackWindow", str(exc)) from None
        if self.alert_after.strip() not in ("0", "0m", "0s"):
            try:
                duration_s(self.alert_after)
            except ValueError as exc:
                raise _field_error("alertAfter", str(exc)) from None
        return self

    @property
    def alert_after_s(self) -> float:
        return 0.0 if self.alert_after.strip() in ("0", "0m", "0s") \
            else duration_s(self.alert_after)


class ConditionSpec(_Open):
    description: str = Field("", max_length=1050)
    severity: str = Field(min_length=1)
    condition: BurnCondition


class AlertCondition(_Open):
    api_version: Literal["openslo/v1"] | None = Field(None, alias="apiVersion")
    kind: Literal["AlertCondition"] = "AlertCondition"
    metadata: Metadata
    spec: ConditionSpec


class ConditionItem(_Open):
    kind: Literal["AlertCondition"] | None = None
    metadata: Metadata | None = None
    spec: ConditionSpec | None = None
    condition_ref: str | None = Field(None, alias="conditionRef")

    @model_validator(mode="after")
    def _inline(self) -> ConditionItem:
        if self.condition_ref is not None:
            raise _field_error("conditionRef", f"no AlertCondition named {self.condition_ref!r} "
                                               "in the suite's `openslo` files")
        if self.spec is None:
            raise _field_error("spec", "an inline alert condition needs its spec")
        return self


class AlertPolicySpec(_Open):
    description: str = Field("", max_length=1050)
    alert_when_no_data: bool = Field(False, alias="alertWhenNoData")
    alert_when_resolved: bool = Field(False, alias="alertWhenResolved")
    alert_when_breaching: bool = Field(True, alias="alertWhenBreaching")
    conditions: list[ConditionItem] = Field(min_length=1, max_length=1)
    notification_targets: list[dict[str, Any]] = Field(default_factory=list,
                                                       alias="notificationTargets")


class AlertPolicy(_Open):
    api_version: Literal["openslo/v1"] | None = Field(None, alias="apiVersion")
    kind: Literal["AlertPolicy"] = "AlertPolicy"
    metadata: Metadata
    spec: AlertPolicySpec

    @property
    def condition(self) -> tuple[str, ConditionSpec]:
        """(name, spec) of its one inline condition (refs are resolved before validation)."""
        item = self.spec.conditions[0]
        if item.spec is None:
            raise ValueError(f"alert policy {self.metadata.name}: condition not resolved")
        name = item.metadata.name if item.metadata else self.metadata.name
        return name, item.spec


class PolicyItem(_Open):
    api_version: Literal["openslo/v1"] | None = Field(None, alias="apiVersion")
    kind: Literal["AlertPolicy"] | None = None
    metadata: Metadata | None = None
    spec: AlertPolicySpec | None = None
    alert_policy_ref: str | None = Field(None, alias="alertPolicyRef")

    @model_validator(mode="after")
    def _inline(self) -> PolicyItem:
        if self.alert_policy_ref is not None:
            raise _field_error("alertPolicyRef", f"no AlertPolicy named "
                                                 f"{self.alert_policy_ref!r} in the suite's "
                                                 "`openslo` files")
        if self.metadata is None or self.spec is None:
            raise _field_error("spec", "an inline alert policy needs metadata and spec")
        return self

    def policy(self) -> AlertPolicy:
        assert self.metadata is not None and self.spec is not None
        return AlertPolicy(metadata=self.metadata, spec=self.spec)


class SloSpec(_Open):
    description: str = Field("", max_length=1050)
    service: str = ""
    indicator: Sli | None = None
    indicator_ref: str | None = Field(None, alias="indicatorRef")
    time_window: list[TimeWindow] = Field(default_factory=list, alias="timeWindow",
                                          max_length=1)
    budgeting_method: Literal["Occurrences", "Timeslices", "RatioTimeslices"] = Field(
        alias="budgetingMethod")
    objectives: list[Objective] = Field(min_length=1)
    alert_policies: list[PolicyItem] | None = Field(None, alias="alertPolicies")

    @model_validator(mode="after")
    def _check(self) -> SloSpec:
        if self.indicator is None:
            raise _field_error("indicatorRef" if self.indicator_ref else "indicator",
                               f"no SLI named {self.indicator_ref!r} in the suite's `openslo` "
                               "files" if self.indicator_ref else "required key is missing")
        threshold = self.indicator.spec.threshold_metric is not None
        if threshold and len(self.objectives) != 1:
            raise _field_error("objectives", "a thresholdMetric SLO has exactly one objective")
        for index, objective in enumerate(self.objectives):
            if threshold and (objective.op not in ("lt", "lte") or objective.value is None):
                raise _field_error(f"objectives.{index}.op",
                                   "a latency threshold needs `op: lt` or `lte` and `value` "
                                   "(seconds)")
            if self.budgeting_method != "Occurrences" and objective.time_slice_window is None:
                raise _field_error(f"objectives.{index}.timeSliceWindow",
                                   f"required with budgetingMethod {self.budgeting_method}")
            if self.budgeting_method == "Timeslices" and objective.time_slice_target is None:
                raise _field_error(f"objectives.{index}.timeSliceTarget",
                                   "required with budgetingMethod Timeslices")
        return self


class OpenSlo(_Open):
    """One OpenSLO v1 SLO object (``kind: SLO`` tells it from gameday's own SLO forms)."""

    api_version: Literal["openslo/v1"] = Field(alias="apiVersion")
    kind: Literal["SLO"]
    metadata: Metadata
    spec: SloSpec

    def foreign_sources(self) -> list[tuple[str, str]]:
        """(field path under the SLO, source type) of each metric source that is not the
        run's records: a suite refuses them (the spec's examples parse with ``type: Any``)."""
        indicator = self.spec.indicator
        if indicator is None:
            return []
        ratio, threshold = indicator.spec.ratio_metric, indicator.spec.threshold_metric
        parts: list[tuple[str, MetricSource]] = []
        if ratio is not None:
            parts += [(f"ratioMetric.{name}", query.metric_source) for name, query in
                      (("good", ratio.good), ("bad", ratio.bad), ("total", ratio.total))
                      if query is not None]
        if threshold is not None:
            parts.append(("thresholdMetric", threshold.metric_source))
        return [(f"spec.indicator.spec.{where}.metricSource.type", source.type or
                 source.metric_source_ref) for where, source in parts if not source.ours]

    @model_validator(mode="after")
    def _our_specs(self) -> OpenSlo:
        indicator = self.spec.indicator
        if indicator is None:
            return self
        ratio, threshold = indicator.spec.ratio_metric, indicator.spec.threshold_metric
        parts: list[tuple[str, str, Query | ThresholdMetric]] = []
        if ratio is not None:
            parts += [(name, name, query) for name, query in
                      (("good", ratio.good), ("bad", ratio.bad), ("total", ratio.total))
                      if query is not None]
        if threshold is not None:
            parts.append(("thresholdMetric", "threshold", threshold))
        scopes = set()
        for where, role, part in parts:
            source = part.metric_source
            if not source.ours:
                continue
            prefix = "spec.indicator.spec." + (where if role == "threshold"
                                               else f"ratioMetric.{where}")
            _check_spec(source.spec, role, f"{prefix}.metricSource.spec")
            scopes.add(source.spec.get("scope", "all"))
        if len(scopes) > 1:
            raise _field_error("spec.indicator", f"every part of the indicator must judge the "
                                                 f"same scope, got {sorted(scopes)}")
        return self

    @property
    def policies(self) -> tuple[AlertPolicy, ...]:
        return tuple(item.policy() for item in self.spec.alert_policies or ())


_SPEC_KEYS: dict[str, dict[str, tuple[str, ...] | None]] = {
    "good": {"requests": ("ok",), "latency_le_s": None},
    "bad": {"requests": ("failed",), "latency_gt_s": None},
    "total": {"requests": ("all",)},
    "threshold": {"metric": ("latency_s",)}}


def _check_spec(spec: dict[str, Any], role: str, where: str) -> None:
    """A ``type: gameday`` source's spec: its keys, their values (module docstring)."""
    allowed: dict[str, tuple[str, ...] | None] = {
        **_SPEC_KEYS[role], "scope": ("all", "outside_faults", "during_faults")}
    for key, value in spec.items():
        if key not in allowed:
            raise _field_error(f"{where}.{key}", f"unknown key (expected one of "
                                                 f"{sorted(allowed)})")
        choices = allowed[key]
        if choices is None:
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise _field_error(f"{where}.{key}", f"expected seconds > 0, got {value!r}")
        elif value not in choices:
            raise _field_error(f"{where}.{key}", f"expected one of {list(choices)}, got "
                                                 f"{value!r}")
    required = "metric" if role == "threshold" else "requests"
    if required not in spec:
        raise _field_error(f"{where}.{required}", "required key is missing")


def expand_openslo(documents: list[Any], *, source: str) -> list[dict[str, Any]]:
    """The SLO objects of an ``openslo`` file's documents, with ``indicatorRef``,
    ``alertPolicyRef`` and ``conditionRef`` replaced by the objects they name (a missing one
    is left for validation to name). ValueError for a document that is not an OpenSLO v1
    object."""
    named: dict[str, dict[str, dict[str, Any]]] = {"SLI": {}, "AlertPolicy": {},
                                                   "AlertCondition": {}}
    slos = []
    for number, document in enumerate(documents):
        if document is None:
            continue
        if not isinstance(document, dict) or document.get("apiVersion") != API_VERSION:
            raise ValueError(f"{source}: document {number + 1}: expected an OpenSLO object "
                             f"with apiVersion {API_VERSION}")
        kind = document.get("kind")
        if kind == "SLO":
            slos.append(document)
        elif kind in named:
            name = (document.get("metadata") or {}).get("name")
            named[kind][str(name)] = document
        elif kind not in ("Service", "DataSource", "AlertNotificationTarget"):
            raise ValueError(f"{source}: document {number + 1}: unknown OpenSLO kind {kind!r}")
    return [_resolve(slo, named) for slo in slos]


def _resolve(slo: dict[str, Any], named: dict[str, dict[str, dict[str, Any]]]
             ) -> dict[str, Any]:
    spec = dict(slo.get("spec") or {})
    ref = spec.get("indicatorRef")
    if spec.get("indicator") is None and ref in named["SLI"]:
        spec["indicator"] = named["SLI"][ref]
        del spec["indicatorRef"]
    policies = []
    for item in spec.get("alertPolicies") or []:
        policy = named["AlertPolicy"].get(str(item.get("alertPolicyRef"))) \
            if isinstance(item, dict) else None
        policy = dict(policy) if policy is not None else item
        if isinstance(policy, dict) and isinstance(policy.get("spec"), dict):
            policy_spec = dict(policy["spec"])
            policy_spec["conditions"] = [
                _condition(c, named["AlertCondition"]) for c in policy_spec.get("conditions")
                or []]
            policy["spec"] = policy_spec
        policies.append(policy)
    if "alertPolicies" in spec:
        spec["alertPolicies"] = policies
    return {**slo, "spec": spec}


def _condition(item: Any, conditions: dict[str, dict[str, Any]]) -> Any:
    if isinstance(item, dict) and item.get("conditionRef") in conditions:
        found = conditions[item["conditionRef"]]
        return {"kind": "AlertCondition", "metadata": found.get("metadata"),
                "spec": found.get("spec")}
    return item


def read_openslo_file(path: Path) -> list[dict[str, Any]]:
    """Every SLO of one OpenSLO file (YAML, any number of documents), refs resolved."""
    return expand_openslo(list(yaml.safe_load_all(path.read_text())), source=str(path))
