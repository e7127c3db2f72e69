"""Replica probes: how many members of a stack's component in a region are healthy."""

from __future__ import annotations

from gameday.faults.target import Configuration, platform_for
from gameday.platforms.base import MemberState

__all__ = ["healthy_replicas"]


def healthy_replicas(region: str, stack: str = "tabular", component: str = "api",
                     configuration: Configuration = None) -> int:
    members = platform_for(configuration).members(region=region, stack=stack,
                                                  component=component)
    return sum(1 for m in members if m.state == MemberState.HEALTHY)
