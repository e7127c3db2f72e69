"""Error budgets and burn rates: the one objective model every SLO of a suite is judged by,
whether the suite wrote it in gameday's short form (availability, latency) or as an OpenSLO
v1 ``SLO`` (``gameday.openslo``).

A request is *good* when it succeeded (``ok``) and, where the objective bounds latency, its
latency from the scheduled send is within the bound; a short-form latency SLO ("p99 within
250 ms") is the same as "at least 99 % of requests within 250 ms", failed ones counted by
their latency as that SLO counts them. Requests are those of the objective's scope (all,
outside faults, during faults), warm-up excluded; labelled requests are never among them.

Budgeting methods (OpenSLO):

- Occurrences: SLI = good / total. Error budget of the run = (1 − target) × total requests;
  consumed = bad / budget (1.0: spent; above: overspent); remaining = 1 − consumed.
- Timeslices: the judged span is cut into slices of ``timeSliceWindow`` from its start (a
  last partial slice counts when it holds a request); a slice is good when its good / total
  >= ``timeSliceTarget``, a slice without requests is not counted. SLI = good slices /
  slices; budget = (1 − target) × slices; consumed = bad slices / budget.
- RatioTimeslices: SLI = the mean of the slices' good / total; budget = 1 − target;
  consumed = (1 − SLI) / budget.

Burn rate = error ratio / (1 − target) (SRE workbook): 1 spends exactly the budget over the
budgeting period. Over the run (the run is its own period): (1 − SLI) / (1 − target), which
for Occurrences and Timeslices is the budget consumed. Burn alerts count requests (bad
requests / requests in the window), whatever the budgeting method.

Burn alerts (OpenSLO ``AlertCondition`` kind ``burnrate``) are judged as the SRE workbook's
multiwindow alerts: the burn rate over the condition's ``lookbackWindow`` (the long window)
*and* over a short window of 1/12 of it must both meet ``op threshold``, continuously for
``alertAfter``. **Scaling to the run**: an objective's budgeting period T (its OpenSLO
``timeWindow``, 30 d when none is given) is compressed onto the judged span L of the run, so
each window w becomes w × L / T (a 1 h window of a 30 d period is 1/720 of the run), and no
window is shorter than the measurement bucket (``measurement.bucket_s``: below it a burn
rate is a handful of requests); the scaled windows are reported. Evaluated at the end of
every bucket of the span; a window reaching back before the span's start covers the span so
far (as an alert sees a fresh deployment). A window without requests gives no
burn rate: it fires only when the policy says ``alertWhenNoData``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from gameday.measure.arrays import BoolArray, FloatArray, IntArray, RequestArrays
from gameday.measure.sli import scope_mask
from gameday.measure.windows import FaultWindow, Scope
from gameday.openslo import ConditionSpec, OpenSlo, duration_s
from gameday.slos import AvailabilitySlo, LatencySlo

__all__ = ["DEFAULT_PERIOD_S", "SHORT_WINDOW_FRACTION", "AlertFiring", "BudgetFigures",
           "BudgetObjective", "BurnAlert", "budget_figures", "objectives_of"]

DEFAULT_PERIOD_S = 30 * 86400.0
SHORT_WINDOW_FRACTION = 1 / 12  # the SRE workbook's short window: 5 m of 1 h, 30 m of 6 h
Budgeting = Literal["occurrences", "timeslices", "ratio_timeslices"]
_OPS = {"gt": np.greater, "gte": np.greater_equal, "lt": np.less, "lte": np.less_equal}


@dataclass(frozen=True, slots=True)
class BurnAlert:
    """A burn-rate condition: burn rate ``op`` ``threshold`` over ``lookback_s`` (of the
    budgeting period) and its short window, held for ``alert_after_s``."""

    name: str
    severity: str
    op: str
    threshold: float
    lookback_s: float
    alert_after_s: float = 0.0
    when_no_data: bool = False


@dataclass(frozen=True, slots=True)
class BudgetObjective:
    """One objective: which requests are good, its target and how its budget is counted."""

    name: str
    target: float
    scope: Scope
    require_ok: bool = True
    max_latency_s: float | None = None
    latency_inclusive: bool = True  # lte (True) or lt
    budgeting: Budgeting = "occurrences"
    slice_s: float | None = None
    slice_target: float | None = None
    period_s: float = DEFAULT_PERIOD_S
    alerts: tuple[BurnAlert, ...] = ()


@dataclass(frozen=True, slots=True)
class AlertFiring:
    """How a burn alert fared in the run: its windows as scaled to the run (s), and the
    instants (epoch s) it started firing; ``max_burn_rate``: the highest long-window burn."""

    alert: BurnAlert
    long_window_s: float
    short_window_s: float
    alert_after_s: float
    fired_at_s: tuple[float, ...]
    max_burn_rate: float | None

    @property
    def fired(self) -> bool:
        return bool(self.fired_at_s)


@dataclass(frozen=True, slots=True)
class BudgetFigures:
    """An objective judged on a run (module docstring); None where nothing was judged."""

    objective: BudgetObjective
    requests: int
    good: int
    sli: float | None
    met: bool
    units: int  # requests (occurrences) or counted slices
    good_units: int
    budget: float | None  # bad units the run may have (ratio timeslices: a ratio)
    consumed: float | None
    remaining: float | None
    burn_rate: float | None
    span_s: float
    alerts: tuple[AlertFiring, ...] = field(default_factory=tuple)


def objectives_of(slo: AvailabilitySlo | LatencySlo | OpenSlo) -> list[BudgetObjective]:
    """The objective model of a short-form SLO (one) or an OpenSLO SLO (one per objective)."""
    if isinstance(slo, AvailabilitySlo):
        return [BudgetObjective(name=slo.name or "availability", target=slo.objective,
                                scope=slo.scope)]
    if isinstance(slo, LatencySlo):
        return [BudgetObjective(name=slo.name or f"latency.p{slo.percentile:g}",
                                target=slo.percentile / 100, scope=slo.scope, require_ok=False,
                                max_latency_s=slo.threshold_s)]
    return _openslo_objectives(slo)


def _openslo_objectives(slo: OpenSlo) -> list[BudgetObjective]:
    spec = slo.spec
    assert spec.indicator is not None  # validated
    indicator = spec.indicator.spec
    period_s = duration_s(spec.time_window[0].duration) if spec.time_window \
        else DEFAULT_PERIOD_S
    alerts = tuple(_alert(policy.condition, policy.spec.alert_when_no_data)
                   for policy in slo.policies)
    methods: dict[str, Budgeting] = {"Occurrences": "occurrences", "Timeslices": "timeslices",
                                     "RatioTimeslices": "ratio_timeslices"}
    budgeting = methods[spec.budgeting_method]
    rule = _good_rule(slo)
    objectives = []
    for index, objective in enumerate(spec.objectives):
        name = slo.metadata.name if len(spec.objectives) == 1 else \
            f"{slo.metadata.name}.{_slug(objective.display_name) or index}"
        max_latency_s, inclusive = rule.max_latency_s, rule.inclusive
        if indicator.threshold_metric is not None:
            max_latency_s, inclusive = objective.value, objective.op == "lte"
        objectives.append(BudgetObjective(
            name=name,
            target=objective.ratio_target, scope=rule.scope, require_ok=True,
            max_latency_s=max_latency_s, latency_inclusive=inclusive, budgeting=budgeting,
            slice_s=None if objective.time_slice_window is None else duration_s(
                objective.time_slice_window, bare_unit_s=60),
            slice_target=objective.time_slice_target, period_s=period_s, alerts=alerts))
    return objectives


def _slug(text: str) -> str:
    return "-".join(text.lower().split())


@dataclass(frozen=True, slots=True)
class _Rule:
    scope: Scope
    max_latency_s: float | None
    inclusive: bool


def _good_rule(slo: OpenSlo) -> _Rule:
    """Good requests of a ``type: gameday`` indicator (spec keys checked by the suite)."""
    assert slo.spec.indicator is not None
    indicator = slo.spec.indicator.spec
    specs = []
    max_latency_s, inclusive = None, True
    if indicator.ratio_metric is not None:
        ratio = indicator.ratio_metric
        chosen = ratio.good or ratio.bad
        assert chosen is not None and ratio.total is not None
        specs = [chosen.metric_source.spec, ratio.total.metric_source.spec]
        numerator = chosen.metric_source.spec
        if ratio.good is not None and "latency_le_s" in numerator:
            max_latency_s = float(numerator["latency_le_s"])
        if ratio.bad is not None and "latency_gt_s" in numerator:
            max_latency_s = float(numerator["latency_gt_s"])
    elif indicator.threshold_metric is not None:
        specs = [indicator.threshold_metric.metric_source.spec]
    scopes: set[Scope] = {spec.get("scope", "all") for spec in specs}  # checked: one scope
    return _Rule(scope=scopes.pop() if scopes else "all", max_latency_s=max_latency_s,
                 inclusive=inclusive)


def _alert(condition: tuple[str, ConditionSpec], when_no_data: bool) -> BurnAlert:
    name, spec = condition
    burn = spec.condition
    return BurnAlert(name=name, severity=spec.severity, op=burn.op, threshold=burn.threshold,
                     lookback_s=duration_s(burn.lookback_window),
                     alert_after_s=burn.alert_after_s, when_no_data=when_no_data)


def budget_figures(objective: BudgetObjective, arrays: RequestArrays,
                   windows: Sequence[FaultWindow], *, warmup_end_s: float | None,
                   span: tuple[float, float] | None, bucket_s: float) -> BudgetFigures:
    """Judge one objective; ``span``: the judged stretch of the run (epoch s, from the end
    of the warm-up to the last scheduled send), which the alert windows are scaled onto."""
    mask = scope_mask(arrays, windows, objective.scope, warmup_end_s=warmup_end_s)
    scheduled = arrays.scheduled_s[mask]
    good = _good(objective, arrays)[mask]
    total = int(scheduled.size)
    span_s = 0.0 if span is None else max(0.0, span[1] - span[0])
    empty = BudgetFigures(objective, 0, 0, None, False, 0, 0, None, None, None, None, span_s)
    if not total or span is None:
        return empty
    units, good_units, sli, budget, consumed = _budget(objective, scheduled, good, span)
    if sli is None:
        return empty
    allowed = 1 - objective.target
    burn = None if allowed <= 0 else (1 - sli) / allowed
    alerts = tuple(_firing(alert, objective, scheduled, good, span, bucket_s)
                   for alert in objective.alerts)
    return BudgetFigures(objective, total, int(np.count_nonzero(good)), sli,
                         sli >= objective.target, units, good_units, budget, consumed,
                         None if consumed is None else 1 - consumed, burn, span_s, alerts)


def _good(objective: BudgetObjective, arrays: RequestArrays) -> BoolArray:
    good: BoolArray = arrays.ok.copy() if objective.require_ok \
        else np.ones(arrays.ok.shape, dtype=np.bool_)
    if objective.max_latency_s is not None:
        latency = arrays.latency_s
        good &= (latency <= objective.max_latency_s) if objective.latency_inclusive \
            else (latency < objective.max_latency_s)
    return good


def _budget(objective: BudgetObjective, scheduled: FloatArray, good: BoolArray,
            span: tuple[float, float]
            ) -> tuple[int, int, float | None, float | None, float | None]:
    allowed = 1 - objective.target
    if objective.budgeting == "occurrences" or objective.slice_s is None:
        units, good_units = int(scheduled.size), int(np.count_nonzero(good))
        sli = good_units / units
        budget = allowed * units
        return units, good_units, sli, budget, _consumed(units - good_units, budget)
    index = np.floor((scheduled - span[0]) / objective.slice_s).astype(np.int64)
    index -= int(index.min())
    counts = np.bincount(index)
    goods = np.bincount(index, weights=good.astype(np.float64))
    counted = counts > 0
    ratios = goods[counted] / counts[counted]
    if not ratios.size:
        return 0, 0, None, None, None
    if objective.budgeting == "ratio_timeslices":
        sli = float(ratios.mean())
        return int(ratios.size), int(np.count_nonzero(ratios >= 1)), sli, allowed, \
            _consumed(1 - sli, allowed)
    slice_target = objective.slice_target if objective.slice_target is not None else 1.0
    good_slices = int(np.count_nonzero(ratios >= slice_target))
    slices = int(ratios.size)
    budget = allowed * slices
    return slices, good_slices, good_slices / slices, budget, \
        _consumed(slices - good_slices, budget)


def _consumed(bad: float, budget: float) -> float | None:
    if budget > 0:
        return bad / budget
    return 0.0 if bad == 0 else None  # a target of 1 has no budget: any bad unit is over it


def _firing(alert: BurnAlert, objective: BudgetObjective, scheduled: FloatArray,
            good: BoolArray, span: tuple[float, float], bucket_s: float) -> AlertFiring:
    scale = (span[1] - span[0]) / objective.period_s
    long_s = max(alert.lookback_s * scale, bucket_s)
    short_s = max(alert.lookback_s * SHORT_WINDOW_FRACTION * scale, bucket_s)
    after_s = alert.alert_after_s * scale
    allowed = 1 - objective.target
    instants = np.arange(span[0] + bucket_s, span[1] + bucket_s / 2, bucket_s)
    if not instants.size or allowed <= 0:
        return AlertFiring(alert, long_s, short_s, after_s, (), None)
    bad_cumulative = np.concatenate(([0], np.cumsum(~good)))
    long_burn = _burn(scheduled, bad_cumulative, instants, long_s, span[0], allowed)
    short_burn = _burn(scheduled, bad_cumulative, instants, short_s, span[0], allowed)
    compare = _OPS[alert.op]
    no_data = np.isnan(long_burn) | np.isnan(short_burn)
    with np.errstate(invalid="ignore"):
        firing = compare(long_burn, alert.threshold) & compare(short_burn, alert.threshold)
    firing = np.where(no_data, alert.when_no_data, firing)
    known = long_burn[~np.isnan(long_burn)]
    return AlertFiring(alert, long_s, short_s, after_s,
                       _starts(instants, firing, after_s),
                       float(known.max()) if known.size else None)


def _burn(scheduled: FloatArray, bad_cumulative: IntArray, instants: FloatArray,
          window_s: float, origin_s: float, allowed: float) -> FloatArray:
    """Burn rate over ``(t − window, t]`` by scheduled time at each instant; NaN: no request."""
    starts = np.maximum(instants - window_s, origin_s)
    low = np.searchsorted(scheduled, starts, side="right")
    high = np.searchsorted(scheduled, instants, side="right")
    counts = high - low
    bad = bad_cumulative[high] - bad_cumulative[low]
    with np.errstate(invalid="ignore", divide="ignore"):
        burn: FloatArray = np.where(counts > 0, bad / np.maximum(counts, 1) / allowed, np.nan)
    return burn


def _starts(instants: FloatArray, firing: BoolArray, after_s: float) -> tuple[float, ...]:
    """Instants at which a run of firing evaluations has lasted ``after_s``: one per run."""
    starts: list[float] = []
    run_from: float | None = None
    reported = False
    for t_s, on in zip(instants.tolist(), firing.tolist(), strict=True):
        if not on:
            run_from, reported = None, False
            continue
        if run_from is None:
            run_from = t_s
        if not reported and t_s - run_from >= after_s - 1e-9:
            starts.append(t_s)
            reported = True
    return tuple(starts)

