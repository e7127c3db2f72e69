"""Replica probes: how many replicas of a stack in a region are healthy."""

from __future__ import annotations

from gameday.faults.target import Configuration, platform_for

__all__ = ["healthy_replicas"]


def healthy_replicas(region: str, stack: str = "tabular",
                     configuration: Configuration = None) -> int:
    members = platform_for(configuration).members(region=region, stack=stack, role="replica")
    return sum(1 for m in members if m.state == "healthy")
