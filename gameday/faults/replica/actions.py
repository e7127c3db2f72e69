"""Kill one replica (SIGKILL); verified: the process is gone (its restart is the platform's job)."""

from __future__ import annotations

from typing import Any

import psutil

from gameday.errors import FaultError
from gameday.faults.checks import eventually
from gameday.faults.target import Configuration, capability
from gameday.platforms.base import RegionControl

__all__ = ["kill_replica", "wait_replicas_healthy"]


def kill_replica(region: str, stack: str = "tabular", index: int = 1,
                 configuration: Configuration = None) -> dict[str, Any]:
    """SIGKILL the ``index``-th (1-based) replica of ``stack`` in ``region``."""
    control = capability(configuration, RegionControl)
    members = sorted(control.members(region=region, stack=stack, role="replica"),
                     key=lambda m: m.name)
    if not 1 <= index <= len(members):
        raise FaultError(f"{stack} in {region} has {len(members)} replicas; index {index} "
                         "is out of range")
    target = members[index - 1]
    if target.pid is None:
        raise FaultError(f"{target.name} is not running (state {target.state})")
    killed = control.kill_member(target.name)
    if not eventually(lambda: not psutil.pid_exists(target.pid or 0) or _zombie(target.pid), 5):
        raise FaultError(f"{target.name} (pid {target.pid}) survived SIGKILL")
    return {"fault": "replica-kill", "member": killed.name, "pid": target.pid,
            "address": f"{killed.address}:{killed.port}"}


def _zombie(pid: int | None) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_replicas_healthy(region: str, stack: str = "tabular", timeout_s: float = 60,
                          configuration: Configuration = None) -> dict[str, Any]:
    """Wait until every replica of ``stack`` in ``region`` is healthy again (restart policy)."""
    control = capability(configuration, RegionControl)

    def _all_healthy() -> bool:
        members = control.members(region=region, stack=stack, role="replica")
        return bool(members) and all(m.state == "healthy" for m in members)

    if not eventually(_all_healthy, timeout_s, interval_s=0.1):
        raise FaultError(f"{stack} replicas in {region} not all healthy within {timeout_s} s")
    return {"region": region, "stack": stack, "healthy": True}
