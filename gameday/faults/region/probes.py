"""Region probes: is a region serving, is an endpoint healthy."""

from __future__ import annotations

from typing import Any

from gameday.faults.checks import http_status
from gameday.faults.target import Configuration, platform_for

__all__ = ["endpoint_healthy", "region_serving"]


def region_serving(region: str, stack: str = "tabular", path: str = "/ready",
                   component: str = "api",
                   configuration: Configuration = None) -> dict[str, Any]:
    """How many members of ``stack``'s ``component`` in ``region`` answer ``path`` with 200."""
    members = platform_for(configuration).members(region=region, stack=stack,
                                                  component=component)
    healthy = [m.name for m in members if http_status(f"{m.url}{path}", timeout_s=1) == 200]
    return {"region": region, "stack": stack, "replicas": len(members),
            "healthy": len(healthy), "healthy_members": healthy,
            "serving": bool(members) and len(healthy) > 0}


def endpoint_healthy(stack: str = "tabular", path: str = "/health",
                     configuration: Configuration = None) -> bool:
    """Does the global edge answer ``path`` of ``stack`` with 200?"""
    url = platform_for(configuration).edge_url(stack) + path
    return http_status(url, timeout_s=2) == 200
