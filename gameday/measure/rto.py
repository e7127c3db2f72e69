"""Recovery time objective of one fault, measured exactly as DESIGN.md defines it.

RTO = time from fault start until the first instant t (>= fault start) after which every
request *scheduled* in [t, t + W] succeeded within the latency SLO; W is the stability window.
Candidate instants are the fault start and the scheduled time of the first request scheduled
after each bad one, so the resolution is the request spacing.

The parts (detect: the first bad request; failover: the first good answer from another
region; an answer the edge's cache served came from no region, so it is no failover) are
looked for among the requests scheduled from the fault start until the later of the recovery
instant and the fault's end (its rollback): a fault nobody noticed has no detect,
rather than the detect of a later fault in the same run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gameday.config import Suite
from gameday.measure.arrays import BoolArray, FloatArray, RequestArrays, Requests
from gameday.measure.windows import FaultWindow
from gameday.records import CACHE_REGION

__all__ = ["Rto", "measure_rto", "scenario_rtos"]


@dataclass(frozen=True, slots=True)
class Rto:
    """One fault's recovery, with its parts (seconds after fault start; None = never)."""

    fault_start_s: float
    stability_window_s: float
    latency_slo_s: float
    recovered: bool
    rto_s: float | None
    detect_s: float | None  # end of the first bad request ending at/after the fault start
    failover_s: float | None  # end of the first ok answer from another region
    recover_s: float | None  # the same as rto_s: the recovery part of the story
    recovered_at_s: float | None  # the instant t itself (epoch seconds)
    resolution_s: float | None  # median spacing of the scheduled sends
    requests: int  # scheduled from fault start until recovery (or the end of the data)
    bad_requests: int  # failed or slower than the latency SLO, in that span
    failed_requests: int
    slow_requests: int  # ok but slower than the latency SLO


def measure_rto(requests: Requests, *, fault_start_s: float, faulted_region: str,
                stability_window_s: float, latency_slo_s: float,
                fault_end_s: float | None = None) -> Rto:
    arrays = RequestArrays.coerce(requests)
    good = arrays.ok & (arrays.latency_s <= latency_slo_s)
    recovered_at_s = _recovery_instant(arrays.scheduled_s, good, fault_start_s,
                                       stability_window_s)
    rto_s = None if recovered_at_s is None else recovered_at_s - fault_start_s
    span_end_s = np.inf if recovered_at_s is None else recovered_at_s
    span = (arrays.scheduled_s >= fault_start_s) & (arrays.scheduled_s < span_end_s)
    parts_end_s = max(span_end_s, np.inf if fault_end_s is None else fault_end_s)
    impact = (arrays.scheduled_s >= fault_start_s) & (arrays.scheduled_s <= parts_end_s)
    return Rto(
        fault_start_s=fault_start_s,
        stability_window_s=stability_window_s,
        latency_slo_s=latency_slo_s,
        recovered=recovered_at_s is not None,
        rto_s=rto_s,
        detect_s=_first_end_after(
            arrays.end_s[~good & (arrays.scheduled_s <= parts_end_s)], fault_start_s),
        failover_s=_failover_s(arrays, impact, fault_start_s, faulted_region),
        recover_s=rto_s,
        recovered_at_s=recovered_at_s,
        resolution_s=_median_spacing_s(arrays.scheduled_s),
        requests=int(np.count_nonzero(span)),
        bad_requests=int(np.count_nonzero(span & ~good)),
        failed_requests=int(np.count_nonzero(span & ~arrays.ok)),
        slow_requests=int(np.count_nonzero(span & arrays.ok & ~good)),
    )


def _recovery_instant(scheduled_s: FloatArray, good: BoolArray, fault_start_s: float,
                      window_s: float) -> float | None:
    """First candidate t whose window [t, t + W] holds only good requests and is covered."""
    after = scheduled_s >= fault_start_s
    if not after.any():
        return None  # no data after the fault: nothing shows a recovery
    bad_index = np.flatnonzero(~good)
    bad_s = scheduled_s[bad_index]
    if not np.any(bad_s >= fault_start_s):
        return fault_start_s  # nothing went wrong: nothing to recover from
    # each bad request's follower: the first request scheduled strictly after it (two
    # generators may schedule at the same instant: the next row can be its twin, not later)
    followers = np.searchsorted(scheduled_s, bad_s, side="right")
    followers = followers[followers < scheduled_s.size]
    candidates = np.unique(np.concatenate(([fault_start_s], scheduled_s[followers])))
    last_s = float(scheduled_s[-1])
    for t_s in candidates[candidates >= fault_start_s]:
        if last_s < t_s + window_s:
            return None  # the data ends before a full stability window could pass
        first_bad = int(np.searchsorted(bad_s, t_s, side="left"))
        if first_bad == bad_s.size or bad_s[first_bad] > t_s + window_s:
            return float(t_s)
    return None


def _first_end_after(end_s: FloatArray, fault_start_s: float) -> float | None:
    later = end_s[end_s >= fault_start_s]
    return float(later.min()) - fault_start_s if later.size else None


def _failover_s(arrays: RequestArrays, impact: BoolArray, fault_start_s: float,
                faulted_region: str) -> float | None:
    elsewhere = (impact & arrays.ok & (arrays.region != faulted_region)
                 & (arrays.region != "") & (arrays.region != CACHE_REGION))
    ends = arrays.end_s[elsewhere]
    return float(ends.min()) - fault_start_s if ends.size else None


def _median_spacing_s(scheduled_s: FloatArray) -> float | None:
    return float(np.median(np.diff(scheduled_s))) if scheduled_s.size >= 2 else None


def scenario_rtos(requests: Requests, windows: Sequence[FaultWindow],
                  suite: Suite) -> dict[str, Rto]:
    """RTO of each scenario whose fault started, from its first fault window.

    The faulted region is the one the ``fault_start`` event names, else the suite's.
    """
    arrays = RequestArrays.coerce(requests)
    configured = {scenario.name: scenario.target_region for scenario in suite.scenarios}
    rtos: dict[str, Rto] = {}
    for window in windows:
        if window.scenario in rtos:
            continue
        rtos[window.scenario] = measure_rto(
            arrays,
            fault_start_s=window.start_s,
            faulted_region=window.target_region or configured.get(window.scenario, ""),
            stability_window_s=suite.measurement.stability_window_s,
            latency_slo_s=suite.measurement.latency_slo_s,
            fault_end_s=window.end_s,
        )
    return rtos
