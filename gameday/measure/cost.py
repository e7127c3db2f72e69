"""What serving cost: each member's CPU seconds, GiB-seconds of resident memory and GPU-seconds
(``gameday.measure.series`` on the run's Prometheus snapshots), priced by its region's prices
(``PriceTable``), per stack, region and phase, per 1,000 successful requests.

- Phases: ``outside_faults`` (steady state: after the warm-up, outside every fault window),
  ``fault:<scenario>`` (each scenario's windows), ``during_faults`` (every window) and
  ``all`` (after the warm-up), up to the last scheduled send. A fault window counts from its
  action's start (``FaultWindow``); requests belong to phases as SLO scopes say (``sli``).
- cost = cpu_s x vcpu_hour / 3600 + gib_s x gb_hour / 3600 + gpu_s x gpu_hour / 3600, a GiB
  being 2**30 bytes; summed over the members of a stack in a region.
- served = requests of the stack that the region answered *successfully* (ok, region);
  per_1k = cost / served x 1000. A region that served none in a phase is idle standby: its
  cost is standby cost and its per_1k None; a stack's per_1k is its serving regions' cost
  per 1,000 of their requests, ``per_1k_with_standby`` adds the standby cost.
- Members whose ``stack`` label is none of the suite's stacks (edge, fault proxy, metrics)
  are the harness's own: platform overhead, never charged to a stack.
- A needed series missing (``cpu_seconds`` or ``resident_bytes`` not saved or matching
  nothing; ``gpus`` not saved, though matching nothing is no GPU) leaves every figure None with
  ``measurement_error`` naming it; a member lacking its own CPU or memory series leaves its
  region's figures None the same way (never priced at nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from gameday.cost_options import PriceTable
from gameday.measure.arrays import BoolArray, FloatArray
from gameday.measure.series import Metrics, Series, counter_increases, gauge_integrals
from gameday.measure.served import StackRequests
from gameday.measure.sli import scope_mask
from gameday.measure.windows import FaultWindow, Scope, in_scope

__all__ = ["COST_SERIES", "CostFigures", "CostSeries", "MemberCost", "Phase", "PlatformCost",
           "RegionCost", "StackCost", "cost_figures"]

COST_SERIES = ("cpu_seconds", "resident_bytes", "gpus")
_REGIONS = ("region-a", "region-b")
_GIB = 2.0**30
_SCOPES: dict[str, Scope] = {"all": "all", "outside_faults": "outside_faults",
                             "during_faults": "during_faults"}
Spans = tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Phase:
    key: str  # outside_faults | during_faults | all | fault:<scenario>
    label: str
    spans: Spans  # epoch seconds, sorted, not overlapping

    @property
    def seconds(self) -> float:
        return sum(end_s - start_s for start_s, end_s in self.spans)


@dataclass(frozen=True, slots=True)
class MemberCost:
    """One member's use over the whole measured run (phase ``all``)."""

    member: str
    stack: str
    component: str
    region: str
    cpu_s: float | None
    gib_s: float | None
    gpu_s: float | None
    cost: float | None
    measurement_error: str = ""


@dataclass(frozen=True, slots=True)
class RegionCost:
    stack: str
    region: str
    phase: str
    cpu_s: float | None
    gib_s: float | None
    gpu_s: float | None
    cost: float | None
    served: int  # successful requests the region answered for the stack
    standby: bool  # served none in the phase
    per_1k: float | None  # None: standby, or not measured
    measurement_error: str = ""


@dataclass(frozen=True, slots=True)
class StackCost:
    stack: str
    phase: str
    cost: float | None  # of the regions that served
    standby_cost: float | None  # of the regions that served nothing
    served: int
    per_1k: float | None
    per_1k_with_standby: float | None
    measurement_error: str = ""


@dataclass(frozen=True, slots=True)
class PlatformCost:
    """A part of the harness (``stack`` label not a suite stack) over phase ``all``."""

    part: str
    region: str
    cpu_s: float | None
    gib_s: float | None
    gpu_s: float | None
    cost: float | None
    measurement_error: str = ""


