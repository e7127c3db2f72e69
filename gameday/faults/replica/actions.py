"""Kill one member (SIGKILL of its process group; on kind, its pod deleted with no grace);
verified through the platform: the member the platform reports has exited or runs under a new
pid, or (a pod, which has no host pid) its uid is gone (its restart is the platform's job).
Hold a whole component of a region down or frozen (SIGSTOP: a hung dependency whose port
still accepts connections) until the rollback restores it."""

from __future__ import annotations

from typing import Any

from gameday.errors import FaultError
from gameday.faults.checks import eventually
from gameday.faults.target import Configuration, capability
from gameday.platforms.base import MemberState, RegionControl

__all__ = ["hold_component", "kill_replica", "restore_component", "wait_replicas_healthy"]

_RUNNING = (MemberState.HEALTHY, MemberState.UNHEALTHY, MemberState.STARTING)


def kill_replica(region: str, stack: str = "tabular", index: int = 1, component: str = "api",
                 configuration: Configuration = None) -> dict[str, Any]:
    """SIGKILL the ``index``-th (1-based, by name) member of ``stack``'s ``component``."""
    control = capability(configuration, RegionControl)
    members = sorted(control.members(region=region, stack=stack, component=component),
                     key=lambda m: m.name)
    if not 1 <= index <= len(members):
        raise FaultError(f"{stack} {component} in {region} has {len(members)} members; index "
                         f"{index} is out of range")
    target = members[index - 1]
    if target.state not in _RUNNING:
        raise FaultError(f"{target.name} is not running (state {target.state})")
    killed = control.kill_member(target.name)

    def gone() -> bool:
        if target.pid is None:  # a pod (kind): kill_member saw its uid go
            return True
        now = next((m for m in control.members() if m.name == target.name), None)
        return now is None or now.pid != target.pid or now.state in (
            MemberState.EXITED, MemberState.STARTING)

    if not eventually(gone, 5):
        raise FaultError(f"{target.name} (pid {target.pid}) survived SIGKILL")
    return {"fault": "replica-kill", "member": killed.name, "pid": target.pid,
            "address": f"{killed.address}:{killed.port}"}


def hold_component(region: str, stack: str, component: str, freeze: bool = True,
                   configuration: Configuration = None) -> dict[str, Any]:
    """Every member of ``stack``'s ``component`` in ``region`` killed and held down
    (``freeze`` false) or frozen, until ``restore_component``."""
    control = capability(configuration, RegionControl)
    members = control.members(region=region, stack=stack, component=component)
    if not members:
        raise FaultError(f"{stack} has no {component} members in {region}: nothing to hold")
    held = control.stop_members([m.name for m in members], freeze=freeze)
    wanted = MemberState.FROZEN if freeze else MemberState.HELD_DOWN
    names = {m.name for m in held}
    if not names or not eventually(lambda: all(
            m.state == wanted for m in control.members() if m.name in names), 5):
        raise FaultError(f"{stack} {component} in {region} not {wanted} after the hold: "
                         f"{[(m.name, m.state) for m in control.members() if m.name in names]}")
    return {"fault": f"{component}-{'freeze' if freeze else 'outage'}", "region": region,
            "held": sorted(names)}


def restore_component(region: str, stack: str, component: str, timeout_s: float = 60,
                      configuration: Configuration = None) -> dict[str, Any]:
    """Thaw or restart what ``hold_component`` held, and wait until it is healthy again."""
    control = capability(configuration, RegionControl)
    members = control.members(region=region, stack=stack, component=component)
    control.restore_members([m.name for m in members])
    return wait_replicas_healthy(region, stack, timeout_s, component,
                                 configuration=configuration)


def wait_replicas_healthy(region: str, stack: str = "tabular", timeout_s: float = 60,
                          component: str = "api",
                          configuration: Configuration = None) -> dict[str, Any]:
    """Wait until every member of the component in ``region`` is healthy again."""
    control = capability(configuration, RegionControl)

    def _all_healthy() -> bool:
        members = control.members(region=region, stack=stack, component=component)
        return bool(members) and all(m.state == MemberState.HEALTHY for m in members)

    if not eventually(_all_healthy, timeout_s, interval_s=0.1):
        raise FaultError(f"{stack} {component} in {region} not all healthy within "
                         f"{timeout_s} s")
    return {"region": region, "stack": stack, "healthy": True}
