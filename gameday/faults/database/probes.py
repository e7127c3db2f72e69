"""Database probes (Chaos Toolkit steady-state hypotheses)."""

from __future__ import annotations

from typing import Any

from gameday.faults.database.nodes import primary_of, roles, streaming_standbys
from gameday.faults.target import Configuration, capability
from gameday.platforms.base import DatabaseAccess

__all__ = ["replicated_primary"]


def replicated_primary(stack: str = "rag", configuration: Configuration = None
                       ) -> dict[str, Any]:
    """``one_primary`` when exactly one node accepts writes (the steady state: it holds before
    a fault and again once the failover is done); ``healthy`` when, as well, every other node
    streams from it (what the rollback waits for)."""
    info = capability(configuration, DatabaseAccess).database(stack)
    primary = primary_of(info)
    streaming = streaming_standbys(info, primary) if primary else []
    return {"one_primary": primary is not None,
            "healthy": primary is not None and len(streaming) == len(info.nodes) - 1,
            "primary": primary.name if primary else None, "streaming": streaming,
            "nodes": [{"node": r.node.name, "up": r.up, "writable": r.writable,
                       "error": r.error} for r in roles(info)]}