@dataclass(frozen=True, slots=True)
class CostSeries:
    """A stack's cost in one region per bucket starting at ``t_s`` (epoch s)."""

    stack: str
    region: str
    t_s: tuple[float, ...]
    cost: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class CostFigures:
    currency: str
    source: str
    prices: dict[str, dict[str, float]]  # region -> vcpu_hour, gb_hour, gpu_hour
    phases: tuple[Phase, ...]
    regions: tuple[RegionCost, ...]
    stacks: tuple[StackCost, ...]
    platform: tuple[PlatformCost, ...]
    members: tuple[MemberCost, ...]
    bucket_s: float
    series: tuple[CostSeries, ...]
    missing: tuple[str, ...] = ()  # the needed series that could not be used
    measurement_error: str = ""  # "" when every needed series was there
    errors: dict[str, str] = field(default_factory=dict)  # missing series -> why

    def stack_cost(self, stack: str, phase: str) -> StackCost | None:
        return next((c for c in self.stacks if c.stack == stack and c.phase == phase), None)

    def region_cost(self, stack: str, region: str, phase: str) -> RegionCost | None:
        return next((c for c in self.regions if (c.stack, c.region, c.phase)
                     == (stack, region, phase)), None)


@dataclass(frozen=True, slots=True)
class _Member:
    key: tuple[str, str, str, str]  # stack, component, region, replica
    cpu: tuple[Series, ...]
    resident: tuple[Series, ...]
    gpus: tuple[Series, ...]

    @property
    def error(self) -> str:
        lacking = [name for name, rows in (("cpu_seconds", self.cpu),
                                           ("resident_bytes", self.resident)) if not rows]
        return f"no {' or '.join(lacking)} series for {self.key[3]}" if lacking else ""


def cost_figures(metrics: Metrics, requests: StackRequests, prices: PriceTable,
                 stacks: Sequence[str], windows: Sequence[FaultWindow], *,
                 from_s: float, to_s: float, origin_s: float,
                 bucket_s: float) -> CostFigures:
    """Every cost figure of the run (module docstring); ``from_s``: the warm-up's end,
    ``to_s``: the last scheduled send, ``origin_s``: the load start (buckets align to it)."""
    errors = _missing(metrics)
    error = "; ".join(f"{name} missing ({why})" for name, why in errors.items())
    phases = _phases(windows, from_s, to_s)
    members = [] if error else _members(metrics)
    max_gap_s = 1.5 * metrics.index.step_s if metrics.index and metrics.index.step_s else None
    usage = _Usage(prices, max_gap_s)
    in_phase = {phase.key: _phase_mask(requests, windows, phase, from_s) for phase in phases}
    served = {(stack, region): requests.served(stack, region)
              for stack in stacks for region in _REGIONS}
    regions = [_region_cost(stack, region, phase, members,
                            int(np.count_nonzero(served[stack, region] & in_phase[phase.key])),
                            usage, error)
               for phase in phases for stack in stacks for region in _REGIONS]
    return CostFigures(
        currency=prices.currency, source=prices.source,
        prices={region: p.model_dump() for region, p in prices.regions.items()},
        phases=tuple(phases), regions=tuple(regions),
        stacks=tuple(_stack_cost(stack, phase.key, regions)
                     for phase in phases for stack in stacks),
        platform=tuple(_platform(members, stacks, phases[0], usage)),
        members=tuple(usage.member(m, phases[0].spans) for m in members
                      if m.key[0] in stacks),
        bucket_s=bucket_s,
        series=tuple(_series(members, stacks, usage, origin_s, to_s, bucket_s)),
        missing=tuple(errors), measurement_error=error, errors=errors)


def _missing(metrics: Metrics) -> dict[str, str]:
    """The needed series that cannot be used, and why: ``gpus`` may match nothing (no member
    holds a GPU), the others must have series."""
    missing = {}
    for name in COST_SERIES:
        why = metrics.why_missing(name)
        if not why and name != "gpus" and not metrics.of(name):
            why = "its query matched no series"
        if why:
            missing[name] = why
    return missing


