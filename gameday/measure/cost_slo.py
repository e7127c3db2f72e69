"""The verdict on a cost SLO from the run's cost figures (``gameday.measure.cost``): cost per
1,000 successful requests of a stack in the SLO's scope, at most ``max_per_1k``. A figure that
could not be measured (a series missing, no Prometheus data) never passes."""

from __future__ import annotations

from dataclasses import dataclass, field

from gameday.measure.cost import CostFigures
from gameday.slos import CostSlo

__all__ = ["CostVerdict", "judge_cost_slo"]


@dataclass(frozen=True, slots=True)
class CostVerdict:
    measured: float | None
    passed: bool
    message: str
    parts: dict[str, float | None] = field(default_factory=dict)
    measurement_error: str = ""


def judge_cost_slo(slo: CostSlo, cost: CostFigures | None) -> CostVerdict:
    if cost is None:
        return _not_measured("the run's resources were not measured (no cost figures)")
    if slo.region == "all":
        return _over_regions(slo, cost)
    return _one_region(slo, cost)


def _over_regions(slo: CostSlo, cost: CostFigures) -> CostVerdict:
    figure = cost.stack_cost(slo.stack, slo.scope)
    if figure is None:
        return _not_measured(f"{slo.stack} is not one of the suite's stacks")
    if figure.measurement_error:
        return _not_measured(figure.measurement_error)
    parts = {"cost": figure.cost, "standby_cost": figure.standby_cost,
             "served": float(figure.served), "per_1k": figure.per_1k,
             "per_1k_with_standby": figure.per_1k_with_standby}
    measured = figure.per_1k_with_standby if slo.include_standby else figure.per_1k
    standby = (f", standby {figure.standby_cost:.4g} {cost.currency}"
               f"{' included' if slo.include_standby else ' left out'}"
               if figure.standby_cost else "")
    spent = f"{figure.cost:.4g} {cost.currency} for {figure.served} served{standby}"
    return _verdict(slo, cost.currency, measured, spent, parts,
                    f"no successful request of {slo.stack} in scope {slo.scope}")


def _one_region(slo: CostSlo, cost: CostFigures) -> CostVerdict:
    figure = cost.region_cost(slo.stack, slo.region, slo.scope)
    if figure is None:
        return _not_measured(f"{slo.stack} is not one of the suite's stacks")
    if figure.measurement_error:
        return _not_measured(figure.measurement_error)
    parts = {"cost": figure.cost, "served": float(figure.served), "per_1k": figure.per_1k}
    spent = f"{figure.cost:.4g} {cost.currency} for {figure.served} served by {slo.region}"
    return _verdict(slo, cost.currency, figure.per_1k, spent, parts,
                    f"{slo.region} served no successful request of {slo.stack} in scope "
                    f"{slo.scope} (idle standby: no cost per request)")


def _verdict(slo: CostSlo, currency: str, measured: float | None, spent: str,
             parts: dict[str, float | None], nothing: str) -> CostVerdict:
    parts["max_per_1k"] = slo.max_per_1k
    if measured is None:
        return CostVerdict(None, False, f"{nothing}; {spent}", parts)
    passed = measured <= slo.max_per_1k
    relation = "within" if passed else "over"
    return CostVerdict(measured, passed,
                       f"{measured:.4g} {currency} per 1,000 successful requests ({spent}): "
                       f"{relation} the objective {slo.max_per_1k:.4g} {currency}", parts)


def _not_measured(why: str) -> CostVerdict:
    return CostVerdict(None, False, f"not measured: {why}", {}, why)
