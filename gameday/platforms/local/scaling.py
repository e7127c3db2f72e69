"""Adding and removing members of a component while it serves (the ScaleControl capability).

A new member gets its fault-proxy links first (so link faults in force reach it: their
toxics are copied onto its links and its links added to their ledger records), then its
process, then — once healthy — its server at the edge (HAProxy's runtime API: region map
entry, ``add server``, health checks on). A removed member is drained at the edge first (no
new requests; in-flight ones finish), deleted there, then stopped, then its links go.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from gameday.errors import PlatformError
from gameday.platforms.local import control
from gameday.platforms.local.edge import HaproxyAdmin
from gameday.platforms.local.edgeconfig import edge_server, route_backends
from gameday.platforms.local.faults import LinkToxics, ProxyRef
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.ledger import Ledger
from gameday.platforms.local.render import MemberView
from gameday.platforms.local.specs import ProcessSpec
from gameday.platforms.local.topology import (
    Link,
    Topology,
    layout_of,
    member_spec,
    spare_view,
)
from gameday.stacks import StackDef

__all__ = ["scale_component"]

_DRAIN_TIMEOUT_S = 10.0


def _new_links(topology: Topology, stack: StackDef, component: str, view: MemberView,
               first_port: int) -> list[Link]:
    wanted = [("edge", r.port) for r in stack.routes if r.component == component
              and r.mode == "http"] + [(k.name, k.port) for k in stack.links
                                       if k.component == component]
    links = []
    for offset, (name, port_name) in enumerate(wanted):
        port = view.ports[port_name] if port_name else next(iter(view.ports.values()))
        links.append(Link(proxy=view.name if name == "edge" else f"{view.name}-{name}",
                          name=name, region=view.region, stack=stack.name, member=view.name,
                          listen=f"127.0.0.1:{first_port + offset}",
                          upstream=f"{view.address}:{port}"))
    return links


def _add(home: LocalHome, ledger: Ledger, topology: Topology, stack: StackDef,
         component: str, region: str, indexes: list[int]) -> None:
    """The new members all at once, as a Deployment starts its new pods: their links and
    specs first (each its own proxy ports), then every process started together, each put in
    service at the edge as soon as it is healthy. The first failure is raised once the others
    are done."""
    views = [spare_view(topology, stack, component, region, index) for index in indexes]
    layout = layout_of(topology, stack)
    layout[component].extend(views)
    links: dict[str, list[Link]] = {}
    port = topology.next_proxy_port
    for view in views:
        links[view.name] = _new_links(topology, stack, component, view, port)
        port += len(links[view.name])
    every = [link for mine in links.values() for link in mine]
    context: dict[str, dict[str, list[str]]] = {}
    for link in [*topology.links, *every]:
        context.setdefault(link.name, {}).setdefault(link.region, []).append(link.listen)
    specs = [member_spec(stack, component, view, index=index, layout=layout, links=context,
                         home=home.root, repo=Path(topology.repo),
                         artifacts=Path(topology.artifacts), settings=topology.request.settings)
             for view, index in zip(views, indexes, strict=True)]
    with httpx.Client(base_url=topology.proxy_api_url, timeout=5) as proxy_api:
        for link in every:
            proxy_api.post("/proxies", json={"name": link.proxy, "listen": link.listen,
                                             "upstream": link.upstream,
                                             "enabled": True}).raise_for_status()
    _extend_link_faults(ledger, region, stack.name, every)
    failures: list[Exception] = []

    def start(spec: ProcessSpec) -> None:
        try:
            control.call(home, "add_member", spec=spec.model_dump(mode="json"),
                         links=[link.model_dump() for link in links[spec.name]],
                         timeout_s=spec.start_timeout_s + 10)
            _serve(home, Topology.load(home) or topology, stack.name, component, spec.name,
                   region)
        except Exception as exc:  # raised below, once every start is done
            failures.append(exc)

    threads = [threading.Thread(target=start, args=(spec,), name=f"add-{spec.name}")
               for spec in specs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def _serve(home: LocalHome, grown: Topology, stack: str, component: str, member: str,
           region: str) -> None:
    """The member's server at the edge, health checks on (it takes traffic once they pass)."""
    admin = HaproxyAdmin(home.haproxy_socket)
    health = grown.request.edge.health
    for route in (r for r in grown.routes if r.stack == stack and r.component == component):
        admin.add_map_entry(home.root / "regions.map", member, region)
        observe = route.observe if route.observe != "layer7" else health.observe
        for backend in route_backends(grown, route):
            admin.add_server(backend.name, edge_server(grown, route, member),
                             backup=backend.near is not None and region != backend.near,
                             check_inter_ms=health.inter_ms, fall=health.fall,
                             rise=health.rise, observe=observe, error_limit=health.error_limit,
                             fail_back_immediate=grown.request.edge.failover.fail_back
                             == "immediate")


