"""Time windows of a run taken from the harness's event log: faults, warm-up, load start."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from gameday.measure.arrays import BoolArray, FloatArray
from gameday.records import Event, EventKind

__all__ = [
    "FaultWindow",
    "Scope",
    "fault_windows",
    "in_scope",
    "load_start_s",
    "scope_span_s",
    "warmup_end_s",
]

Scope = Literal["all", "outside_faults", "during_faults"]


@dataclass(frozen=True, slots=True)
class FaultWindow:
    """When a scenario's fault held: from its action's return to its rollback's return.

    ``end_s`` is None when no rollback returned (failed or interrupted): the window stays
    open up to the end of the data. ``injecting_from_s`` is when the fault action started:
    requests sent while it was injecting (the fault may already bite) are not counted as
    "outside faults", though RTO is measured from ``start_s`` as DESIGN.md defines it.
    ``rollback_from_s`` is when the rollbacks started (None: not recorded, older logs).
    """

    scenario: str
    target_region: str
    start_s: float
    end_s: float | None
    injecting_from_s: float | None = None
    rollback_from_s: float | None = None

    def contains(self, times_s: FloatArray, ends_s: FloatArray | None = None) -> BoolArray:
        """Which of the (scheduled) times fall in the window, start included, end excluded;
        with ``ends_s`` (each request's end) also those scheduled before it but still in
        flight when it began: the fault bit them too."""
        first_s = self.start_s if self.injecting_from_s is None \
            else min(self.start_s, self.injecting_from_s)
        inside = (times_s >= first_s) if ends_s is None else (ends_s > first_s)
        if self.end_s is not None:
            inside &= times_s < self.end_s
        return inside


def fault_windows(events: Sequence[Event]) -> list[FaultWindow]:
    """Every fault window in the log, in the order the faults started.

    A ``fault_end`` closes the oldest open window of the same scenario.
    """
    windows: list[FaultWindow] = []
    for event in events:
        if event.kind == EventKind.FAULT_START:
            region = str(event.detail.get("target_region", ""))
            injecting = event.detail.get("action_started_s")
            windows.append(FaultWindow(event.scenario, region, event.t_s, None,
                                       float(injecting) if injecting is not None else None))
        elif event.kind == EventKind.FAULT_END:
            for index, window in enumerate(windows):
                if window.scenario == event.scenario and window.end_s is None:
                    rollback = event.detail.get("rollback_started_s")
                    windows[index] = replace(
                        window, end_s=event.t_s,
                        rollback_from_s=None if rollback is None else float(rollback))
                    break
    return windows


def in_scope(scheduled_s: FloatArray, windows: Sequence[FaultWindow], scope: Scope,
             end_s: FloatArray | None = None) -> BoolArray:
    """Mask of the requests that belong to a scope: by scheduled time, and with ``end_s`` a
    request still in flight when a fault began is during it (a two-second answer sent just
    before a region died is the fault's casualty, not an outside-faults failure)."""
    during = np.zeros(scheduled_s.shape, dtype=np.bool_)
    for window in windows:
        during |= window.contains(scheduled_s, end_s)
    if scope == "during_faults":
        return during
    if scope == "outside_faults":
        return ~during
    return np.ones(scheduled_s.shape, dtype=np.bool_)


def scope_span_s(windows: Sequence[FaultWindow], scope: Scope, from_s: float,
                 to_s: float) -> float:
    """Seconds of ``[from_s, to_s)`` that belong to a scope (overlapping windows count once)."""
    if to_s <= from_s:
        return 0.0
    during_s = 0.0
    reached_s = from_s
    for first_s, end_s in sorted(_clipped(window, from_s, to_s) for window in windows):
        first_s = max(first_s, reached_s)
        if end_s > first_s:
            during_s += end_s - first_s
            reached_s = end_s
    if scope == "during_faults":
        return during_s
    return to_s - from_s - (during_s if scope == "outside_faults" else 0.0)


def _clipped(window: FaultWindow, from_s: float, to_s: float) -> tuple[float, float]:
    first_s = window.start_s if window.injecting_from_s is None \
        else min(window.start_s, window.injecting_from_s)
    end_s = to_s if window.end_s is None else window.end_s
    return max(first_s, from_s), min(end_s, to_s)


def _first_event_s(events: Sequence[Event], kind: str) -> float | None:
    return next((event.t_s for event in events if event.kind == kind), None)


def load_start_s(events: Sequence[Event], first_scheduled_s: float | None) -> float | None:
    """Origin of the report's time axis: the ``load_start`` event, else the first send."""
    logged = _first_event_s(events, EventKind.LOAD_START)
    return first_scheduled_s if logged is None else logged


def warmup_end_s(events: Sequence[Event], first_scheduled_s: float | None,
                 warmup_s: float) -> float | None:
    """End of the warm-up: the ``warmup_end`` event, else load start + the suite's warm-up.

    Requests scheduled before it count for nothing but the greyed part of the charts.
    """
    logged = _first_event_s(events, EventKind.WARMUP_END)
    if logged is not None:
        return logged
    start_s = load_start_s(events, first_scheduled_s)
    return None if start_s is None else start_s + warmup_s
