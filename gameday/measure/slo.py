"""Judge a run against the suite's SLOs: one result per availability or latency SLO, one per
scenario for each RTO, RPO, write RTO or split-brain SLO, one per cost or WAF SLO. Each result
becomes a JUnit test case, named by ``case_name``: a name without thresholds, so that tightening
an objective keeps the test's history in CI. A database, cost or WAF figure that could not be
measured fails its SLO, with ``measurement_error`` saying why: it never passes silently."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from gameday.config import (
    AvailabilitySlo,
    DegradedShareSlo,
    LatencySlo,
    QualitySlo,
    RpoSlo,
    RtoSlo,
    SplitBrainSlo,
    Suite,
    TtftSlo,
    WriteRtoSlo,
)
from gameday.measure.arrays import RequestArrays, Requests, percentile
from gameday.measure.budget import BudgetFigures, BudgetObjective, budget_figures, objectives_of
from gameday.measure.cost import CostFigures
from gameday.measure.cost_slo import judge_cost_slo
from gameday.measure.database import DatabaseFigures, ScenarioDatabase
from gameday.measure.rag import Answers
from gameday.measure.rag_slo import RagSlo, judge_rag_slo
from gameday.measure.rto import Rto, scenario_rtos
from gameday.measure.sli import scope_requests
from gameday.measure.waf import WafVerdicts
from gameday.measure.waf_slo import judge_waf_slo
from gameday.measure.windows import FaultWindow, fault_windows, scope_span_s, warmup_end_s
from gameday.openslo import OpenSlo
from gameday.records import Event
from gameday.slos import CostSlo, WafSlo

__all__ = ["AnySlo", "SloResult", "evaluate_slos", "slo_case_name", "slo_name"]

AnySlo = (AvailabilitySlo | LatencySlo | RtoSlo | RpoSlo | WriteRtoSlo | SplitBrainSlo
          | TtftSlo | QualitySlo | DegradedShareSlo | CostSlo | WafSlo | OpenSlo)
_DatabaseSlo = RpoSlo | WriteRtoSlo | SplitBrainSlo


@dataclass(frozen=True, slots=True)
class SloResult:
    """The verdict on one SLO; ``objective`` is a fraction (availability) or seconds.

    ``name`` is for people (it says the objective); ``case_name`` is the stable test name.
    ``span_s``: seconds of load the SLO judged (its scope, warm-up excluded); None for RTO.
    ``parts``: the figure's parts and the objective's other limits, units in the names
    (``lost``, ``detect_s``, ...); ``measurement_error``: why the figure could not be
    measured ("" when it was), the SLO then failed.
    """

    name: str
    case_name: str
    kind: str  # availability | latency | rto | rpo | write_rto | split_brain | ttft | cost ...
    scenario: str  # "" for a run-wide SLO
    scope: str  # "all" | "outside_faults" | "during_faults"; "" for the others
    objective: float  # rpo: max_seconds; split_brain: 0 s
    measured: float | None  # None: nothing to measure (no requests, never recovered)
    passed: bool
    message: str
    span_s: float | None = None
    parts: Mapping[str, float | None] = field(default_factory=dict, hash=False)
    measurement_error: str = ""


def evaluate_slos(suite: Suite, requests: Requests, events: Sequence[Event],
                  database: DatabaseFigures | None = None,
                  answers: Answers | None = None,
                  cost: CostFigures | None = None,
                  waf: WafVerdicts | None = None) -> list[SloResult]:
    """Every SLO of the suite, in suite order; warm-up requests do not count. ``database``:
    the run's database figures (None: none were recorded, so database SLOs are not met);
    ``answers``: the RAG stack's answers (None: none recorded, so RAG SLOs are not met);
    ``cost``: the run's cost figures (None: not measured, so cost SLOs are not met); ``waf``:
    the WAF's verdicts on the labelled requests (None: none, so WAF SLOs are not met)."""
    arrays = RequestArrays.coerce(requests)
    windows = fault_windows(events)
    first_s = float(arrays.scheduled_s[0]) if len(arrays) else None
    warmup_s = warmup_end_s(events, first_s, suite.primary_load.warmup_s)
    rtos = scenario_rtos(arrays, windows, suite)
    results: list[SloResult] = []
    for slo in suite.slos:
        if isinstance(slo, RtoSlo):
            results.extend(_rto_result(slo, scenario.name, rtos.get(scenario.name))
                           for scenario in suite.scenarios)
        elif isinstance(slo, RpoSlo | WriteRtoSlo | SplitBrainSlo):
            results.extend(_database_results(slo, suite, database))
        elif isinstance(slo, CostSlo):
            results.append(_cost_result(slo, cost))
        elif isinstance(slo, WafSlo):
            results.append(_waf_result(slo, waf))
        elif isinstance(slo, OpenSlo):
            results.extend(_budget_result(objective, arrays, windows, warmup_s,
                                          suite.measurement.bucket_s)
                           for objective in objectives_of(slo))
        else:
            span_s = scope_span_s(windows, slo.scope, warmup_s if warmup_s is not None else 0.0,
                                  float(arrays.scheduled_s[-1])) if len(arrays) else 0.0
            results.append(_rag_result(slo, answers, windows, warmup_s, span_s)
                           if isinstance(slo, TtftSlo | QualitySlo | DegradedShareSlo)
                           else _with_budget(_run_wide_result(slo, arrays, windows, warmup_s,
                                                              span_s),
                                             _budget_of(slo, arrays, windows, warmup_s,
                                                        suite.measurement.bucket_s)))
    return results