def _extend_link_faults(ledger: Ledger, region: str, stack: str, links: list[Link]) -> None:
    """Link toxics in force into ``region`` reach the new links too, and are undone on them."""
    for record in ledger.records():
        fault = record.fault
        if isinstance(fault, LinkToxics) and fault.region == region:
            added = tuple(ProxyRef(name=link.proxy, listen=link.listen, protocol=link.protocol)
                          for link in links)
            grown = fault.model_copy(update={"proxies": (*fault.proxies, *added)})
            if added:
                grown.inject(ledger.context())
            ledger.replace(record.model_copy(update={"fault": grown}))


def _remove(home: LocalHome, ledger: Ledger, topology: Topology, spec: ProcessSpec) -> None:
    admin = HaproxyAdmin(home.haproxy_socket)
    for route in (r for r in topology.routes if r.stack == spec.stack
                  and r.component == spec.component):
        backends = [backend.name for backend in route_backends(topology, route)]
        for backend in backends:
            admin.set_server_state(backend, spec.name, "drain")
        deadline_s = time.monotonic() + _DRAIN_TIMEOUT_S
        while any(admin.server_sessions(b, spec.name) for b in backends) \
                and time.monotonic() < deadline_s:
            time.sleep(0.05)
        for backend in backends:
            admin.del_server(backend, spec.name, drain_timeout_s=_DRAIN_TIMEOUT_S)
    control.call(home, "remove_member", name=spec.name)
    gone = [link for link in topology.links if link.member == spec.name]
    with httpx.Client(base_url=topology.proxy_api_url, timeout=5) as proxy_api:
        for link in gone:
            proxy_api.delete(f"/proxies/{link.proxy}")
    names = {link.proxy for link in gone}
    for record in ledger.records():
        fault = record.fault
        if isinstance(fault, LinkToxics) and names & {p.name for p in fault.proxies}:
            kept = tuple(p for p in fault.proxies if p.name not in names)
            ledger.replace(record.model_copy(update={
                "fault": fault.model_copy(update={"proxies": kept})}))


def scale_component(home: LocalHome, ledger: Ledger, topology: Topology, stack: str,
                    component: str, region: str, count: int) -> None:
    definition = topology.request.stack(stack)
    if component not in definition.components:
        raise PlatformError(f"stack {stack} has no component {component!r}")
    if count < 1:
        raise PlatformError("a component keeps at least one member per region; stop the "
                            "region instead")
    current = topology.component_members(stack, component, region)
    next_index = max((s.index for s in current), default=0) + 1
    adding = list(range(next_index, next_index + max(0, count - len(current))))
    if adding:
        _add(home, ledger, Topology.load(home) or topology, definition, component, region,
             adding)
    for spec in sorted(current, key=lambda s: -s.index)[:max(0, len(current) - count)]:
        _remove(home, ledger, Topology.load(home) or topology, spec)
