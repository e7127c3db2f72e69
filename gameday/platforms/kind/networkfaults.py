"""The kind platform's network faults, as a part of ``KindFaults``: a region cut off kind's
Docker network (``NetworkControl``) and toxics on its cross-region links (``LinkControl``,
the proxies of the Toxiproxy container, named ``layout.link_name``).

Refused: a one-way cut (a Docker network disconnect is both ways) and the cut of one quorum
member from its peers: the rag etcd members talk across clusters through node ports that no
per-member Docker or Toxiproxy knob separates (cut the region, or slow its links instead).
"""

from __future__ import annotations

from typing import Any

from gameday.errors import FaultError
from gameday.platforms.base import REGIONS, Direction, ToxicSpec, check_region
from gameday.platforms.kind.commands import CommandRunner
from gameday.platforms.kind.docker import network_addresses
from gameday.platforms.kind.env import KindEnv
from gameday.platforms.kind.layout import DOCKER_NETWORK, NODE_PORTS, link_name, node_containers
from gameday.platforms.kind.ledger import FaultRecord, KindLedger
from gameday.platforms.kind.linkfaults import LinkToxic, proxy_names, toxiproxy_request
from gameday.platforms.kind.regionfaults import NetworkCut, NodeAttachment
from gameday.stacks import load_stack

__all__ = ["KindNetworkFaults"]


def _candidates(region: str, stack: str | None) -> set[str]:
    """Every link name the platform may give a proxy into ``region`` (of ``stack``)."""
    return {name for (s, c, port) in NODE_PORTS if stack is None or s == stack
            for name in (link_name(s, c, region), link_name(s, f"{c}-{port}", region))}


def _link_components(stack: str | None, link: str) -> set[str]:
    """The components a named link leads to: ``edge`` the routed ones, else the stack's
    declared link of that name (``replication``: the database)."""
    if stack is None:
        raise FaultError(f"link {link!r} names a link of a stack; give the stack")
    definition = load_stack(stack)
    components = {r.component for r in definition.routes} if link == "edge" else \
        {k.component for k in definition.links if k.name == link}
    if not components:
        raise FaultError(f"stack {stack} declares no link {link!r}; it has "
                         f"{['edge', *(k.name for k in definition.links)]}")
    return components


class KindNetworkFaults:
    env: KindEnv
    ledger: KindLedger
    ready_timeout_s: float

    # -- NetworkControl -----------------------------------------------------------------------
    def isolation_available(self) -> tuple[bool, str]:
        runner: CommandRunner = self.env.runner
        found = runner.run(["docker", "network", "inspect", "-f", "{{.Name}}", DOCKER_NETWORK],
                           check=False, timeout_s=30)
        if found.returncode != 0:
            return False, f"no Docker network {DOCKER_NETWORK!r}: {found.stderr.strip()}"
        return True, f"docker network disconnect of the region's nodes from {DOCKER_NETWORK}"

    def isolate_region(self, region: str, direction: Direction) -> dict[str, object]:
        check_region(region)
        if direction != "both":
            raise FaultError(f"isolate {region} {direction}: on kind the cut is a Docker "
                             "network disconnect, which is both ways; ask for 'both', or put "
                             "a timeout toxic on one stream of the links")
        nodes = []
        for node in node_containers(region):
            address = network_addresses(self.env.runner, node).get(DOCKER_NETWORK)
            if address is None:
                raise FaultError(f"isolate {region}: {node} is not on Docker network "
                                 f"{DOCKER_NETWORK} (already cut? see the faults in force)")
            nodes.append(NodeAttachment(node=node, ipv4=address.ipv4, ipv6=address.ipv6))
        return self.ledger.inject(NetworkCut(region=region, nodes=tuple(nodes),
                                             ready_timeout_s=self.ready_timeout_s))

    def heal_region(self, region: str) -> dict[str, object]:
        check_region(region)
        undone = self.ledger.undo(lambda r: isinstance(r.fault, NetworkCut)
                                  and r.fault.region == region)
        return {"region": region, "undone": undone}

    def cut_from_peers(self, stack: str, component: str, region: str) -> dict[str, object]:
        check_region(region)
        raise FaultError(f"cut {stack}.{component} in {region} from its peers: not on kind "
                         "(no Docker or Toxiproxy cut separates one etcd member's traffic); "
                         "isolate the region, or put a timeout toxic on its links")

    def heal_peers(self, stack: str, component: str) -> dict[str, object]:
        return {"stack": stack, "component": component, "undone": []}  # nothing is ever cut

    # -- LinkControl --------------------------------------------------------------------------
    def proxy_api_url(self) -> str:
        return self.env.toxiproxy_url

    def link_proxies(self, region: str, stack: str | None = None) -> list[str]:
        check_region(region)
        wanted = _candidates(region, stack)
        return [name for name in proxy_names(self.env) if name in wanted]

    def add_link_toxic(self, region: str, toxic: ToxicSpec, *, stack: str | None = None,
                       link: str | None = None) -> dict[str, Any]:
        """The toxic on every link into ``region`` (of ``stack``; ``link``: "edge", or a link
        the stack declares such as "replication"), verified by reading it back."""
        proxies = self.link_proxies(region, stack)
        if link is not None:
            into = {link_name(stack or "", c, region) for c in _link_components(stack, link)}
            proxies = [p for p in proxies if p in into]
        if not proxies:
            raise FaultError(f"no Toxiproxy link{f' {link!r}' if link else ''} into {region}"
                             f"{f' of {stack}' if stack else ''} at {self.env.toxiproxy_url}")
        return self.ledger.inject(LinkToxic(region=region, toxic=toxic, proxies=tuple(proxies)))

    def remove_link_toxic(self, region: str, name: str, *, stack: str | None = None) -> int:
        """How many links the toxic was removed from."""
        def chosen(record: FaultRecord) -> bool:
            fault = record.fault
            return isinstance(fault, LinkToxic) and fault.region == region \
                and fault.toxic.name == name \
                and (stack is None or all(p.startswith(f"{stack}-") for p in fault.proxies))

        links = sum(len(r.fault.proxies) for r in self.ledger.records()
                    if chosen(r) and isinstance(r.fault, LinkToxic))
        self.ledger.undo(chosen)
        return links

    def sweep_link_toxics(self) -> list[str]:
        """Remove every toxic left on the platform's links (none when Toxiproxy is not up)."""
        try:
            proxies = [p for region in REGIONS for p in self.link_proxies(region)]
        except FaultError:
            return []
        removed = []
        for proxy in proxies:
            for toxic in toxiproxy_request(self.env, "GET", f"/proxies/{proxy}/toxics").json():
                toxiproxy_request(self.env, "DELETE", f"/proxies/{proxy}/toxics/{toxic['name']}")
                removed.append(f"removed stray toxic {toxic['name']} from {proxy}")
        return removed