def slo_name(slo: AnySlo, scenario: str = "") -> str:
    """The suite's name for the SLO, else one that says what it asks for."""
    if isinstance(slo, OpenSlo):
        return f"openslo:{slo.metadata.name}"
    if isinstance(slo, RtoSlo | WriteRtoSlo):
        return f"{slo.name or f'{slo.kind}<={slo.threshold_s:g}s'}[{scenario}]"
    if isinstance(slo, RpoSlo):
        return f"{slo.name or f'rpo(lost<={slo.max_lost},<={slo.max_seconds:g}s)'}[{scenario}]"
    if isinstance(slo, SplitBrainSlo):
        named = slo.name or "split_brain=0"
        return f"{named}[{scenario}]" if scenario else named
    if slo.name:
        return slo.name
    if isinstance(slo, AvailabilitySlo):
        return f"availability>={slo.objective * 100:.10g}%({slo.scope})"
    if isinstance(slo, TtftSlo):
        return f"ttft.p{slo.percentile:g}<={slo.threshold_s * 1000:.10g}ms({slo.scope})"
    if isinstance(slo, QualitySlo):
        return f"{slo.metric}>={slo.objective:.10g}({slo.scope})"
    if isinstance(slo, DegradedShareSlo):
        return f"degraded<={slo.max_share * 100:.10g}%({slo.scope})"
    if isinstance(slo, CostSlo):
        return f"cost.{slo.stack}.{slo.region}<={slo.max_per_1k:.10g}/1k({slo.scope})"
    if isinstance(slo, WafSlo):
        return (f"waf.{slo.attack_class}.{slo.count}>={slo.min_blocked_rate * 100:.10g}%,"
                f"fp<={slo.max_false_positive_rate * 100:.10g}%")
    return f"p{slo.percentile:g}<={slo.threshold_s * 1000:.10g}ms({slo.scope})"


def slo_case_name(slo: AnySlo) -> str:
    """The suite's name for the SLO, else what it measures without its threshold:
    ``rto``, ``rpo``, ``write_rto``, ``split_brain``, ``availability.outside_faults``,
    ``latency.p99.outside_faults``."""
    if isinstance(slo, OpenSlo):
        return f"openslo.{slo.metadata.name}"
    if slo.name:
        return slo.name
    if isinstance(slo, RtoSlo | RpoSlo | WriteRtoSlo | SplitBrainSlo):
        return slo.kind
    if isinstance(slo, AvailabilitySlo):
        return f"availability.{slo.scope}"
    if isinstance(slo, TtftSlo):
        return f"ttft.p{slo.percentile:g}.{slo.scope}"
    if isinstance(slo, QualitySlo):
        return f"quality.{slo.metric}.{slo.scope}"
    if isinstance(slo, DegradedShareSlo):
        return f"degraded_share.{slo.scope}"
    if isinstance(slo, CostSlo):
        return f"cost.{slo.stack}.{slo.region}.{slo.scope}"
    if isinstance(slo, WafSlo):
        return f"waf.{slo.attack_class}.{slo.count}"
    return f"latency.p{slo.percentile:g}.{slo.scope}"


