"""Resilience forecast: a month of the tested setup, from a run's measured recovery per
failure class and published failure rates (``gameday.measure.failure_rates``).

Per class c: incidents per month N_c ~ Poisson(λ_c), λ_c = the class's rate per month for
the setup; classes independent. Each incident costs u_c unavailable seconds, measured:

    u = RTO × failed / requests

over the requests scheduled from the fault start until the recovery instant (the RTO
window of ``gameday.measure.rto``): the seconds of a full outage that would fail as many
requests at the same rate. With ``count_slow``, failed = failed or slower than the
latency SLO (the RTO's bad requests). A class measured by several scenarios costs the worst
(largest u) of them. A class no scenario measured is *not tested*; one whose worst scenario
never recovered in the run is *not recovered*; a class without a rate has *no rate*. Those
are left out (the forecast is then optimistic by their share, and says so), except that a
stated ``untested_impact_s`` costs the not tested and not recovered ones at that many
seconds per incident.

Month: T = 30 days. Error budget B = (1 − objective) × T. Monthly downtime D = Σ_c N_c u_c.
Expected: E[D] = Σ_c λ_c u_c; attainment 1 − E[D] / T; burn E[D] / B (1: the budget, spent).
Monte-Carlo of ``months`` seeded months (D capped at T): attainment p50, p10 and p1 (the
attainment that 50, 10 and 1 % of months fall below) and P(D > B), the probability of
breaching the monthly SLO. Expected lost writes per month = Σ_c λ_c × lost writes per
incident where the run measured an RPO. Pure numpy; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from gameday.measure.budget import DEFAULT_PERIOD_S
from gameday.measure.failure_rates import Fleet, RatesFile, rate_per_month

__all__ = ["MONTH_S", "ClassForecast", "ClassImpact", "Forecast", "ScenarioImpact", "Status",
           "class_impacts", "forecast", "unavailable_s"]

MONTH_S = DEFAULT_PERIOD_S
Status = Literal["measured", "not tested", "not recovered"]


@dataclass(frozen=True, slots=True)
class ScenarioImpact:
    """One scenario of a run as measured: its RTO window's requests, and its RPO."""

    scenario: str
    experiment: str  # the experiment file's name without its suffix
    fault_started: bool
    recovered: bool
    rto_s: float | None
    requests: int  # scheduled from the fault start until the recovery instant
    failed_requests: int
    bad_requests: int  # failed or slower than the latency SLO
    lost_writes: int | None = None  # acknowledged writes lost; None: no RPO measured
    rpo_s: float | None = None


@dataclass(frozen=True, slots=True)
class ClassImpact:
    """One failure class: its rate for the setup and what one incident costs, measured."""

    name: str
    title: str
    rate_per_month: float | None  # None: no rate (user-supplied, none given)
    source: str  # the source's short name, or "user-supplied"
    status: Status
    scenarios: tuple[str, ...] = ()  # the run's scenarios that measured it
    impact_s: float | None = None  # unavailable seconds per incident (the worst scenario)
    lost_writes: int | None = None  # per incident (the worst scenario), where measured
    rpo_s: float | None = None


@dataclass(frozen=True, slots=True)
class ClassForecast:
    impact: ClassImpact
    cost_s: float | None  # seconds per incident the forecast counts; None: left out
    assumed: bool  # cost_s is the stated untested_impact_s, not a measurement
    expected_downtime_s: float | None  # per month
    budget_share: float | None  # expected downtime / the month's error budget
    expected_lost_writes: float | None  # per month

    @property
    def left_out(self) -> str:
        """Why the class is not in the forecast ('' when it is)."""
        if self.impact.rate_per_month is None:
            return "no rate"
        return "" if self.expected_downtime_s is not None else self.impact.status


@dataclass(frozen=True, slots=True)
class Forecast:
    objective: float
    month_s: float
    budget_s: float
    classes: tuple[ClassForecast, ...]
    expected_downtime_s: float
    expected_attainment: float
    expected_burn: float | None  # None: an objective of 1 leaves no budget
    expected_lost_writes: float | None
    months: int
    seed: int
    mean_downtime_s: float  # of the Monte-Carlo months
    attainment_p50: float
    attainment_p10: float
    attainment_p1: float
    breach_probability: float
    assumptions: tuple[str, ...]


def unavailable_s(rto_s: float | None, requests: int, failed: int) -> float | None:
    """Unavailable seconds of one incident (module docstring); None: it never recovered."""
    if rto_s is None:
        return None
    if rto_s <= 0 or requests <= 0:
        return 0.0
    return rto_s * min(failed, requests) / requests


def class_impacts(rates: RatesFile, fleet: Fleet, scenarios: Sequence[ScenarioImpact], *,
                  count_slow: bool = False) -> tuple[tuple[ClassImpact, ...], tuple[str, ...]]:
    """Each class of the rates file with its rate and measured cost; and the run's scenarios
    no class claims (by experiment name), which the forecast leaves out."""
    claimed: set[str] = set()
    impacts = []
    for name, entry in rates.classes.items():
        measured = [s for s in scenarios if s.experiment in entry.scenarios and s.fault_started]
        claimed.update(s.scenario for s in scenarios if s.experiment in entry.scenarios)
        costs = [unavailable_s(s.rto_s, s.requests,
                               s.bad_requests if count_slow else s.failed_requests)
                 for s in measured]
        known = [cost for cost in costs if cost is not None]
        status: Status = "not tested" if not measured else \
            "not recovered" if len(known) < len(costs) else "measured"
        lost = [s.lost_writes for s in measured if s.lost_writes is not None]
        rpos = [s.rpo_s for s in measured if s.rpo_s is not None]
        impacts.append(ClassImpact(
            name=name, title=entry.title, rate_per_month=rate_per_month(entry, fleet),
            source=entry.source.short if entry.source else "user-supplied", status=status,
            scenarios=tuple(s.scenario for s in measured),
            impact_s=max(known) if status == "measured" else None,
            lost_writes=max(lost) if lost else None, rpo_s=max(rpos) if rpos else None))
    unclaimed = tuple(s.scenario for s in scenarios if s.scenario not in claimed)
    return tuple(impacts), unclaimed


