"""The run's verdict and exit code: error (2), inconclusive (2), aborted (3), fail (1) or pass
(0).

A scenario a stop condition aborted is its own outcome, neither pass nor breach: the run is
``aborted`` (exit 3, so CI still stops), its reason names the condition, and SLOs that failed
meanwhile are named beside it.

A scenario the operator of a game day rolled back (``r``) is not: the harness saw nothing
wrong, a person ended the fault when the exercise had shown what it was for (or earlier, for
a reason the notes give). Its fault window closes at that rollback, and its SLOs are judged
on it like any other (a fault cut short is still a fault the system had to ride out; a breach
meanwhile is a breach), so the verdict stays pass or fail; the report's Game day section
says who ended it and when. Making it ``aborted`` would turn every game day with a rollback
into exit 3, a signal no one could act on.

A scenario that was not run tested nothing: its SLOs are left out of the verdict and the
reason names it. In a game day (the load ended before the operator injected it) that was the
operator's choice, and the run may still pass. In a scheduled run (the scenarios before it
overran the load's schedule) the suite could not test what it asks: the run is
``inconclusive`` (exit 2) unless an SLO failed, so a nightly gate never passes a scenario
that did not run.

A run judged against a baseline (``gameday run --baseline``, ``reports.baseline``) that
regressed fails even when its SLOs held: the nightly job gates on both. The judgement's clause
joins the reason of a pass or a fail; an error, inconclusive or aborted run keeps its verdict
(its figures do not stand for the system), with the clause beside its reason.

An interrupted run is an ``error``: its figures cover part of a run, and a breach measured on
them would blame the system for the harness's interruption (``Summary.interruption`` says
that it was one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from gameday.measure import GeneratorHealth, SloResult
from reports.baseline import BaselineResult
from reports.incidents import Incidents

__all__ = ["EXIT_CODES", "Decision", "VerdictName", "decide"]

VerdictName = Literal["pass", "fail", "error", "inconclusive", "aborted"]
EXIT_CODES: dict[VerdictName, int] = {"pass": 0, "fail": 1, "error": 2, "inconclusive": 2,
                                      "aborted": 3}


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: VerdictName
    exit_code: int
    reason: str


def decide(*, incidents: Incidents, requests: int, health: GeneratorHealth,
           slos: Sequence[SloResult], baseline: BaselineResult | None = None) -> Decision:
    """Harness trouble first: a breach measured by a broken or interrupted harness, or by a
    generator that fell behind, would blame the system for the harness's fault."""
    decision = _decide(incidents, requests, health, slos)
    if baseline is None:
        return decision
    clause = baseline.describe()
    if baseline.regressed and decision.verdict == "pass":
        return _decision("fail", f"{clause}; {decision.reason}")
    return Decision(decision.verdict, decision.exit_code, f"{decision.reason}; {clause}")


def _decide(incidents: Incidents, requests: int, health: GeneratorHealth,
            slos: Sequence[SloResult]) -> Decision:
    trouble = incidents.harness_trouble
    if trouble:
        return _decision("error", "; ".join(trouble))
    if requests == 0:
        return _decision("error", "no request records in the run folder: the load never ran")
    if health.saturated:
        return _decision("inconclusive",
                         f"the load generator could not keep its schedule: {health.why}; "
                         "latency and RTO figures measure the generator, not the system")
    untested = {n.scenario for n in incidents.not_run}
    slos = [slo for slo in slos if not slo.scenario or slo.scenario not in untested]
    failed = [f"{slo.name} (not measured)" if slo.measurement_error else slo.name
              for slo in slos if not slo.passed]
    reasons = [f"{len(failed)} of {len(slos)} SLOs failed: {', '.join(failed)}"] if failed \
        else []
    reasons += [f"the steady-state hypothesis deviated after the fault in {scenario}"
                for scenario in incidents.deviated if incidents.abort_of(scenario) is None]
    if incidents.aborted:
        return _decision("aborted", "; ".join([a.describe() for a in incidents.aborted]
                                              + [f"meanwhile {r}" for r in reasons]))
    not_run = [n.describe() for n in incidents.not_run]
    if reasons:
        return _decision("fail", "; ".join(reasons + not_run))
    if any(n.by_schedule for n in incidents.not_run):
        return _decision("inconclusive", "; ".join(
            [*not_run, "the load's schedule left no time for it: lengthen load.duration_s or "
             "space the scenarios' offsets"]))
    return _decision("pass", "; ".join([f"all {len(slos)} SLOs met" if slos
                                        else "the suite sets no SLOs", *not_run]))


def _decision(verdict: VerdictName, reason: str) -> Decision:
    return Decision(verdict, EXIT_CODES[verdict], reason)