def _phases(windows: Sequence[FaultWindow], from_s: float, to_s: float) -> list[Phase]:
    during = _union([_clip(w, from_s, to_s) for w in windows])
    phases = [Phase("all", "after the warm-up", ((from_s, to_s),) if to_s > from_s else ()),
              Phase("outside_faults", "steady state", _complement(during, from_s, to_s)),
              Phase("during_faults", "during faults", during)]
    for scenario in dict.fromkeys(w.scenario for w in windows):
        phases.append(Phase(f"fault:{scenario}", scenario, _union(
            [_clip(w, from_s, to_s) for w in windows if w.scenario == scenario])))
    return phases


def _clip(window: FaultWindow, from_s: float, to_s: float) -> tuple[float, float]:
    first_s = window.start_s if window.injecting_from_s is None \
        else min(window.start_s, window.injecting_from_s)
    end_s = to_s if window.end_s is None else window.end_s
    return max(first_s, from_s), min(end_s, to_s)


def _union(spans: Sequence[tuple[float, float]]) -> Spans:
    merged: list[tuple[float, float]] = []
    for start_s, end_s in sorted(s for s in spans if s[1] > s[0]):
        if merged and start_s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end_s))
        else:
            merged.append((start_s, end_s))
    return tuple(merged)


def _complement(spans: Spans, from_s: float, to_s: float) -> Spans:
    edges = [from_s, *[t for span in spans for t in span], to_s]
    return tuple((a, b) for a, b in zip(edges[::2], edges[1::2], strict=True) if b > a)


def _members(metrics: Metrics) -> list[_Member]:
    grouped: dict[tuple[str, str, str, str], dict[str, list[Series]]] = {}
    for name in COST_SERIES:
        for series in metrics.of(name):
            key = (series.label("stack"), series.label("component"), series.label("region"),
                   series.label("replica"))
            grouped.setdefault(key, {n: [] for n in COST_SERIES})[name].append(series)
    return [_Member(key, tuple(rows["cpu_seconds"]), tuple(rows["resident_bytes"]),
                    tuple(rows["gpus"])) for key, rows in sorted(grouped.items())]


class _Usage:
    """A member's CPU seconds, GiB-seconds and GPU-seconds over spans or buckets, priced."""

    def __init__(self, prices: PriceTable, max_gap_s: float | None) -> None:
        self.prices = prices
        self.max_gap_s = max_gap_s

    def over(self, member: _Member, edges_s: FloatArray) -> tuple[FloatArray, ...]:
        """Per interval between consecutive edges: cpu_s, gib_s, gpu_s, cost."""
        zero = np.zeros(max(edges_s.size - 1, 0))
        cpu = sum((counter_increases(s.t_s, s.values, edges_s) for s in member.cpu), zero)
        gib = sum((gauge_integrals(s.t_s, s.values, edges_s, max_gap_s=self.max_gap_s)
                   for s in member.resident), zero) / _GIB
        gpu = sum((gauge_integrals(s.t_s, s.values, edges_s, max_gap_s=self.max_gap_s)
                   for s in member.gpus), zero)
        price = self.prices.for_region(member.key[2])
        cost = (cpu * price.vcpu_hour + gib * price.gb_hour + gpu * price.gpu_hour) / 3600
        return cpu, gib, gpu, cost

    def total(self, member: _Member, spans: Spans) -> tuple[float, float, float, float]:
        if not spans:
            return 0.0, 0.0, 0.0, 0.0
        edges = np.array([t for span in spans for t in span], dtype=np.float64)
        cpu, gib, gpu, cost = (float(part[0::2].sum()) for part in self.over(member, edges))
        return cpu, gib, gpu, cost

    def member(self, member: _Member, spans: Spans) -> MemberCost:
        stack, component, region, name = member.key
        if member.error:
            return MemberCost(name, stack, component, region, None, None, None, None,
                              member.error)
        return MemberCost(name, stack, component, region, *self.total(member, spans))