def _run_wide_result(slo: AvailabilitySlo | LatencySlo, arrays: RequestArrays,
                     windows: Sequence[FaultWindow], warmup_s: float | None,
                     span_s: float) -> SloResult:
    judged = scope_requests(arrays, windows, slo.scope, warmup_end_s=warmup_s)
    count = len(judged)
    objective = slo.objective if isinstance(slo, AvailabilitySlo) else slo.threshold_s
    if count == 0:
        return SloResult(slo_name(slo), slo_case_name(slo), slo.kind, "", slo.scope, objective,
                         None, False,
                         f"no requests to judge in scope {slo.scope} (warm-up excluded)", span_s)
    if isinstance(slo, AvailabilitySlo):
        failed = count - int(np.count_nonzero(judged.ok))
        measured = 1 - failed / count
        passed = measured >= slo.objective
        verb = "meets" if passed else "misses"
        message = (f"{measured:.3%} of {count} requests ok ({failed} failed): "
                   f"{verb} the objective {slo.objective:.3%}")
    else:
        latency_s = percentile(judged.latency_s, slo.percentile)
        measured = 0.0 if latency_s is None else latency_s  # None only when count == 0
        passed = measured <= slo.threshold_s
        relation = "within" if passed else "above"
        message = (f"p{slo.percentile:g} latency {measured * 1000:.1f} ms over {count} requests: "
                   f"{relation} the threshold {slo.threshold_s * 1000:g} ms")
    return SloResult(slo_name(slo), slo_case_name(slo), slo.kind, "", slo.scope, objective,
                     measured, passed, message, span_s)


def _rag_result(slo: RagSlo, answers: Answers | None, windows: Sequence[FaultWindow],
                warmup_s: float | None, span_s: float) -> SloResult:
    measured, passed, message, _ = judge_rag_slo(slo, answers, windows, warmup_s)
    objective = slo.max_share if isinstance(slo, DegradedShareSlo) else (
        slo.threshold_s if isinstance(slo, TtftSlo) else slo.objective)
    return SloResult(slo_name(slo), slo_case_name(slo), slo.kind, "", slo.scope, objective,
                     measured, passed, message, span_s)


def _cost_result(slo: CostSlo, cost: CostFigures | None) -> SloResult:
    verdict = judge_cost_slo(slo, cost)
    phase = None if cost is None else next((p for p in cost.phases if p.key == slo.scope), None)
    return SloResult(slo_name(slo), slo_case_name(slo), "cost", "", slo.scope, slo.max_per_1k,
                     verdict.measured, verdict.passed, verdict.message,
                     None if phase is None else phase.seconds, verdict.parts,
                     verdict.measurement_error)


def _waf_result(slo: WafSlo, waf: WafVerdicts | None) -> SloResult:
    verdict = judge_waf_slo(slo, waf)
    return SloResult(slo_name(slo), slo_case_name(slo), "waf", "", "", slo.min_blocked_rate,
                     verdict.measured, verdict.passed, verdict.message, None, verdict.parts,
                     verdict.measurement_error)


def _span(arrays: RequestArrays, warmup_s: float | None) -> tuple[float, float] | None:
    if not len(arrays):
        return None
    first_s = float(arrays.scheduled_s[0])
    return max(first_s, warmup_s) if warmup_s is not None else first_s, \
        float(arrays.scheduled_s[-1])


def _budget_of(slo: AvailabilitySlo | LatencySlo, arrays: RequestArrays,
               windows: Sequence[FaultWindow], warmup_s: float | None,
               bucket_s: float) -> BudgetFigures:
    (objective,) = objectives_of(slo)
    return budget_figures(objective, arrays, windows, warmup_end_s=warmup_s,
                          span=_span(arrays, warmup_s), bucket_s=bucket_s)


def _budget_parts(figures: BudgetFigures) -> dict[str, float | None]:
    parts: dict[str, float | None] = {
        "sli": figures.sli, "target": figures.objective.target,
        "budget": figures.budget, "budget_consumed": figures.consumed,
        "budget_remaining": figures.remaining, "burn_rate": figures.burn_rate,
        "units": figures.units, "good_units": figures.good_units}
    for firing in figures.alerts:
        key = f"alert.{firing.alert.name}"
        parts[f"{key}.long_window_s"] = firing.long_window_s
        parts[f"{key}.short_window_s"] = firing.short_window_s
        parts[f"{key}.max_burn_rate"] = firing.max_burn_rate
        parts[f"{key}.first_fired_s"] = firing.fired_at_s[0] if firing.fired else None
    return parts


def _with_budget(result: SloResult, figures: BudgetFigures) -> SloResult:
    return replace(result, parts={**result.parts, **_budget_parts(figures)})


