"""Region outage actions: kill or freeze every member of a region, and restore it.

The platform holds a stopped region down (no restart policy brings it back) until
``restore_region``; each action proves its effect before it returns.
"""

from __future__ import annotations

import time
from typing import Any

from gameday.errors import FaultError
from gameday.faults.checks import describe, eventually, http_status, tcp_state
from gameday.faults.target import Configuration, capability
from gameday.platforms.base import Member, RegionControl

__all__ = ["freeze_region", "kill_region", "restore_region"]


def _serving_members(control: RegionControl, region: str) -> list[Member]:
    members = control.members(region=region, role="replica")
    if not members:
        raise FaultError(f"region {region} has no replica to take down")
    return members


def kill_region(region: str, configuration: Configuration = None) -> dict[str, Any]:
    """SIGKILL every process of ``region``; verified: every member refuses connections."""
    control = capability(configuration, RegionControl)
    members = _serving_members(control, region)
    signalled_from_s = time.time()
    stopped = control.stop_region(region, freeze=False)
    signalled_by_s = time.time()
    still_open = [m.name for m in members if tcp_state(m.address, m.port) == "open"]
    if still_open:
        raise FaultError(f"kill_region {region}: still accepting connections: {still_open}")
    return {"fault": "region-outage", "mode": "SIGKILL", "region": region,
            "members": describe(stopped),
            # ground truth for RTO checks: the signals went out between these two instants
            "signalled_from_s": signalled_from_s, "signalled_by_s": signalled_by_s}


def freeze_region(region: str, configuration: Configuration = None) -> dict[str, Any]:
    """SIGSTOP every process of ``region``; verified: members accept but never answer."""
    control = capability(configuration, RegionControl)
    members = _serving_members(control, region)
    stopped = control.stop_region(region, freeze=True)
    answering = [m.name for m in members if _answers(m)]
    if answering:
        raise FaultError(f"freeze_region {region}: still answering: {answering}")
    return {"fault": "region-freeze", "mode": "SIGSTOP", "region": region,
            "members": describe(stopped)}


def restore_region(region: str, configuration: Configuration = None) -> dict[str, Any]:
    """Bring every member of ``region`` back (restart or SIGCONT) and wait until healthy."""
    control = capability(configuration, RegionControl)
    restored = control.restore_region(region)
    if not eventually(lambda: all(_answers(m) for m in restored), timeout_s=30):
        raise FaultError(f"restore_region {region}: members did not answer again")
    return {"restored": region, "members": describe(restored)}


def _answers(member: Member) -> bool:
    return http_status(f"{member.url}/health", timeout_s=0.5) == 200
