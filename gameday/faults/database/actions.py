"""Database fault actions (Chaos Toolkit, ``gameday.faults.database.actions``).

Each finds the current primary by asking the nodes (``nodes.primary_of``), injects through the
platform, which records the fault with its owner and verifies it, and returns what it did with
the instants the signal went out (ground truth for RPO and write-RTO checks).

- ``kill_primary(how)``: ``postmaster`` SIGKILLs the postmaster alone (Patroni, or the
  supervisor's restart policy, brings it back in place); ``node`` SIGKILLs the node's whole
  process group (Patroni and postmaster) and holds it down; ``region`` takes the primary's
  whole region down (its etcd member too).
- ``freeze_primary``: SIGSTOP the primary's node, held until the rollback.
- ``partition_primary``: the primary's region cut off in the kernel (nftables).
- ``partition_dcs``: one etcd member cut from the other two (the primary's: minority; the
  standby's: majority), with the Patroni beside it; PostgreSQL untouched.
- ``fill_primary_disk``: the primary's size-capped data volume filled to the last byte.
- ``switchover``: a controlled hand-over through Patroni's REST API (patroni mode).
- ``slow_replication`` / ``cut_replication``: a latency or timeout toxic on the replication
  link into the primary's region (the WAL stream to the standby crosses it).
- ``restore_database`` (the rollback): releases whatever these faults hold, fences a stale
  second primary in promote mode (``fence_stale_primary``), then waits until exactly one node
  is writable and every other node streams from it: the old primary must have rejoined as a
  standby (pg_rewind) for the rollback to succeed.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from gameday.errors import FaultError
from gameday.faults.checks import eventually
from gameday.faults.database.nodes import hand_over, primary_of, roles, streaming_standbys
from gameday.faults.network.actions import heal_region, isolate_region
from gameday.faults.target import Configuration, capability, platform_for
from gameday.platforms.base import (
    REGIONS,
    DatabaseAccess,
    DatabaseInfo,
    DbNode,
    LinkControl,
    MemberState,
    NetworkControl,
    RegionControl,
    ToxicSpec,
)

__all__ = ["cut_replication", "fence_stale_primary", "fill_primary_disk", "freeze_primary",
           "heal_replication",
           "kill_primary", "partition_dcs", "partition_primary", "restore_database",
           "slow_replication", "switchover"]

_REPLICATION_LINK = "replication"
_TOXIC = "gameday-replication"
_HOLDING = (MemberState.HELD_DOWN, MemberState.FROZEN)


def fence_stale_primary(info: DatabaseInfo, control: RegionControl, fenced: list[str]) -> None:
    """Promote mode has no one to demote an old primary that comes back (a thawed freeze, a
    healed partition): two nodes take writes. The one on the older timeline is restarted once;
    its start script finds the other one primary and rejoins it as a standby (pg_rewind)."""
    if info.failover != "promote":
        return  # Patroni demotes its own
    writable = [r for r in roles(info) if r.writable]
    if len(writable) < 2:
        return
    stale = min(writable, key=lambda r: r.timeline or 0)
    if stale.node.name not in fenced:
        fenced.append(stale.node.name)
        control.kill_member(stale.node.name)


def _primary(configuration: Configuration, stack: str) -> tuple[DatabaseInfo, DbNode]:
    info = capability(configuration, DatabaseAccess).database(stack)
    primary = primary_of(info)
    if primary is None:
        raise FaultError(f"{stack}: no single writable primary to hit: "
                         f"{[(r.node.name, r.writable, r.error) for r in roles(info)]}")
    return info, primary


def kill_primary(how: Literal["postmaster", "node", "region"] = "node", stack: str = "rag",
                 configuration: Configuration = None) -> dict[str, Any]:
    """SIGKILL the primary's postmaster, node or region (see the module docstring)."""
    _, primary = _primary(configuration, stack)
    signalled_from_s = time.time()
    if how == "postmaster":
        pid = capability(configuration, DatabaseAccess).kill_postmaster(stack, primary.name)
        detail: dict[str, Any] = {"pid": pid}
    elif how == "node":
        held = capability(configuration, RegionControl).stop_members([primary.name],
                                                                     freeze=False)
        detail = {"held": [m.name for m in held]}
    elif how == "region":
        held = capability(configuration, RegionControl).stop_region(primary.region,
                                                                    freeze=False)
        detail = {"held": [m.name for m in held]}
    else:
        raise FaultError(f"kill_primary: how must be postmaster, node or region, got {how!r}")
    return {"fault": f"db-primary-kill-{how}", "primary": primary.name,
            "region": primary.region, **detail, "primary_lost_s": signalled_from_s,
            "signalled_from_s": signalled_from_s, "signalled_by_s": time.time()}