def _budget_result(objective: BudgetObjective, arrays: RequestArrays,
                   windows: Sequence[FaultWindow], warmup_s: float | None,
                   bucket_s: float) -> SloResult:
    span = _span(arrays, warmup_s)
    figures = budget_figures(objective, arrays, windows, warmup_end_s=warmup_s, span=span,
                             bucket_s=bucket_s)
    name, case = f"openslo:{objective.name}", f"openslo.{objective.name}"
    if figures.sli is None:
        return SloResult(name, case, "openslo", "", objective.scope, objective.target, None,
                         False, f"no requests to judge in scope {objective.scope} (warm-up "
                                "excluded)", figures.span_s, _budget_parts(figures),
                         "no requests in scope")
    method = objective.budgeting.replace("_", " ")
    spent = "no budget (target 1)" if figures.consumed is None else \
        f"{figures.consumed:.0%} of the error budget spent"
    burn = "" if figures.burn_rate is None else f", burn rate {figures.burn_rate:.2f}x"
    alerts = "".join(
        f"; alert {f.alert.name} ({f.alert.severity}, burn {f.alert.op} "
        f"{f.alert.threshold:g} over {f.long_window_s:g} s/{f.short_window_s:g} s) "
        + (f"fired at +{f.fired_at_s[0] - span[0]:.1f} s" if f.fired and span else "did not fire")
        for f in figures.alerts)
    unit = "requests" if objective.budgeting == "occurrences" else "slices"
    verb = "meets" if figures.met else "misses"
    return SloResult(name, case, "openslo", "", objective.scope, objective.target, figures.sli,
                     figures.met,
                     f"{figures.good_units} of {figures.units} {unit} good ({method}): SLI "
                     f"{figures.sli:.3%} {verb} the target {objective.target:.3%}; {spent}"
                     f"{burn}{alerts}", figures.span_s, _budget_parts(figures))


def _rto_result(slo: RtoSlo, scenario: str, rto: Rto | None) -> SloResult:
    name, case = slo_name(slo, scenario), slo_case_name(slo)
    if rto is None:
        return SloResult(name, case, "rto", scenario, "", slo.threshold_s, None, False,
                         "the fault never started (no fault_start event): nothing was tested")
    if not rto.recovered or rto.rto_s is None:
        return SloResult(name, case, "rto", scenario, "", slo.threshold_s, None, False,
                         f"never recovered: no {rto.stability_window_s:g} s stretch of good "
                         f"requests after the fault ({rto.bad_requests} bad requests after it)")
    passed = rto.rto_s <= slo.threshold_s
    relation = "within" if passed else "over"
    return SloResult(name, case, "rto", scenario, "", slo.threshold_s, rto.rto_s, passed,
                     f"recovered {rto.rto_s:.2f} s after the fault ({_parts(rto)}): "
                     f"{relation} the objective {slo.threshold_s:g} s")


def _parts(rto: Rto) -> str:
    def show(value: float | None) -> str:
        return "none" if value is None else f"{value:.2f} s"
    return (f"detect {show(rto.detect_s)}, failover {show(rto.failover_s)}, "
            f"{rto.bad_requests} bad requests")


def _database_results(slo: _DatabaseSlo, suite: Suite,
                      database: DatabaseFigures | None) -> list[SloResult]:
    """One result per scenario (split brain without scenarios: one for the run)."""
    if isinstance(slo, SplitBrainSlo) and not suite.scenarios:
        return [_split_brain_result(slo, "", database, None)]
    results = []
    for scenario in suite.scenarios:
        figures = None if database is None else database.scenario(scenario.name)
        if isinstance(slo, RpoSlo):
            results.append(_rpo_result(slo, scenario.name, figures))
        elif isinstance(slo, WriteRtoSlo):
            results.append(_write_rto_result(slo, scenario.name, figures))
        else:
            results.append(_split_brain_result(slo, scenario.name, database, figures))
    return results


def _not_measured(slo: _DatabaseSlo, scenario: str, objective: float, why: str,
                  parts: Mapping[str, float | None]) -> SloResult:
    return SloResult(slo_name(slo, scenario), slo_case_name(slo), slo.kind, scenario, "",
                     objective, None, False, f"not measured: {why}", parts=dict(parts),
                     measurement_error=why)


_NO_DATABASE = "the run recorded no database data (no db.jsonl, audit.json or writes)"


