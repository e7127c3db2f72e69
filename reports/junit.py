"""``junit.xml``: a "run" test suite for the run-wide SLOs and the harness, and one test suite
per scenario (its RTO SLOs, its steady-state hypothesis, its rollback), so CI shows each
breach by name.

Names are stable: a test case is named for what it checks (``availability.outside_faults``,
``latency.p99.outside_faults``, ``rto``, ``rpo``, ``write_rto``, ``split_brain``,
``steady_state``, ``rollback``, ``harness``, ``generator``, ``baseline`` for a run judged
against a baseline run), never for its threshold, so
tightening an objective keeps its history; the threshold, the measured value and its parts
(lost writes, detect/promote times, ...) are in the message and the case's ``<properties>``.
A database figure that could not be measured (no audit, no role samples) is a ``failure`` of
type ``not_measured``, not a pass; a cost figure that could not be measured (a Prometheus
series missing) is an ``error`` of that type: the harness failed to measure, the system under
test was not judged.
Two SLOs with one name in a suite get ``.2``, ``.3`` in suite order (name them in the suite).

Times: a run-wide SLO's ``time`` is the seconds of load its scope covers (warm-up excluded);
a scenario's cases take the experiment's run time (scenario start to end); the harness and
generator cases take the run's. A suite's ``time`` is the run's (``run``) or the scenario's
duration, and its ``timestamp`` (ISO 8601, UTC) the run's or the scenario's start, all from the
run's own event log, so a rebuilt report is identical.

When the verdict is not about the system under test (harness error, interruption, saturated
generator), the SLO and steady-state cases are ``<skipped>`` with the reason: a breach measured
by a broken harness is not the system's.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from gameday.measure import SloResult
from reports.summary import ScenarioOutcome, Summary

__all__ = ["RUN_SUITE", "junit_tree", "junit_xml"]

RUN_SUITE = "run"
_UNITS = {"availability": "fraction", "latency": "s", "rto": "s", "rpo": "s", "write_rto": "s",
          "split_brain": "s", "ttft": "s", "quality": "fraction", "degraded_share": "fraction",
          "cost": "currency_per_1k_requests", "waf": "fraction", "openslo": "fraction"}


@dataclass(frozen=True, slots=True)
class _Case:
    name: str
    time_s: float | None
    outcome: Literal["passed", "failure", "error", "skipped"]
    message: str
    kind: str = ""  # the failure or error type
    details: str = ""
    properties: Mapping[str, str] = field(default_factory=dict)


def junit_xml(summary: Summary) -> str:
    root = junit_tree(summary)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def junit_tree(summary: Summary) -> ET.Element:
    root = ET.Element("testsuites", name=f"gameday:{summary.suite.name}")
    run_properties = {"run_id": summary.run_id, "suite": summary.suite.name,
                      "platform": summary.suite.platform, "verdict": summary.verdict,
                      "exit_code": str(summary.exit_code), "reason": summary.reason}
    _suite(root, summary, RUN_SUITE, _run_cases(summary), summary.started_at_s,
           summary.duration_s, run_properties)
    for outcome in summary.scenarios:
        _suite(root, summary, outcome.name, _scenario_cases(summary, outcome),
               outcome.started_s if outcome.started_s is not None else summary.started_at_s,
               outcome.duration_s, _scenario_properties(outcome))
    _count(root, root.findall("testsuite"))
    root.set("time", _seconds(summary.duration_s))
    if summary.started_at_s is not None:
        root.set("timestamp", _timestamp(summary.started_at_s))
    return root


def _judged(summary: Summary) -> bool:
    """Whether the figures are a verdict on the system (not on the harness or generator)."""
    return summary.verdict in ("pass", "fail", "aborted")


def _run_cases(summary: Summary) -> list[_Case]:
    cases = [_slo_case(summary, result) for result in summary.slos if not result.scenario]
    trouble = summary.incidents.harness_trouble
    if trouble or summary.verdict == "error":
        kind = ("rollback_failed" if summary.incidents.rollback_failures else
                "harness_error" if summary.incidents.harness_errors else
                "interrupted" if summary.interruption else "no_requests")
        cases.append(_Case("harness", summary.duration_s, "error", summary.reason, kind,
                           "\n".join(trouble) or summary.reason))
    else:
        cases.append(_Case("harness", summary.duration_s, "passed",
                           "the harness ran the suite to its end"))
    cases += _baseline_cases(summary)
    health = summary.health
    if health.saturated:
        cases.append(_Case("generator", summary.duration_s, "error", summary.reason,
                           "generator_saturated", health.why))
    else:
        cases.append(_Case("generator", summary.duration_s, "passed",
                           f"the load generator kept its schedule ({health.late_sends} late "
                           f"sends of {health.requests})"))
    return cases


def _baseline_cases(summary: Summary) -> list[_Case]:
    """``baseline``: the run judged against its baseline run (``gameday run --baseline``)."""
    result = summary.baseline
    if result is None:
        return []
    properties = {"baseline_run": result.baseline_run, "verdict": result.verdict,
                  "score": "" if result.score is None else f"{result.score:.1f}",
                  "scope": result.scope}
    details = "\n".join(f"{m.describe()}: p {m.p_value}, interval [{m.ci_low}, {m.ci_high}], "
                        f"tolerance {m.tolerance}" for m in result.metrics)
    if not _judged(summary):
        return [_Case("baseline", summary.duration_s, "skipped",
                      f"not judged: {summary.reason}", properties=properties)]
    if result.regressed:
        return [_Case("baseline", summary.duration_s, "failure", result.describe(), "regressed",
                      details, properties)]
    if result.verdict == "nodata":
        return [_Case("baseline", summary.duration_s, "skipped", result.describe(),
                      properties=properties)]
    return [_Case("baseline", summary.duration_s, "passed", result.describe(),
                  details=details, properties=properties)]


def _scenario_cases(summary: Summary, outcome: ScenarioOutcome) -> list[_Case]:
    abort = summary.incidents.abort_of(outcome.name)
    not_run = summary.incidents.not_run_of(outcome.name)
    if not_run is not None:  # never started (by the operator or the schedule): it tested nothing
        cases = [_Case(result.case_name, None, "skipped", not_run.describe())
                 for result in summary.slos if result.scenario == outcome.name]
        cases.append(_Case("steady_state", None, "skipped", not_run.describe()))
        if not_run.by_schedule:  # the suite could not test it: an error CI shows
            cases.append(_Case("schedule", None, "error", not_run.describe(),
                               "scenario_not_run", not_run.reason))
    elif abort is not None:  # neither pass nor breach: its figures cover a fault cut short
        cases = [_Case(result.case_name, outcome.duration_s, "skipped",
                       f"aborted: {abort.reason}") for result in summary.slos
                 if result.scenario == outcome.name]
        cases.append(_Case("stop_condition", outcome.duration_s, "skipped",
                           abort.describe()))
    else:
        cases = [_slo_case(summary, result, outcome.duration_s) for result in summary.slos
                 if result.scenario == outcome.name]
        cases.append(_steady_state_case(summary, outcome))
    failure = outcome.rollback_failure
    if failure is not None:
        cases.append(_Case("rollback", outcome.duration_s, "error", failure.describe(),
                           "rollback_failed", failure.describe(),
                           {"still_injected": ", ".join(failure.still_injected)}))
    elif outcome.window is None:
        cases.append(_Case("rollback", outcome.duration_s, "skipped",
                           "the fault never started: nothing to roll back"))
    else:
        cases.append(_Case("rollback", outcome.duration_s, "passed",
                           "no rollback failed" if outcome.window.end_s is not None else
                           "no rollback failed, but none returned (see the run's reason)"))
    return cases


def _steady_state_case(summary: Summary, outcome: ScenarioOutcome) -> _Case:
    time_s = outcome.duration_s
    if outcome.deviated is None:
        return _Case("steady_state", time_s, "skipped",
                     "no verdict on the steady-state hypothesis (no journal or scenario_end)")
    if not outcome.deviated:
        return _Case("steady_state", time_s, "passed",
                     "the steady-state hypothesis held after the fault")
    message = "the steady-state hypothesis deviated after the fault"
    if not _judged(summary):
        return _Case("steady_state", time_s, "skipped", f"not judged: {summary.reason}")
    return _Case("steady_state", time_s, "failure", message, "steady_state_deviated",
                 f"{message} (journal status {outcome.journal.status})")


def _slo_case(summary: Summary, result: SloResult, time_s: float | None = None) -> _Case:
    measured = "" if result.measured is None else f"{result.measured:.6g}"
    properties = {"kind": result.kind, "objective": f"{result.objective:.6g}",
                  "measured": measured, "unit": _UNITS.get(result.kind, ""),
                  "label": result.name}
    if result.scope:
        properties["scope"] = result.scope
    properties |= {name: "" if value is None else f"{value:.6g}"
                   for name, value in result.parts.items()}
    span_s = result.span_s if result.span_s is not None else time_s
    if not _judged(summary):
        return _Case(result.case_name, span_s, "skipped",
                     f"not judged: {summary.reason}; measured anyway: {result.message}",
                     properties=properties)
    if result.passed:
        return _Case(result.case_name, span_s, "passed", result.message, properties=properties)
    if result.measurement_error and result.kind == "cost":
        return _Case(result.case_name, span_s, "error", result.message, "not_measured",
                     _details(result), properties)
    return _Case(result.case_name, span_s, "failure", result.message,
                 "not_measured" if result.measurement_error else "slo_breach",
                 _details(result), properties)


def _suite(root: ET.Element, summary: Summary, name: str, cases: Sequence[_Case],
           start_s: float | None, time_s: float | None, properties: Mapping[str, str]) -> None:
    suite = ET.SubElement(root, "testsuite", name=name)
    if start_s is not None:
        suite.set("timestamp", _timestamp(start_s))
    _properties(suite, properties)
    for case, case_name in zip(cases, _unique(case.name for case in cases), strict=True):
        _case(suite, case, case_name, f"gameday.{summary.suite.name}.{name}")
    _count(suite, suite.findall("testcase"))
    suite.set("time", _seconds(time_s))


def _case(suite: ET.Element, case: _Case, name: str, classname: str) -> None:
    element = ET.SubElement(suite, "testcase", name=name, classname=classname,
                            time=_seconds(case.time_s))
    if case.properties:
        _properties(element, case.properties)
    if case.outcome == "passed":
        ET.SubElement(element, "system-out").text = case.message
    elif case.outcome == "skipped":
        ET.SubElement(element, "skipped", message=case.message)
    else:
        ET.SubElement(element, case.outcome, message=case.message,
                      type=case.kind).text = case.details or case.message


def _unique(names: Iterable[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}.{seen[name]}")
    return unique


def _properties(parent: ET.Element, values: Mapping[str, str]) -> None:
    properties = ET.SubElement(parent, "properties")
    for name, value in values.items():
        ET.SubElement(properties, "property", name=name, value=value)


def _scenario_properties(outcome: ScenarioOutcome) -> dict[str, str]:
    values = {
        "target_region": outcome.target_region,
        "journal_status": outcome.journal.status,
        "journal_deviated": str(outcome.journal.deviated),
        "steady_state_deviated": str(outcome.deviated),
        "fault_started": str(outcome.window is not None),
        "edge_marked_down_s": "" if outcome.edge_down_s is None else f"{outcome.edge_down_s:.3f}",
    }
    if outcome.rto is not None:
        for name in ("rto_s", "detect_s", "failover_s", "resolution_s"):
            value = getattr(outcome.rto, name)
            values[name] = "" if value is None else f"{value:.3f}"
    return values


def _count(element: ET.Element, children: Sequence[ET.Element]) -> None:
    """Set tests/failures/errors/skipped from the children (test cases or test suites)."""
    keys = ("tests", "failures", "errors", "skipped")
    if element.tag == "testsuites":
        totals = {key: sum(int(child.get(key, "0")) for child in children) for key in keys}
    else:
        totals = {"tests": len(children)} | {
            key: sum(1 for c in children if c.find(tag) is not None)
            for key, tag in (("failures", "failure"), ("errors", "error"),
                             ("skipped", "skipped"))}
    for key, total in totals.items():
        element.set(key, str(total))


def _seconds(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "0"


def _timestamp(t_s: float) -> str:
    """ISO 8601 in UTC, as pytest writes it (``2025-11-25T09:00:00.000+00:00``)."""
    return datetime.fromtimestamp(t_s, UTC).isoformat(timespec="milliseconds")


def _details(result: SloResult) -> str:
    measured = "none" if result.measured is None else f"{result.measured:.6g}"
    scope = f" scope={result.scope}" if result.scope else ""
    parts = "".join(f" {name}={'none' if value is None else f'{value:.6g}'}"
                    for name, value in result.parts.items())
    return (f"kind={result.kind}{scope} objective={result.objective:.6g} measured={measured}"
            f"{parts}\n{result.message}")
