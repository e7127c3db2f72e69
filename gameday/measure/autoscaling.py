"""How the autoscaler answered each upward step of the load (DESIGN.md, "Autoscaling"), from
its log and the load's steps (``gameday.measure.autoscaler_log``), the members' ``member_up``
series and the request records.

Per upward step of a stack's offered rate, due at ``at_s``:

- reaction = the first decision for that stack with desired > current at or after ``at_s``
  and before the stack's next step, minus ``at_s``;
- time to ready = from that decision to the ``scaled`` line that completed it (the one its
  decision started; else the next upward change of that component and region begun after
  it): the new members healthy and serving at the edge;
- SLO held during scale-out = availability and latency (at the suite's latency SLO's
  percentile, p99 without one) of the stack's requests scheduled from ``at_s`` until ready
  (until the next step or the end when it never got ready), against the suite's
  availability and latency objectives when it has them;
- over-provisioning after the surge = from the next downward step to the end of the run,
  the replica-seconds above the stack's replica count just before ``at_s`` (the pre-surge
  count), and the time until the count was back to it (None: never).

Replicas = members of the stack up (``member_up`` 1) on the snapshot's grid, per component
and region; a member absent from a grid point is not up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from gameday.measure.arrays import FloatArray, percentile
from gameday.measure.autoscaler_log import AutoscalerLog, Decision, LoadStep, Scaled
from gameday.measure.series import Metrics
from gameday.measure.served import StackRequests
from gameday.slos import AvailabilitySlo, LatencySlo

__all__ = ["AutoscalingFigures", "Objectives", "RateSeries", "ReplicaSeries", "StepFigures",
           "autoscaling_figures", "objectives_of"]

_UP = "member_up"
_SAME_START_S = 1e-6


@dataclass(frozen=True, slots=True)
class Objectives:
    """What a scale-out is held to: the suite's availability and latency objectives."""

    availability: float | None = None
    latency_percentile: float = 99.0
    latency_threshold_s: float | None = None


def objectives_of(slos: Sequence[object]) -> Objectives:
    """The first availability and the first latency SLO of the suite."""
    availability = next((s for s in slos if isinstance(s, AvailabilitySlo)), None)
    latency = next((s for s in slos if isinstance(s, LatencySlo)), None)
    return Objectives(None if availability is None else availability.objective,
                      99.0 if latency is None else latency.percentile,
                      None if latency is None else latency.threshold_s)


@dataclass(frozen=True, slots=True)
class ReplicaSeries:
    stack: str
    component: str
    region: str
    t_s: tuple[float, ...]
    replicas: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class RateSeries:
    """A stack's offered rate (change points) and the rate it was sent at (per bucket)."""

    stack: str
    offered_t_s: tuple[float, ...]
    offered_per_s: tuple[float, ...]
    bucket_s: float
    sent_t_s: tuple[float, ...]
    sent_per_s: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class StepFigures:
    stack: str
    at_s: float
    from_rate_per_s: float
    to_rate_per_s: float
    decision_s: float | None = None
    reaction_s: float | None = None
    component: str = ""
    region: str = ""
    ready_s: float | None = None
    time_to_ready_s: float | None = None
    scaled_from: int | None = None
    scaled_to: int | None = None
    requests: int = 0
    failed: int = 0
    availability: float | None = None
    latency_percentile: float = 99.0
    latency_s: float | None = None
    slo_held: bool | None = None  # None: the suite has neither objective, or no request
    down_at_s: float | None = None  # the next downward step
    pre_surge_replicas: int | None = None
    over_provisioned_replica_s: float | None = None
    back_to_pre_surge_s: float | None = None
    measurement_error: str = ""  # replicas not measured (member_up missing)


@dataclass(frozen=True, slots=True)
class AutoscalingFigures:
    steps: tuple[StepFigures, ...]
    replicas: tuple[ReplicaSeries, ...]
    rates: tuple[RateSeries, ...]
    decisions: tuple[Decision, ...]  # those that changed the count (desired != current)
    load_steps: tuple[LoadStep, ...]
    problems: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    measurement_error: str = ""


def autoscaling_figures(log: AutoscalerLog | None, steps: Sequence[LoadStep],
                        rates: dict[str, tuple[tuple[float, float], ...]], metrics: Metrics,
                        requests: StackRequests, stacks: Sequence[str],
                        objectives: Objectives, *, to_s: float, origin_s: float,
                        bucket_s: float) -> AutoscalingFigures | None:
    """None when the run neither autoscaled nor stepped its load."""
    if log is None and not steps:
        return None
    log = log or AutoscalerLog((), ())
    why = metrics.why_missing(_UP) or ("" if metrics.of(_UP) else "its query matched no series")
    error = f"{_UP} missing ({why})" if why else ""
    replicas = () if error else _replicas(metrics, stacks)
    figures = tuple(_step(step, steps, log, replicas, requests, objectives, to_s, error)
                    for step in steps if step.upward)
    return AutoscalingFigures(
        steps=figures, replicas=replicas,
        rates=tuple(_rates(stack, rates.get(stack, ()), requests, origin_s, to_s, bucket_s)
                    for stack in stacks if stack in rates or log.decisions),
        decisions=tuple(d for d in log.decisions if d.desired != d.current),
        load_steps=tuple(steps), problems=log.problems, missing=(_UP,) if error else (),
        measurement_error=error)


