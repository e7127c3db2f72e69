"""The edge's view of a run: when HAProxy held each server up, down, draining or in
maintenance, from the samples the orchestrator logged on every change (``edge.jsonl``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from gameday.records import EdgeServerSample

__all__ = ["EdgeInterval", "EdgeState", "edge_intervals", "edge_state", "first_marked_down_s"]

EdgeState = Literal["up", "down", "drain", "maint"]


@dataclass(frozen=True, slots=True)
class EdgeInterval:
    """One server held in one state from ``start_s`` until ``end_s`` (epoch seconds)."""

    backend: str
    server: str
    region: str
    state: EdgeState
    start_s: float
    end_s: float
    check: str  # the last check result that opened the interval (L7OK, L4CON, ...)


def edge_state(sample: EdgeServerSample) -> EdgeState:
    """Maintenance first (health checks may be off), then health, then draining."""
    if sample.admin == "maint":
        return "maint"
    if not sample.up:
        return "down"
    return "drain" if sample.admin == "drain" else "up"


def edge_intervals(samples: Sequence[EdgeServerSample], end_s: float) -> list[EdgeInterval]:
    """Each server's states as intervals, in server order then time; the last one of each
    server lasts until ``end_s`` (the end of the run). Repeated samples of a state merge."""
    by_server: dict[tuple[str, str], list[EdgeServerSample]] = {}
    for sample in sorted(samples, key=lambda s: s.t_s):
        by_server.setdefault((sample.backend, sample.server), []).append(sample)
    intervals: list[EdgeInterval] = []
    for key in sorted(by_server):
        intervals.extend(_server_intervals(by_server[key], end_s))
    return intervals


def _server_intervals(samples: list[EdgeServerSample], end_s: float) -> list[EdgeInterval]:
    changes = [s for index, s in enumerate(samples)
               if index == 0 or edge_state(s) != edge_state(samples[index - 1])]
    ends = [change.t_s for change in changes[1:]] + [max(end_s, changes[-1].t_s)]
    return [EdgeInterval(s.backend, s.server, s.region, edge_state(s), s.t_s, until_s, s.check)
            for s, until_s in zip(changes, ends, strict=True)]


def first_marked_down_s(intervals: Sequence[EdgeInterval], region: str,
                        after_s: float, before_s: float | None = None) -> float | None:
    """Seconds after ``after_s`` (a fault start) at which the edge first marked a server of
    ``region`` down, before ``before_s`` (the fault's end; None: no end); None if it never
    did (or the edge's view was not recorded)."""
    starts = [i.start_s for i in intervals
              if i.region == region and i.state == "down" and i.start_s >= after_s
              and (before_s is None or i.start_s < before_s)]
    return min(starts) - after_s if starts else None