def _phase_mask(requests: StackRequests, windows: Sequence[FaultWindow], phase: Phase,
                from_s: float) -> BoolArray:
    arrays = requests.requests
    if phase.key in _SCOPES:
        return scope_mask(arrays, windows, _SCOPES[phase.key], warmup_end_s=from_s)
    scenario = phase.key.removeprefix("fault:")
    mask: BoolArray = in_scope(arrays.scheduled_s,
                               [w for w in windows if w.scenario == scenario],
                               "during_faults", arrays.end_s) & (arrays.scheduled_s >= from_s)
    return mask


def _region_cost(stack: str, region: str, phase: Phase, members: Sequence[_Member],
                 served: int, usage: _Usage, error: str) -> RegionCost:
    chosen = [m for m in members if (m.key[0], m.key[2]) == (stack, region)]
    if not error and not any(m.key[0] == stack for m in members):
        error = f"no member of stack {stack} in the cpu_seconds or resident_bytes series"
    error = error or next((m.error for m in chosen if m.error), "")
    if error:
        return RegionCost(stack, region, phase.key, None, None, None, None, served,
                          served == 0, None, error)
    totals = np.array([usage.total(m, phase.spans) for m in chosen]).reshape(-1, 4).sum(axis=0)
    cpu_s, gib_s, gpu_s, cost = (float(value) for value in totals)
    return RegionCost(stack, region, phase.key, cpu_s, gib_s, gpu_s, cost, served,
                      served == 0, cost / served * 1000 if served else None)


def _stack_cost(stack: str, phase: str, regions: Sequence[RegionCost]) -> StackCost:
    cells = [c for c in regions if c.stack == stack and c.phase == phase]
    served = sum(c.served for c in cells)
    error = next((c.measurement_error for c in cells if c.measurement_error), "")
    if error:
        return StackCost(stack, phase, None, None, served, None, None, error)
    cost = sum(c.cost or 0.0 for c in cells if not c.standby)
    standby = sum(c.cost or 0.0 for c in cells if c.standby)
    return StackCost(stack, phase, cost, standby, served,
                     cost / served * 1000 if served else None,
                     (cost + standby) / served * 1000 if served else None)


def _platform(members: Sequence[_Member], stacks: Sequence[str], phase: Phase,
              usage: _Usage) -> list[PlatformCost]:
    parts: dict[tuple[str, str], list[MemberCost]] = {}
    for member in members:
        if member.key[0] not in stacks:
            parts.setdefault((member.key[0], member.key[2]), []).append(
                usage.member(member, phase.spans))
    costs = []
    for (part, region), rows in sorted(parts.items()):
        error = next((row.measurement_error for row in rows if row.measurement_error), "")
        if error:
            costs.append(PlatformCost(part, region, None, None, None, None, error))
            continue
        costs.append(PlatformCost(part, region, *(sum(getattr(row, name) for row in rows)
                                                 for name in ("cpu_s", "gib_s", "gpu_s",
                                                              "cost"))))
    return costs


def _series(members: Sequence[_Member], stacks: Sequence[str], usage: _Usage, origin_s: float,
            to_s: float, bucket_s: float) -> list[CostSeries]:
    if not members or to_s <= origin_s:
        return []
    count = int(np.ceil((to_s - origin_s) / bucket_s))
    edges: FloatArray = origin_s + bucket_s * np.arange(count + 1, dtype=np.float64)
    series = []
    for stack in stacks:
        for region in _REGIONS:
            chosen = [m for m in members if (m.key[0], m.key[2]) == (stack, region)
                      and not m.error]
            if chosen:
                cost: FloatArray = np.sum([usage.over(m, edges)[3] for m in chosen], axis=0)
                series.append(CostSeries(stack, region, tuple(float(t) for t in edges[:-1]),
                                         tuple(float(c) for c in cost)))
    return series