def _replicas(metrics: Metrics, stacks: Sequence[str]) -> tuple[ReplicaSeries, ...]:
    index = metrics.index
    if index is None or index.step_s <= 0:
        return ()
    grid = index.start_s + index.step_s * np.arange(
        round((index.end_s - index.start_s) / index.step_s) + 1)
    counts: dict[tuple[str, str, str], FloatArray] = {}
    for series in metrics.of(_UP):
        key = (series.label("stack"), series.label("component"), series.label("region"))
        if key[0] not in stacks:
            continue
        slots = np.rint((series.t_s - index.start_s) / index.step_s).astype(np.int64)
        keep = (slots >= 0) & (slots < grid.size) & (series.values >= 0.5)
        up = np.zeros(grid.size)
        up[slots[keep]] = 1.0
        counts[key] = counts.get(key, np.zeros(grid.size)) + up
    times = tuple(float(t) for t in grid)
    return tuple(ReplicaSeries(*key, times, tuple(int(n) for n in count))
                 for key, count in sorted(counts.items()))


def _stack_replicas(replicas: Sequence[ReplicaSeries], stack: str) -> tuple[FloatArray,
                                                                             FloatArray]:
    mine = [r for r in replicas if r.stack == stack]
    if not mine:
        return np.array([]), np.array([])
    return (np.array(mine[0].t_s),
            np.sum([np.array(r.replicas, dtype=np.float64) for r in mine], axis=0))


def _step(step: LoadStep, steps: Sequence[LoadStep], log: AutoscalerLog,
          replicas: Sequence[ReplicaSeries], requests: StackRequests, objectives: Objectives,
          to_s: float, error: str) -> StepFigures:
    later = [s for s in steps if s.stack == step.stack and s.at_s > step.at_s]
    until_s = later[0].at_s if later else to_s
    decision = next((d for d in log.decisions if d.stack == step.stack and d.desired > d.current
                     and step.at_s <= d.t_s < until_s), None)
    scaled = None if decision is None else _completion(decision, log.scaled)
    held_until_s = scaled.t_s if scaled is not None else until_s
    figures = StepFigures(
        step.stack, step.at_s, step.from_rate_per_s, step.to_rate_per_s,
        decision_s=None if decision is None else decision.t_s,
        reaction_s=None if decision is None else decision.t_s - step.at_s,
        component="" if decision is None else decision.component,
        region="" if decision is None else decision.region,
        ready_s=None if scaled is None else scaled.t_s,
        time_to_ready_s=None if scaled is None or decision is None
        else scaled.t_s - decision.t_s,
        scaled_from=None if scaled is None else scaled.from_replicas,
        scaled_to=None if scaled is None else scaled.to_replicas,
        down_at_s=next((s.at_s for s in later if not s.upward), None),
        measurement_error=error)
    figures = _held(figures, requests, objectives, step.at_s, held_until_s)
    return figures if error else _over_provisioning(figures, replicas, to_s)


def _completion(decision: Decision, scaled: Sequence[Scaled]) -> Scaled | None:
    """The ``scaled`` line the decision began, else the next upward one begun after it."""
    mine = [s for s in scaled if (s.stack, s.component, s.region)
            == (decision.stack, decision.component, decision.region)
            and s.to_replicas > s.from_replicas]
    begun = [s for s in mine if abs(s.started_s - decision.t_s) <= _SAME_START_S]
    return next(iter(begun or [s for s in mine if s.started_s >= decision.t_s]), None)


def _held(figures: StepFigures, requests: StackRequests, objectives: Objectives,
          from_s: float, until_s: float) -> StepFigures:
    arrays = requests.of(figures.stack)
    judged = arrays.select((arrays.scheduled_s >= from_s) & (arrays.scheduled_s < until_s))
    count = len(judged)
    failed = count - int(np.count_nonzero(judged.ok))
    availability = 1 - failed / count if count else None
    latency_s = percentile(judged.latency_s, objectives.latency_percentile)
    checks = []
    if objectives.availability is not None and availability is not None:
        checks.append(availability >= objectives.availability)
    if objectives.latency_threshold_s is not None and latency_s is not None:
        checks.append(latency_s <= objectives.latency_threshold_s)
    return replace(figures, requests=count, failed=failed, availability=availability,
                    latency_percentile=objectives.latency_percentile, latency_s=latency_s,
                    slo_held=all(checks) if checks else None)


def _over_provisioning(figures: StepFigures, replicas: Sequence[ReplicaSeries],
                       to_s: float) -> StepFigures:
    t_s, count = _stack_replicas(replicas, figures.stack)
    before = t_s < figures.at_s
    if not before.any():
        return figures
    pre = int(count[before][-1])
    figures = replace(figures, pre_surge_replicas=pre)
    if figures.down_at_s is None:
        return figures
    after = (t_s >= figures.down_at_s) & (t_s < to_s)
    step_s = float(np.median(np.diff(t_s))) if t_s.size > 1 else 0.0
    above = np.clip(count[after] - pre, 0, None)
    back = t_s[after][count[after] <= pre]
    return replace(figures, over_provisioned_replica_s=float(above.sum() * step_s),
                    back_to_pre_surge_s=float(back[0] - figures.down_at_s) if back.size
                    else None)


def _rates(stack: str, changes: tuple[tuple[float, float], ...], requests: StackRequests,
           origin_s: float, to_s: float, bucket_s: float) -> RateSeries:
    scheduled = requests.of(stack).scheduled_s
    count = max(int(np.ceil((to_s - origin_s) / bucket_s)), 0)
    edges = origin_s + bucket_s * np.arange(count + 1)
    sent, _ = np.histogram(scheduled, bins=edges) if count else (np.array([]), None)
    return RateSeries(stack, tuple(t for t, _ in changes), tuple(r for _, r in changes),
                      bucket_s, tuple(float(t) for t in edges[:-1]),
                      tuple(float(n) / bucket_s for n in sent))