def freeze_primary(stack: str = "rag", configuration: Configuration = None) -> dict[str, Any]:
    """SIGSTOP the primary's node (Patroni and postmaster), held until the rollback."""
    _, primary = _primary(configuration, stack)
    signalled_from_s = time.time()
    capability(configuration, RegionControl).stop_members([primary.name], freeze=True)
    return {"fault": "db-primary-freeze", "primary": primary.name, "region": primary.region,
            "primary_lost_s": signalled_from_s,
            "signalled_from_s": signalled_from_s, "signalled_by_s": time.time()}


def _replication_toxic(configuration: Configuration, stack: str, toxic: ToxicSpec,
                       ) -> dict[str, Any]:
    _, primary = _primary(configuration, stack)
    done = capability(configuration, LinkControl).add_link_toxic(
        primary.region, toxic, stack=stack, link=_REPLICATION_LINK)
    return {"primary": primary.name, "region": primary.region, **done}


def slow_replication(latency_ms: float = 200, jitter_ms: float = 0, stack: str = "rag",
                     configuration: Configuration = None) -> dict[str, Any]:
    """Delay the WAL stream from the primary to its standby by ``latency_ms``."""
    return {"fault": "db-replication-latency", **_replication_toxic(
        configuration, stack, ToxicSpec(name=_TOXIC, type="latency", stream="downstream",
                                        attributes={"latency": latency_ms,
                                                    "jitter": jitter_ms}))}


def cut_replication(stack: str = "rag", configuration: Configuration = None) -> dict[str, Any]:
    """Stop every byte on the replication link (connections hang, nothing is refused)."""
    return {"fault": "db-replication-cut", **_replication_toxic(
        configuration, stack, ToxicSpec(name=_TOXIC, type="timeout", stream="downstream",
                                        attributes={"timeout": 0}))}


def partition_primary(stack: str = "rag", configuration: Configuration = None
                      ) -> dict[str, Any]:
    """Cut the primary's region off from everything else in the kernel (nftables, both
    directions): clients, the other region's node and etcd members, and the replication link.
    The harness still sees every node on its unix socket."""
    _, primary = _primary(configuration, stack)
    signalled_from_s = time.time()
    done = isolate_region(primary.region, "both", method="nftables",
                          configuration=configuration)
    return {**done, "fault": "db-primary-partition", "primary": primary.name,
            "region": primary.region, "primary_lost_s": signalled_from_s,
            "signalled_from_s": signalled_from_s, "signalled_by_s": time.time()}


def partition_dcs(side: Literal["minority", "majority"] = "minority", stack: str = "rag",
                  component: str = "etcd", configuration: Configuration = None
                  ) -> dict[str, Any]:
    """Cut one etcd member from the other two (nftables, by its region's user, so the Patroni
    beside it is cut with it): ``minority`` the primary's region's member (the primary's
    Patroni can no longer renew its lock: it must demote, or, with failsafe_mode, keep running
    only while it still reaches every member), ``majority`` the standby's (nothing should
    happen). PostgreSQL, clients and replication are untouched."""
    info, primary = _primary(configuration, stack)
    if side not in ("minority", "majority"):
        raise FaultError(f"partition_dcs: side must be minority or majority, got {side!r}")
    if side == "minority":
        region = primary.region
    else:
        region = next((n.region for n in info.nodes if n.region != primary.region), "")
    signalled_from_s = time.time()
    done = capability(configuration, NetworkControl).cut_from_peers(stack, component, region)
    return {"fault": f"db-dcs-partition-{side}", "primary": primary.name,
            "region": region, **done, "signalled_from_s": signalled_from_s,
            "signalled_by_s": time.time()}


