"""Region outage actions: kill or freeze every member of a region, and restore it.

The platform holds a stopped region down (no restart policy brings it back) until
``restore_region``, and verifies each effect before it returns (every member refuses
connections; every process of a frozen region is stopped).
"""

from __future__ import annotations

import time
from typing import Any

from gameday.errors import FaultError
from gameday.faults.checks import describe, eventually
from gameday.faults.target import Configuration, capability
from gameday.platforms.base import MemberState, RegionControl

__all__ = ["freeze_region", "kill_region", "restore_region"]


def _check_not_empty(control: RegionControl, region: str) -> None:
    if not control.members(region=region):
        raise FaultError(f"region {region} has no member to take down")


def kill_region(region: str, configuration: Configuration = None) -> dict[str, Any]:
    """SIGKILL every process group of ``region``; verified: every member refuses connections."""
    control = capability(configuration, RegionControl)
    _check_not_empty(control, region)
    signalled_from_s = time.time()
    stopped = control.stop_region(region, freeze=False)
    signalled_by_s = time.time()
    return {"fault": "region-outage", "mode": "SIGKILL", "region": region,
            "members": describe(stopped),
            # ground truth for RTO checks: the signals went out between these two instants
            "signalled_from_s": signalled_from_s, "signalled_by_s": signalled_by_s}


def freeze_region(region: str, configuration: Configuration = None) -> dict[str, Any]:
    """SIGSTOP every process group of ``region``; verified: every process is stopped."""
    control = capability(configuration, RegionControl)
    _check_not_empty(control, region)
    stopped = control.stop_region(region, freeze=True)
    return {"fault": "region-freeze", "mode": "SIGSTOP", "region": region,
            "members": describe(stopped)}


def restore_region(region: str, configuration: Configuration = None) -> dict[str, Any]:
    """Bring every member of ``region`` back (restart or SIGCONT) and wait until healthy."""
    control = capability(configuration, RegionControl)
    control.restore_region(region)

    def healthy() -> bool:
        return all(m.state == MemberState.HEALTHY for m in control.members(region=region))

    if not eventually(healthy, timeout_s=30, interval_s=0.1):
        raise FaultError(f"restore_region {region}: members did not become healthy: "
                         f"{describe(control.members(region=region))}")
    return {"restored": region, "members": describe(control.members(region=region))}
