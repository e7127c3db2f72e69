"""Region-wide faults on kind: the region's node containers stopped or paused (an outage, a
freeze), or cut off kind's Docker network (an isolation).

A Docker network cut is per container and both ways: the region's nodes lose the edge, the
other region and Toxiproxy, and each other too (kubelet → API server, pod traffic between
nodes); what runs on each node keeps running. Reconnecting gives each node the address it had
(``--ip``/``--ip6``): kubeadm wrote those addresses into the cluster (the API server's
advertise address, each kubelet's node IP), so a new one would leave the cluster broken.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from gameday.errors import FaultError, PlatformError
from gameday.platforms.kind.docker import NetworkAddress, network_addresses, statuses
from gameday.platforms.kind.env import KindEnv
from gameday.platforms.kind.faultbase import HeldMember, KindFault, wait_until
from gameday.platforms.kind.kube import KubeApi
from gameday.platforms.kind.layout import DOCKER_NETWORK

__all__ = ["NetworkCut", "NodeAttachment", "NodeStop", "wait_region_ready"]

_DOCKER_TIMEOUT_S = 120.0
_DOWN = {"exited", "created", "dead"}


def _api_answers(kube: KubeApi) -> bool:
    try:
        kube.nodes_ready()
    except PlatformError:
        return False
    return True


def _not_ready(kube: KubeApi, *, workloads: bool) -> list[str]:
    """What of the cluster is not ready yet: nodes, and (``workloads``) Deployments and
    StatefulSets with fewer ready replicas than their spec."""
    waiting = [f"node {name}" for name, ready in kube.nodes_ready().items() if not ready]
    if workloads:
        waiting += [f"{w.kind} {w.name} {w.ready_replicas}/{w.replicas} ready"
                    for w in kube.workloads() if w.ready_replicas < w.replicas]
    return waiting


def wait_region_ready(env: KindEnv, region: str, timeout_s: float, *,
                      workloads: bool = True) -> None:
    """Until every node is Ready (and every workload fully ready); FaultError saying what was
    still waiting when ``timeout_s`` passed."""
    kube = env.kube(region)
    if wait_until(lambda: not _not_ready(kube, workloads=workloads), timeout_s, 0.5):
        return
    try:
        seen = ", ".join(_not_ready(kube, workloads=workloads))
    except PlatformError as exc:
        seen = str(exc)
    raise FaultError(f"{region} not ready {timeout_s:g} s after its restore: {seen}")


class NodeStop(KindFault):
    """``docker stop`` (or ``docker pause``: ``freeze``) of every node of a region."""

    kind: Literal["node_stop"] = "node_stop"
    region: str
    nodes: tuple[str, ...]
    freeze: bool = False
    held_members: tuple[HeldMember, ...] = ()  # the region's members when it went down
    unreachable_timeout_s: float = 15.0
    ready_timeout_s: float = 300.0

    def held(self) -> tuple[HeldMember, ...]:
        return self.held_members

    def target(self) -> str:
        return f"{self.region} nodes {', '.join(self.nodes)} " \
               f"({'paused' if self.freeze else 'stopped'})"

    def inject(self, env: KindEnv) -> dict[str, Any]:
        done = env.runner.run(["docker", "pause" if self.freeze else "stop", *self.nodes],
                              timeout_s=_DOCKER_TIMEOUT_S)
        return {"nodes": list(self.nodes), "command": done.line}

    def verify(self, env: KindEnv) -> dict[str, Any]:
        wanted = "paused" if self.freeze else "exited"
        seen = statuses(env.runner, self.nodes)
        if any(status != wanted for status in seen.values()):
            raise FaultError(f"{self.target()}: nodes not all {wanted}: {seen}")
        kube = env.kube(self.region)
        if not wait_until(lambda: not _api_answers(kube), self.unreachable_timeout_s):
            raise FaultError(f"{self.target()}: nodes {wanted} but the API of "
                             f"{kube.context} still answers {self.unreachable_timeout_s:g} s on")
        return {"node_status": seen, "api_answers": False}

    def undo(self, env: KindEnv) -> str:
        seen = statuses(env.runner, self.nodes)
        paused = [node for node in self.nodes if seen[node] == "paused"]
        stopped = [node for node in self.nodes if seen[node] in _DOWN]
        if paused:
            env.runner.run(["docker", "unpause", *paused], timeout_s=_DOCKER_TIMEOUT_S)
        if stopped:
            env.runner.run(["docker", "start", *stopped], timeout_s=_DOCKER_TIMEOUT_S)
        wait_region_ready(env, self.region, self.ready_timeout_s)
        return f"restored {self.region} (unpaused {', '.join(paused) or 'none'}; started " \
               f"{', '.join(stopped) or 'none'}; nodes and workloads ready)"


class NodeAttachment(BaseModel):
    """A node container and its addresses on the network before the cut."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    node: str
    ipv4: str
    ipv6: str = ""

    @property
    def address(self) -> NetworkAddress:
        return NetworkAddress(self.ipv4, self.ipv6)


class NetworkCut(KindFault):
    """``docker network disconnect`` of every node of a region from kind's network."""

    kind: Literal["network_cut"] = "network_cut"
    region: str
    nodes: tuple[NodeAttachment, ...]
    network: str = DOCKER_NETWORK
    ready_timeout_s: float = 300.0

    def target(self) -> str:
        return f"{self.region} off Docker network {self.network} (both ways)"

    def _attached(self, env: KindEnv, node: str) -> NetworkAddress | None:
        return network_addresses(env.runner, node).get(self.network)

    def inject(self, env: KindEnv) -> dict[str, Any]:
        for node in self.nodes:
            if self._attached(env, node.node) is not None:
                env.runner.run(["docker", "network", "disconnect", self.network, node.node],
                               timeout_s=_DOCKER_TIMEOUT_S)
        return {"region": self.region, "network": self.network, "direction": "both",
                "nodes": {n.node: n.ipv4 for n in self.nodes}}

    def verify(self, env: KindEnv) -> dict[str, Any]:
        still = [n.node for n in self.nodes if self._attached(env, n.node) is not None]
        if still:
            raise FaultError(f"{self.target()}: still attached: {', '.join(still)}")
        return {"detached": [n.node for n in self.nodes]}

    def undo(self, env: KindEnv) -> str:
        for node in self.nodes:
            if self._attached(env, node.node) is None:
                env.runner.run(["docker", "network", "connect", *node.address.connect_flags(),
                                self.network, node.node], timeout_s=_DOCKER_TIMEOUT_S)
        moved = {n.node: now for n in self.nodes
                 if (now := self._attached(env, n.node)) is None or now.ipv4 != n.ipv4}
        if moved:
            raise FaultError(f"heal {self.region}: not back on {self.network} at the recorded "
                             f"addresses: {moved} (recorded "
                             f"{ {n.node: n.ipv4 for n in self.nodes} })")
        wait_region_ready(env, self.region, self.ready_timeout_s, workloads=False)
        return f"reconnected {', '.join(n.node for n in self.nodes)} to {self.network} " \
               f"({', '.join(n.ipv4 for n in self.nodes)})"
