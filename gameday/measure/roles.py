"""Each database node's role over time, from the role probe's samples (``DbSample``): when it
took writes, replayed WAL as a standby, was up but read-only, or did not answer.

A node's state holds from its sample until its next one, but no longer than ``max_age_s``;
past that it is unobserved and no interval covers it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from gameday.dbrecords import DbSample

__all__ = ["NodeState", "RoleChange", "RoleInterval", "node_state", "role_changes",
           "role_intervals"]

NodeState = Literal["writable", "standby", "read-only", "down"]


@dataclass(frozen=True, slots=True)
class RoleChange:
    """A node's state or Patroni role changed (or was first seen) at ``t_s``."""

    t_s: float
    node: str
    region: str
    state: NodeState
    role: str  # Patroni's name for it, "" without Patroni
    timeline: int | None
    previous_state: NodeState | None  # None: the node's first sample
    previous_role: str


@dataclass(frozen=True, slots=True)
class RoleInterval:
    node: str
    region: str
    state: NodeState
    start_s: float
    end_s: float


def node_state(sample: DbSample) -> NodeState:
    if not sample.up:
        return "down"  # no answer: the node may be dead, frozen or only cut off from the probe
    if sample.writable:
        return "writable"
    return "standby" if sample.in_recovery else "read-only"


def _by_node(samples: Iterable[DbSample]) -> dict[str, list[DbSample]]:
    nodes: dict[str, list[DbSample]] = {}
    for sample in sorted(samples, key=lambda s: s.t_s):
        nodes.setdefault(sample.node, []).append(sample)
    return nodes


def role_changes(samples: Iterable[DbSample]) -> tuple[RoleChange, ...]:
    """Every change of a node's (state, Patroni role), in time order."""
    changes = []
    for node_samples in _by_node(samples).values():
        previous: DbSample | None = None
        for sample in node_samples:
            if previous is None or (node_state(sample), sample.role) != (
                    node_state(previous), previous.role):
                changes.append(RoleChange(
                    sample.t_s, sample.node, sample.region, node_state(sample), sample.role,
                    sample.timeline, None if previous is None else node_state(previous),
                    "" if previous is None else previous.role))
            previous = sample
    return tuple(sorted(changes, key=lambda c: (c.t_s, c.node)))


def role_intervals(samples: Iterable[DbSample], max_age_s: float) -> tuple[RoleInterval, ...]:
    """Each node's states as intervals; a gap longer than ``max_age_s`` is left out."""
    intervals: list[RoleInterval] = []
    for node_samples in _by_node(samples).values():
        for this, after in zip(node_samples, [*node_samples[1:], None], strict=True):
            end_s = this.t_s + max_age_s if after is None \
                else min(after.t_s, this.t_s + max_age_s)
            state = node_state(this)
            last = intervals[-1] if intervals else None
            if last and last.node == this.node and last.state == state \
                    and last.end_s == this.t_s:
                intervals[-1] = RoleInterval(last.node, last.region, state, last.start_s, end_s)
            else:
                intervals.append(RoleInterval(this.node, this.region, state, this.t_s, end_s))
    return tuple(intervals)
