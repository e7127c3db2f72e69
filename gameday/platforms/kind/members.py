"""What a member is on kind: one pod, named ``<pod>.<region>`` (a StatefulSet's ``rag-db-0``
exists in both clusters; ``database.db_node_name`` names the database's nodes so too),
reached from the host at its component's Service (the NodePort each control-plane node
publishes on 127.0.0.1, ``layout.host_port``)."""

from __future__ import annotations

from gameday.platforms.base import REGIONS, Member, MemberState
from gameday.platforms.kind.faultbase import HeldMember
from gameday.platforms.kind.kube import PodView
from gameday.platforms.kind.layout import NODE_PORTS, host_port

__all__ = ["held_member", "member_name", "member_state", "pod_member", "split_member_name"]

_SEPARATOR = "."


def member_name(region: str, pod: str) -> str:
    return f"{pod}{_SEPARATOR}{region}"


def split_member_name(name: str) -> tuple[str | None, str]:
    """(region, pod) of a member name; region None for a bare pod name."""
    pod, _, region = name.rpartition(_SEPARATOR)
    return (region, pod) if pod and region in REGIONS else (None, name)


def member_state(pod: PodView, *, frozen: bool = False) -> MemberState:
    if frozen:
        return MemberState.FROZEN
    if pod.deleting:
        return MemberState.DRAINING
    if pod.phase == "Running":
        return MemberState.HEALTHY if pod.ready else MemberState.STARTING
    return {"Pending": MemberState.STARTING, "Succeeded": MemberState.STOPPED,
            "Failed": MemberState.EXITED}.get(pod.phase, MemberState.UNHEALTHY)


def _member(name: str, region: str, stack: str, component: str,
            state: MemberState) -> Member:
    ports = {port: host_port(region, node_port) for (s, c, port), node_port
             in NODE_PORTS.items() if (s, c) == (stack, component)}
    return Member(name=name, region=region, stack=stack, component=component,
                  address="127.0.0.1", port=next(iter(ports.values()), 0), pid=None,
                  state=state, ports=ports)


def pod_member(region: str, pod: PodView, *, frozen: bool = False,
               state: MemberState | None = None) -> Member:
    return _member(member_name(region, pod.name), region, pod.stack, pod.component,
                   state or member_state(pod, frozen=frozen))


def held_member(held: HeldMember) -> Member:
    """A member a fault holds, listed from the ledger (its pod gone or its API down)."""
    return _member(held.name, held.region, held.stack, held.component, held.state)