def _costed(impact: ClassImpact, budget_s: float,
            untested_impact_s: float | None) -> ClassForecast:
    rate = impact.rate_per_month
    cost_s, assumed = impact.impact_s, False
    if rate is None:
        return ClassForecast(impact, None, False, None, None, None)
    if cost_s is None and untested_impact_s is not None and rate > 0:
        cost_s, assumed = untested_impact_s, True
    if cost_s is None:  # a rate of 0 (none of its units in the setup) costs nothing anyway
        zero = 0.0 if rate == 0 else None
        return ClassForecast(impact, None, False, zero, zero, None)
    downtime_s = rate * cost_s
    lost = None if impact.lost_writes is None else rate * impact.lost_writes
    return ClassForecast(impact, cost_s, assumed, downtime_s,
                         downtime_s / budget_s if budget_s > 0 else None, lost)


def forecast(impacts: Sequence[ClassImpact], *, objective: float, months: int, seed: int,
             untested_impact_s: float | None = None,
             context: Sequence[str] = ()) -> Forecast:
    """The month's forecast (module docstring). ``context``: assumptions the caller made
    (where the rates, the fleet and the objective came from), listed first."""
    if not 0 < objective <= 1:
        raise ValueError(f"objective must be in (0, 1], got {objective}")
    if months < 1:
        raise ValueError(f"months must be >= 1, got {months}")
    budget_s = (1 - objective) * MONTH_S
    classes = tuple(_costed(impact, budget_s, untested_impact_s) for impact in impacts)
    counted = [c for c in classes if c.expected_downtime_s is not None]
    expected_s = float(sum(c.expected_downtime_s or 0.0 for c in counted))
    downtime = _simulate([c for c in counted if c.cost_s is not None], months, seed)
    attainment = 1 - downtime / MONTH_S
    quantiles = np.quantile(attainment, [0.5, 0.1, 0.01])
    lost = [c.expected_lost_writes for c in counted if c.expected_lost_writes is not None]
    return Forecast(
        objective=objective, month_s=MONTH_S, budget_s=budget_s, classes=classes,
        expected_downtime_s=expected_s,
        expected_attainment=max(0.0, 1 - expected_s / MONTH_S),
        expected_burn=expected_s / budget_s if budget_s > 0 else None,
        expected_lost_writes=float(sum(lost)) if lost else None,
        months=months, seed=seed, mean_downtime_s=float(downtime.mean()),
        attainment_p50=float(quantiles[0]), attainment_p10=float(quantiles[1]),
        attainment_p1=float(quantiles[2]),
        breach_probability=float(np.mean(downtime > budget_s)),
        assumptions=(*context, *_assumptions(classes, months, seed, untested_impact_s)))


def _simulate(counted: Sequence[ClassForecast], months: int, seed: int) -> np.ndarray:
    """Downtime (s) of each simulated month, capped at the month."""
    rng = np.random.default_rng(seed)
    if not counted:
        return np.zeros(months)
    rates = np.array([c.impact.rate_per_month for c in counted], dtype=np.float64)
    costs = np.array([c.cost_s for c in counted], dtype=np.float64)
    incidents = rng.poisson(rates[:, None], size=(rates.size, months))
    return np.minimum(costs @ incidents, MONTH_S)


def _assumptions(classes: Sequence[ClassForecast], months: int, seed: int,
                 untested_impact_s: float | None) -> list[str]:
    lines = [
        "Incidents of each class arrive as a Poisson process, independent of the other "
        "classes; they do not overlap, and a simulated month's downtime is capped at the month.",
        "Each incident costs what this run measured: unavailable seconds = RTO × failed ÷ "
        "requests scheduled from the fault start to the recovery. One run is one sample: the "
        "spread of RTO between runs, and incidents larger than the injected fault, are not "
        "modelled. A class measured by several scenarios costs the worst of them.",
        "Traffic is taken as steady over the month: an unavailable second costs the same share "
        "of requests at any hour.",
        "The rates count unplanned events; planned work (maintenance, switchovers, releases "
        "that go well) costs nothing here.",
        f"A month is 30 days ({MONTH_S:,.0f} s). Monte-Carlo: {months:,} months, seed {seed}; "
        "pN is the attainment that N % of months fall below.",
    ]
    assumed = [c.impact.name for c in classes if c.assumed and c.expected_downtime_s is not None]
    if assumed:
        lines.append(f"Not tested or not recovered, costed at the stated {untested_impact_s:g} s "
                     f"per incident (not measured): {', '.join(assumed)}.")
    out = [f"{c.impact.name} ({c.left_out})" for c in classes if c.left_out]
    if out:
        lines.append(f"Left out of the forecast, which is optimistic by their share: "
                     f"{', '.join(out)}.")
    return lines
