"""Judge a run against the suite's SLOs: one result per availability or latency SLO, one per
scenario for each RTO SLO. Each result becomes a JUnit test case, named by ``case_name``: a
name without thresholds, so that tightening an objective keeps the test's history in CI."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gameday.config import AvailabilitySlo, LatencySlo, RtoSlo, Suite
from gameday.measure.arrays import RequestArrays, Requests, percentile
from gameday.measure.rto import Rto, scenario_rtos
from gameday.measure.sli import scope_requests
from gameday.measure.windows import FaultWindow, fault_windows, scope_span_s, warmup_end_s
from gameday.records import Event

__all__ = ["SloResult", "evaluate_slos", "slo_case_name", "slo_name"]


@dataclass(frozen=True, slots=True)
class SloResult:
    """The verdict on one SLO; ``objective`` is a fraction (availability) or seconds.

    ``name`` is for people (it says the objective); ``case_name`` is the stable test name.
    ``span_s``: seconds of load the SLO judged (its scope, warm-up excluded); None for RTO.
    """

    name: str
    case_name: str
    kind: str  # "availability" | "latency" | "rto"
    scenario: str  # "" for a run-wide SLO
    scope: str  # "all" | "outside_faults" | "during_faults"; "" for RTO
    objective: float
    measured: float | None  # None: nothing to measure (no requests, never recovered)
    passed: bool
    message: str
    span_s: float | None = None


def evaluate_slos(suite: Suite, requests: Requests, events: Sequence[Event]) -> list[SloResult]:
    """Every SLO of the suite, in suite order; warm-up requests do not count."""
    arrays = RequestArrays.coerce(requests)
    windows = fault_windows(events)
    first_s = float(arrays.scheduled_s[0]) if len(arrays) else None
    warmup_s = warmup_end_s(events, first_s, suite.load.warmup_s)
    rtos = scenario_rtos(arrays, windows, suite)
    results: list[SloResult] = []
    for slo in suite.slos:
        if isinstance(slo, RtoSlo):
            results.extend(_rto_result(slo, scenario.name, rtos.get(scenario.name))
                           for scenario in suite.scenarios)
        else:
            span_s = scope_span_s(windows, slo.scope, warmup_s if warmup_s is not None else 0.0,
                                  float(arrays.scheduled_s[-1])) if len(arrays) else 0.0
            results.append(_run_wide_result(slo, arrays, windows, warmup_s, span_s))
    return results


def slo_name(slo: AvailabilitySlo | LatencySlo | RtoSlo, scenario: str = "") -> str:
    """The suite's name for the SLO, else one that says what it asks for."""
    if isinstance(slo, RtoSlo):
        return f"{slo.name or f'rto<={slo.threshold_s:g}s'}[{scenario}]"
    if slo.name:
        return slo.name
    if isinstance(slo, AvailabilitySlo):
        return f"availability>={slo.objective * 100:.10g}%({slo.scope})"
    return f"p{slo.percentile:g}<={slo.threshold_s * 1000:.10g}ms({slo.scope})"


def slo_case_name(slo: AvailabilitySlo | LatencySlo | RtoSlo) -> str:
    """The suite's name for the SLO, else what it measures without its threshold:
    ``rto``, ``availability.outside_faults``, ``latency.p99.outside_faults``."""
    if slo.name:
        return slo.name
    if isinstance(slo, RtoSlo):
        return "rto"
    if isinstance(slo, AvailabilitySlo):
        return f"availability.{slo.scope}"
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