def fill_primary_disk(stack: str = "rag", configuration: Configuration = None
                      ) -> dict[str, Any]:
    """Fill the primary's data volume (size-capped: the suite's ``database.disk_mb``) until
    no byte is left: WAL cannot be written, the postmaster panics."""
    _, primary = _primary(configuration, stack)
    signalled_from_s = time.time()
    done = capability(configuration, DatabaseAccess).fill_disk(primary.name)
    return {"fault": "db-disk-full", "primary": primary.name, "region": primary.region,
            **done, "signalled_from_s": signalled_from_s, "signalled_by_s": time.time()}


def switchover(stack: str = "rag", timeout_s: float = 60,
               configuration: Configuration = None) -> dict[str, Any]:
    """A controlled switchover (Patroni mode): the leader hands over to the standby through
    Patroni's REST API, then this waits until the standby is the one writable node."""
    info, primary = _primary(configuration, stack)
    candidates = [n for n in info.nodes if n.name != primary.name]
    if info.failover != "patroni" or primary.patroni_url is None or not candidates:
        raise FaultError(f"switchover needs patroni mode and a standby (failover "
                         f"{info.failover!r}, {len(candidates)} standbys)")
    candidate = candidates[0]
    asked_s = time.time()
    said = hand_over(info, primary, candidate, timeout_s)
    return {"fault": "db-switchover", "primary": primary.name, "region": primary.region,
            "candidate": candidate.name, "primary_lost_s": asked_s,
            "signalled_from_s": asked_s, "took_s": time.time() - asked_s,
            "patroni": said}


def heal_replication(configuration: Configuration = None) -> dict[str, Any]:
    links = capability(configuration, LinkControl)
    removed = sum(links.remove_link_toxic(region, _TOXIC) for region in REGIONS)
    return {"removed_from_links": removed}


def restore_database(stack: str = "rag", timeout_s: float = 120,
                     configuration: Configuration = None) -> dict[str, Any]:
    """Release what the database faults hold, then wait for one primary with every other node
    streaming from it (the old primary rejoined, by pg_rewind where it had diverged)."""
    access = capability(configuration, DatabaseAccess)
    control = capability(configuration, RegionControl)
    info = access.database(stack)
    heal_replication(configuration)
    for region in REGIONS:
        heal_region(region, configuration=configuration)
    platform = platform_for(configuration)
    if isinstance(platform, NetworkControl) and platform.isolation_available()[0]:
        platform.heal_peers(stack, "etcd")
    access.free_disks()
    members = control.members(stack=stack)
    held = [m.name for m in members if m.state in _HOLDING]
    control.restore_members([m.name for m in members])  # the node holds
    for region in sorted({m.region for m in control.members() if m.state in _HOLDING}):
        control.restore_region(region)  # what a region hold still holds
    started_s = time.time()
    state: dict[str, Any] = {"fenced": []}

    def converged() -> bool:
        fence_stale_primary(info, control, state["fenced"])
        primary = primary_of(info)
        if primary is None:
            return False
        state["primary"] = primary.name
        state["streaming"] = streaming_standbys(info, primary)
        return len(state["streaming"]) == len(info.nodes) - 1

    if not eventually(converged, timeout_s=timeout_s, interval_s=0.5):
        raise FaultError(f"restore_database: no single primary with every standby streaming "
                         f"within {timeout_s:g} s: {state or 'no writable primary'}; roles "
                         f"{[(r.node.name, r.up, r.writable) for r in roles(info)]}")
    return {"restored": held, "fenced": state["fenced"], "primary": state["primary"],
            "streaming": state["streaming"], "converged_after_s": time.time() - started_s}
