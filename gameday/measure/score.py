"""The resilience score: 0–100 per scenario and per run, with the breakdown behind it.

A scenario's score is the weighted mean of its components, each between 0 and 1 (docs/score.md
has the formula with examples):

- **recovery** (weight 3): against the scenario's RTO objective T (its ``rto`` SLO; without
  one, the stability window W): 1 when RTO <= T, falling linearly to 0 at RTO = 2T; 0 when it
  never recovered.
- **error budget** (weight 3): the burn rate b over the fault window (from the fault's
  injection to its rollback's return, plus the recovery) = error ratio / (1 − target), target
  = the suite's first availability objective (0.99 without one): 1 when b <= 1 (the fault cost
  no more than the budget allows), falling linearly to 0 at b = 10.
- **each other SLO judged for the scenario** (RPO, write RTO, split brain; weight 3 each):
  1 when met, else 0: data lost or two writers are never partly fine.
- **hypothesis** (weight 1): 1 when the steady-state hypothesis held after the fault, 0 when
  it deviated; left out when unknown.

Gates: a rollback that failed makes the scenario 0 (a fault was left injected); an aborted
scenario has no score (its fault was cut short; it is listed with the stop condition's
reason). The **steady state** part scores the run-wide SLOs (outside faults, cost, WAF, ...),
weight 1 each: 1 when met; missed, an at-least objective (availability, OpenSLO, WAF,
quality) by its burn (1 − measured) / (1 − objective), 1 at 1x falling to 0 at 10x, an
at-most one (latency, cost) by measured / objective, 1 at 1x falling to 0 at 2x; not
measured: 0. The **run's score** is the mean of the scored scenarios and the
steady state part, rounded to a whole number; every component says what it measured, what
failed and when, and where to look.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gameday.measure.slo import SloResult

__all__ = ["BUDGET_ZERO_AT", "Component", "RunScore", "ScenarioFacts", "ScenarioScore",
           "run_score"]

BUDGET_ZERO_AT = 10.0  # the burn rate at which the budget component reaches 0
_WEIGHTS = {"recovery": 3.0, "budget": 3.0, "slo": 3.0, "hypothesis": 1.0, "steady": 1.0}


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    score: float  # 0..1
    weight: float
    measured: str  # the figure, in words
    failed: str  # what failed and when ("" when nothing did)
    look: str  # where to look


@dataclass(frozen=True, slots=True)
class ScenarioFacts:
    """What the score of one scenario is made of (assembled by the report)."""

    name: str
    rto_s: float | None
    recovered: bool
    rto_objective_s: float | None
    stability_window_s: float
    requests: int  # scheduled in its fault window and recovery
    failed: int
    target: float
    window: str  # "+12.3 s to +20.4 s"
    deviated: bool | None
    rollback_failed: str  # "" when none did
    aborted: str  # "" when not aborted
    journal: str  # the journal's file name


@dataclass(frozen=True, slots=True)
class ScenarioScore:
    name: str
    score: int | None  # None: aborted, not scored
    components: tuple[Component, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class RunScore:
    score: int | None
    scenarios: tuple[ScenarioScore, ...]
    steady: ScenarioScore | None


def run_score(facts: Sequence[ScenarioFacts], slos: Sequence[SloResult]) -> RunScore:
    scenarios = tuple(_scenario(f, [s for s in slos if s.scenario == f.name]) for f in facts)
    run_wide = [s for s in slos if not s.scenario]
    steady = _steady(run_wide) if run_wide else None
    parts = [s.score for s in scenarios if s.score is not None]
    if steady is not None and steady.score is not None:
        parts.append(steady.score)
    return RunScore(round(sum(parts) / len(parts)) if parts else None, scenarios, steady)


def _scenario(facts: ScenarioFacts, slos: Sequence[SloResult]) -> ScenarioScore:
    if facts.aborted:
        return ScenarioScore(facts.name, None, (), f"aborted, not scored: {facts.aborted}")
    components = [_recovery(facts), _budget(facts)]
    components += [_slo(result, "slo") for result in slos if result.kind != "rto"]
    if facts.deviated is not None:
        components.append(Component(
            "hypothesis", 0.0 if facts.deviated else 1.0, _WEIGHTS["hypothesis"],
            "deviated" if facts.deviated else "held",
            "the steady-state hypothesis did not hold after the fault" if facts.deviated
            else "", facts.journal))
    if facts.rollback_failed:
        return ScenarioScore(facts.name, 0, tuple(components),
                             f"0: the rollback failed ({facts.rollback_failed})")
    return ScenarioScore(facts.name, _mean(components), tuple(components))


def _recovery(facts: ScenarioFacts) -> Component:
    limit_s = facts.rto_objective_s or facts.stability_window_s
    basis = "its rto SLO" if facts.rto_objective_s else "the stability window (no rto SLO)"
    look = "report: Scenarios and recovery; edge.jsonl (HAProxy's view of each server)"
    if not facts.recovered or facts.rto_s is None:
        return Component("recovery", 0.0, _WEIGHTS["recovery"], "never recovered",
                         f"no {facts.stability_window_s:g} s of good requests after the fault "
                         f"({facts.window})", look)
    score = _linear(facts.rto_s, limit_s, 2 * limit_s)
    failed = "" if facts.rto_s <= limit_s else \
        f"RTO {facts.rto_s:.2f} s over {limit_s:g} s ({basis})"
    return Component("recovery", score, _WEIGHTS["recovery"],
                     f"RTO {facts.rto_s:.2f} s against {limit_s:g} s ({basis})", failed, look)


def _budget(facts: ScenarioFacts) -> Component:
    look = "requests-*.csv; report: the timeline's failed-requests charts"
    if not facts.requests:
        return Component("budget", 0.0, _WEIGHTS["budget"], "no request in the fault window",
                         "nothing measured the fault's cost", look)
    allowed = 1 - facts.target
    burn = (facts.failed / facts.requests) / allowed if allowed > 0 else float("inf")
    score = _linear(burn, 1.0, BUDGET_ZERO_AT)
    failed = "" if burn <= 1 else (f"{facts.failed} of {facts.requests} requests failed "
                                   f"{facts.window}: burn rate {burn:.1f}x")
    return Component("budget", score, _WEIGHTS["budget"],
                     f"burn rate {burn:.2f}x of a {facts.target:.3%} objective over the fault "
                     f"and its recovery", failed, look)


def _slo(result: SloResult, weight_key: str) -> Component:
    look = "report: SLOs; junit.xml case " + result.case_name
    if result.passed:
        return Component(result.case_name, 1.0, _WEIGHTS[weight_key], result.message, "", look)
    return Component(result.case_name, _partial(result) if weight_key == "steady" else 0.0,
                     _WEIGHTS[weight_key], result.message, result.message, look)


_AT_LEAST = ("availability", "openslo", "waf", "quality")


def _partial(result: SloResult) -> float:
    """A run-wide SLO missed by a little scores a little: an at-least objective by its burn
    (1 − measured) / (1 − objective), 1 at 1x to 0 at 10x; an at-most one by measured /
    objective, 1 at 1x to 0 at 2x; one not measured scores 0."""
    if result.measured is None or result.measurement_error or not result.objective:
        return 0.0
    if result.kind in _AT_LEAST:
        allowed = 1 - result.objective
        burn = (1 - result.measured) / allowed if allowed > 0 else float("inf")
        return _linear(burn, 1.0, BUDGET_ZERO_AT)
    return _linear(result.measured / result.objective, 1.0, 2.0)


def _steady(results: Sequence[SloResult]) -> ScenarioScore:
    components = tuple(_slo(result, "steady") for result in results)
    return ScenarioScore("steady state", _mean(components), components)


def _linear(value: float, full_at: float, zero_at: float) -> float:
    if value <= full_at:
        return 1.0
    if value >= zero_at:
        return 0.0
    return 1 - (value - full_at) / (zero_at - full_at)


def _mean(components: Sequence[Component]) -> int | None:
    weight = sum(c.weight for c in components)
    if not weight:
        return None
    return round(100 * sum(c.score * c.weight for c in components) / weight)