def _rpo_result(slo: RpoSlo, scenario: str, figures: ScenarioDatabase | None) -> SloResult:
    limits: dict[str, float | None] = {"max_lost": slo.max_lost,
                                       "max_seconds": slo.max_seconds}
    rpo = None if figures is None else figures.rpo
    if figures is None or rpo is None:
        why = _NO_DATABASE if figures is None else figures.rpo_error
        return _not_measured(slo, scenario, slo.max_seconds, why, limits)
    passed = rpo.lost_count <= slo.max_lost and rpo.rpo_s <= slo.max_seconds
    relation = "within" if passed else "over"
    parts = {**limits, "rpo_s": rpo.rpo_s, "lost": rpo.lost_count, "unknown": len(rpo.unknown),
             "acknowledged": rpo.acknowledged, "present": rpo.present,
             "lost_after_fault": rpo.lost_after_fault}
    first = f" (first lost seq {rpo.lost[0]})" if rpo.lost else ""
    return SloResult(slo_name(slo, scenario), slo_case_name(slo), "rpo", scenario, "",
                     slo.max_seconds, rpo.rpo_s, passed,
                     f"{rpo.lost_count} of {rpo.acknowledged} acknowledged writes lost{first}, "
                     f"RPO {rpo.rpo_s:.3f} s, {len(rpo.unknown)} unknown (present, never "
                     f"acknowledged; not a loss): {relation} the objective (at most "
                     f"{slo.max_lost} lost, RPO <= {slo.max_seconds:g} s)", parts=parts)


def _write_rto_result(slo: WriteRtoSlo, scenario: str,
                      figures: ScenarioDatabase | None) -> SloResult:
    rto = None if figures is None else figures.write_rto
    parts: dict[str, float | None] = {} if rto is None else {
        "write_rto_s": rto.write_rto_s, "detect_s": rto.detect_s, "promote_s": rto.promote_s,
        "failed_writes": rto.failed_writes}
    if figures is None or rto is None or rto.write_rto_s is None:
        why = _NO_DATABASE if figures is None else figures.write_rto_error
        return _not_measured(slo, scenario, slo.threshold_s, why, parts)
    passed = rto.write_rto_s <= slo.threshold_s
    who = figures.new_primary or f"{figures.primary_before} (no failover)"
    return SloResult(slo_name(slo, scenario), slo_case_name(slo), "write_rto", scenario, "",
                     slo.threshold_s, rto.write_rto_s, passed,
                     f"first write acknowledged by {who} {rto.write_rto_s:.2f} s after the "
                     f"fault (detect {_show(rto.detect_s)}, promote {_show(rto.promote_s)}, "
                     f"{rto.failed_writes} failed writes): "
                     f"{'within' if passed else 'over'} the objective {slo.threshold_s:g} s",
                     parts=parts)


def _split_brain_result(slo: SplitBrainSlo, scenario: str, database: DatabaseFigures | None,
                        figures: ScenarioDatabase | None) -> SloResult:
    if figures is None:
        brain = None if database is None else database.split_brain
        why = _NO_DATABASE if database is None else "no db.jsonl samples"
    else:
        brain, why = figures.split_brain, figures.split_brain_error
    if brain is None:
        return _not_measured(slo, scenario, 0.0, why, {})
    parts = {"windows": len(brain.windows), "seconds": brain.seconds,
             "unobserved_s": brain.unobserved_s}
    origin_s = figures.window.start_s if figures and figures.window else None
    unobserved = (f"{brain.unobserved_s:.2f} s with some node not answering the probe, "
                  "counted neither writable nor safe")
    if not brain.happened:
        message = f"no instant with two writable nodes ({unobserved})"
    else:
        spans = "; ".join(f"{' + '.join(w.nodes)} from {_at(w.start_s, origin_s)} to "
                          f"{_at(w.end_s, origin_s)}" for w in brain.windows[:5])
        clock = "epoch s" if origin_s is None else "s from the fault start"
        message = (f"SPLIT BRAIN: {len(brain.windows)} window(s) with two writable nodes, "
                   f"{brain.seconds:.3f} s in all: {spans} ({clock}; {unobserved})")
    return SloResult(slo_name(slo, scenario), slo_case_name(slo), "split_brain", scenario, "",
                     0.0, brain.seconds, not brain.happened, message, parts=parts)


def _at(t_s: float, origin_s: float | None) -> str:
    return f"{t_s:.3f}" if origin_s is None else f"{t_s - origin_s:+.3f}"


def _show(value: float | None) -> str:
    return "none" if value is None else f"{value:.2f} s"
