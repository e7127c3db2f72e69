"""Split brain: any instant at which two nodes accept writes, from samples of every node.

A probe asks every node every ~100 ms whether it accepts writes (``pg_is_in_recovery()`` is
false and a write succeeds). Each node's answer holds from its sample until its next one, but
no longer than ``max_age_s``: past that the node is unobserved, which is reported, never
counted as writable or as safe. A probe that got no answer (``writable`` None) makes the node
unobserved at once: a node that cannot be reached may still take writes from clients that
can reach it, and its last answer must not outlive the silence either (in promote mode the
standby is promoted 0.3 s after the primary stops answering, well within ``max_age_s``).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["RoleSample", "SplitBrain", "WritableWindow", "measure_split_brain"]


@dataclass(frozen=True, slots=True)
class RoleSample:
    t_s: float
    node: str
    writable: bool | None  # None: the node did not answer this probe


@dataclass(frozen=True, slots=True)
class WritableWindow:
    start_s: float
    end_s: float
    nodes: tuple[str, ...]  # every node writable throughout the window

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True, slots=True)
class SplitBrain:
    windows: tuple[WritableWindow, ...]  # two or more writable nodes at once
    unobserved_s: float  # summed time some node had no fresh sample

    @property
    def seconds(self) -> float:
        return sum(w.duration_s for w in self.windows)

    @property
    def happened(self) -> bool:
        return bool(self.windows)


def _intervals(samples: list[RoleSample],
               max_age_s: float) -> list[tuple[float, float, bool | None]]:
    """One node's (start, end, writable) intervals, each ending at the next sample or at
    ``max_age_s`` after its own, whichever is first."""
    ordered = sorted(samples, key=lambda s: s.t_s)
    spans = []
    for this, after in zip(ordered, [*ordered[1:], None], strict=True):
        end_s = this.t_s + max_age_s if after is None else min(after.t_s, this.t_s + max_age_s)
        spans.append((this.t_s, end_s, this.writable))
    return spans


def _state_at(spans: list[tuple[float, float, bool | None]], starts: list[float],
              t_s: float) -> bool | None:
    """The node's state at ``t_s`` (None: unobserved). A node's spans do not overlap and are
    in time order, so the one that may hold ``t_s`` is the last to start at or before it:
    a bisection, not a scan (a scan per instant is quadratic: 4 minutes of samples took
    0.33 s, an hour ~75 s, a day's soak would never finish)."""
    index = bisect.bisect_right(starts, t_s) - 1
    if index < 0 or t_s >= spans[index][1]:
        return None
    return spans[index][2]


def measure_split_brain(samples: Iterable[RoleSample], *, max_age_s: float = 0.5) -> SplitBrain:
    by_node: dict[str, list[RoleSample]] = {}
    for sample in samples:
        by_node.setdefault(sample.node, []).append(sample)
    spans = {node: _intervals(s, max_age_s) for node, s in by_node.items()}
    if not spans:
        return SplitBrain(windows=(), unobserved_s=0.0)
    edges = sorted({t for node in spans.values() for a, b, _ in node for t in (a, b)})
    first_s = min(a for node in spans.values() for a, _, _ in node)
    last_s = max(b for node in spans.values() for _, b, _ in node)
    starts = {node: [a for a, _, _ in node_spans] for node, node_spans in spans.items()}
    windows: list[WritableWindow] = []
    unobserved_s = 0.0
    for start_s, end_s in itertools.pairwise(edges):
        mid_s = (start_s + end_s) / 2
        states = {node: _state_at(node_spans, starts[node], mid_s)
                  for node, node_spans in spans.items()}
        if first_s <= mid_s <= last_s and any(state is None for state in states.values()):
            unobserved_s += end_s - start_s
        writable = tuple(sorted(node for node, state in states.items() if state))
        if len(writable) < 2:
            continue
        if windows and windows[-1].end_s == start_s and windows[-1].nodes == writable:
            windows[-1] = WritableWindow(windows[-1].start_s, end_s, writable)
        else:
            windows.append(WritableWindow(start_s, end_s, writable))
    return SplitBrain(windows=tuple(windows), unobserved_s=unobserved_s)
