"""The local platform's layout as a Mermaid flowchart, made from the topology ``gameday up``
builds (``build_topology``), never drawn by hand.

Drawn: the edge (nginx with the WAF and cache, then HAProxy), the fault proxy with one node per
group of links (a route's links into one region's component, or a stack's declared link into
one region's node), the regions with their address blocks, each stack's components per region
with their members' addresses and ports, witnesses beside the edge, Prometheus and the resource
exporter. Arrows: user traffic through the edge (active or backup as the suite's failover
policy makes it), cross-region links through the fault proxy (from the components whose
templates name the link), one component's use of another (its templates name that
component's ``members``) and a witnessed component's quorum.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from gameday.platforms.base import EDGE, REGION_BLOCKS, REGIONS
from gameday.platforms.local.edgeconfig import route_backends
from gameday.platforms.local.prometheus import METRICS_STACK
from gameday.platforms.local.specs import ProcessSpec
from gameday.platforms.local.topology import Link, Route, Topology
from gameday.stacks import ComponentDef, StackDef

__all__ = ["mermaid"]

# the platform's own members: what each is for (stacks say it with their names)
_ROLES = {("edge", "nginx"): "WAF: ModSecurity + OWASP CRS, cache",
          ("edge", "haproxy"): "regional failover, rate and body limits",
          ("fault-proxy", "fault-proxy"): "Toxiproxy HTTP API, one proxy per link",
          (METRICS_STACK, "prometheus"): "Prometheus, scrapes every 1 s",
          (METRICS_STACK, "resources"): "CPU, memory, GPUs of every member"}
_MEMBERS_REF = re.compile(r"\bmembers\.([a-z][a-z0-9]*)")
_LINKS_REF = re.compile(r"\blinks\.([a-z][a-z0-9]*)")


@dataclass(frozen=True)
class _Group:
    """A component's members in one place (a region, or the edge for a witness)."""

    id: str
    stack: str
    component: str
    region: str
    members: tuple[ProcessSpec, ...]


def _id(*parts: str) -> str:
    return "_".join(re.sub(r"[^A-Za-z0-9]", "_", part) for part in parts)


def _ports(spec: ProcessSpec) -> str:
    return " · ".join(f"{name} :{port}" for name, port in spec.ports.items())


def _groups(topology: Topology) -> dict[tuple[str, str, str], _Group]:
    grouped: dict[tuple[str, str, str], list[ProcessSpec]] = {}
    for spec in topology.processes:
        if spec.stack in topology.request.stacks:
            grouped.setdefault((spec.stack, spec.component, spec.region), []).append(spec)
    return {key: _Group(_id(key[2], key[0], key[1]), *key,
                        tuple(sorted(specs, key=lambda s: s.index)))
            for key, specs in grouped.items()}


def _group_label(group: _Group, stack: StackDef, primary_region: str) -> str:
    first = group.members[0]
    notes = [f"×{len(group.members)}"] if len(group.members) > 1 else []
    if group.region == EDGE:
        notes.append("witness")
    if stack.database is not None and stack.database.component == group.component \
            and group.region != EDGE:
        notes.append("database primary at start" if group.region == primary_region
                     else "database standby at start")
    head = " ".join([f"<b>{group.component}</b>", *notes])
    return "<br/>".join([head, *(f"{m.name} {m.address}" for m in group.members),
                         _ports(first)])


def _link_groups(topology: Topology) -> dict[tuple[str, str, str, str], list[Link]]:
    """Links by (stack, link name, component of the member, region the traffic goes into)."""
    grouped: dict[tuple[str, str, str, str], list[Link]] = {}
    for link in topology.links:
        component = topology.spec(link.member).component
        grouped.setdefault((link.stack, link.name, component, link.region), []).append(link)
    return grouped


def _link_label(key: tuple[str, str, str, str], links: list[Link]) -> str:
    stack, name, component, region = key
    lines = [f"<b>{name}</b> → {stack} {component}, {region}"]
    lines += [f":{link.listen.rsplit(':', 1)[1]} → {link.member}" for link in links]
    if links[0].protocol != "http":
        lines[0] += f" ({links[0].protocol})"
    return "<br/>".join(lines)


def _template_texts(stack: StackDef, component: ComponentDef) -> Iterable[str]:
    yield from component.command
    yield from component.env.values()
    yield from component.health.argv if component.health else ()
    for item in component.config_files:
        yield (stack.folder / item.template).read_text() if stack.folder else ""


def _references(stack: StackDef, name: str, pattern: re.Pattern[str]) -> set[str]:
    """What ``name``'s templates name with ``pattern`` (other components, or links)."""
    texts = _template_texts(stack, stack.components[name])
    return {match for text in texts for match in pattern.findall(text)}


class _Chart:
    def __init__(self) -> None:
        self.lines = ["flowchart LR"]
        self._depth = 1

    def add(self, line: str) -> None:
        self.lines.append("    " * self._depth + line)

    def node(self, node_id: str, label: str, shape: tuple[str, str] = ("[", "]")) -> None:
        self.add(f'{node_id}{shape[0]}"{label}"{shape[1]}')

    def open(self, subgraph_id: str, label: str) -> None:
        self.add(f'subgraph {subgraph_id}["{label}"]')
        self._depth += 1

    def close(self) -> None:
        self._depth -= 1
        self.add("end")

    def edge(self, source: str, target: str, label: str = "", arrow: str = "-->") -> None:
        self.add(f'{source} {arrow}|"{label}"| {target}' if label
                 else f"{source} {arrow} {target}")


def _platform_nodes(chart: _Chart, topology: Topology, groups: list[_Group],
                    stacks: dict[str, StackDef]) -> None:
    """The platform's own members beside the edge, one subgraph per part (the edge, the
    metrics; the fault proxy holds its links), then the stacks' witnesses."""
    parts: dict[str, list[ProcessSpec]] = {}
    for spec in topology.processes:
        if spec.stack not in topology.request.stacks:
            parts.setdefault(spec.stack, []).append(spec)
    for part, specs in parts.items():
        if part == "fault-proxy":
            _fault_proxy_nodes(chart, topology, specs[0])
            continue
        label = f"edge · {REGION_BLOCKS[EDGE]}" if part == "edge" else f"{part} · 127.0.0.1"
        chart.open(_id(part), label)
        for spec in specs:
            role = _ROLES.get((spec.stack, spec.component), "")
            chart.node(_id(spec.name), "<br/>".join(
                text for text in (f"<b>{spec.name}</b>", role, _ports(spec)) if text))
        chart.close()
    witnesses = [group for group in groups if group.region == EDGE]
    if witnesses:
        chart.open("witnesses", "witnesses beside the edge · 127.0.0.1")
        for group in witnesses:
            chart.node(group.id, _group_label(group, stacks[group.stack],
                                              topology.primary_region))
        chart.close()


def _fault_proxy_nodes(chart: _Chart, topology: Topology, proxy: ProcessSpec) -> None:
    chart.open("fault_proxy", f"{proxy.name} · 127.0.0.1 · "
                              f"{_ROLES[(proxy.stack, proxy.component)]} · {_ports(proxy)}")
    for key, links in _link_groups(topology).items():
        chart.node(_id("link", *key), _link_label(key, links))
    chart.close()


def _region_nodes(chart: _Chart, topology: Topology, groups: list[_Group],
                  stacks: dict[str, StackDef]) -> None:
    for region in REGIONS:
        chart.open(_id(region), f"{region} · {REGION_BLOCKS[region]}")
        for name in topology.request.stacks:
            mine = [g for g in groups if g.stack == name and g.region == region]
            if not mine:
                continue
            block = ".".join(mine[0].members[0].address.split(".")[:3]) + ".0/24"
            chart.open(_id(region, name), f"{name} · {block}")
            for group in mine:
                chart.node(group.id, _group_label(group, stacks[name], topology.primary_region))
            chart.close()
        chart.close()


def _route_edges(chart: _Chart, topology: Topology, route: Route,
                 groups: dict[tuple[str, str, str], _Group]) -> None:
    backend = route_backends(topology, route)[0]  # the route's own: which region is active
    failover = topology.request.edge.failover
    for region in REGIONS:
        target = groups.get((route.stack, route.component, region))
        if target is None:
            continue
        role = "active" if backend.near in (None, region) else "backup"
        if backend.near is None:
            role += f", weight {failover.weight(region)}"
        if route.mode == "tcp":
            chart.edge("edge_haproxy", target.id, f"{route.stack} tcp :{route.listen_port} · "
                                                  f"{role}", "==>")
            continue
        link = _id("link", route.stack, "edge", route.component, region)
        chart.edge("edge_haproxy", link, f"/{route.path} · {role}", "==>")
        chart.edge(link, target.id, arrow="==>")


def _link_edges(chart: _Chart, topology: Topology, stacks: dict[str, StackDef],
                groups: dict[tuple[str, str, str], _Group]) -> None:
    """Declared links: from the other region's components whose templates name the link."""
    for stack_name, name, component, region in _link_groups(topology):
        if name == "edge":
            continue
        stack = stacks[stack_name]
        link = _id("link", stack_name, name, component, region)
        clients = [c for c in stack.components if name in _references(stack, c, _LINKS_REF)]
        for client in clients:
            for other in REGIONS:
                source = groups.get((stack_name, client, other))
                if other != region and source is not None:
                    chart.edge(source.id, link, arrow="-.->")
        chart.edge(link, groups[(stack_name, component, region)].id, arrow="-.->")


def _use_edges(chart: _Chart, stack: StackDef,
               groups: dict[tuple[str, str, str], _Group]) -> None:
    """A component uses another in its own region; a witnessed one forms a quorum."""
    for name in stack.components:
        used = _references(stack, name, _MEMBERS_REF) & set(stack.components)
        for other in sorted(used - {name}):
            for region in REGIONS:
                source, target = groups.get((stack.name, name, region)), \
                    groups.get((stack.name, other, region))
                if source is not None and target is not None:
                    chart.edge(source.id, target.id)
        if stack.components[name].witness:
            peers = [groups[key] for key in ((stack.name, name, REGIONS[0]),
                                             (stack.name, name, EDGE),
                                             (stack.name, name, REGIONS[1])) if key in groups]
            for first, second in itertools.pairwise(peers):
                chart.edge(first.id, second.id, "quorum", "---")


def _metrics_edges(chart: _Chart, topology: Topology, groups: list[_Group]) -> None:
    chart.edge("metrics_prometheus", "metrics_resources", "scrapes", "-.->")
    for spec in topology.processes:
        if spec.metrics is not None and spec.stack not in topology.request.stacks \
                and spec.component != "prometheus":
            chart.edge("metrics_prometheus", _id(spec.name), "scrapes", "-.->")
    for group in groups:
        if group.region == EDGE and group.members[0].metrics is not None:
            chart.edge("metrics_prometheus", group.id, "scrapes", "-.->")
    for region in REGIONS:
        if any(s.region == region and s.metrics is not None for s in topology.processes):
            chart.edge("metrics_prometheus", _id(region), "scrapes /metrics", "-.->")


def mermaid(topology: Topology) -> str:
    """The flowchart (Mermaid source, no fences)."""
    stacks = {name: topology.request.stack(name) for name in topology.request.stacks}
    by_key = _groups(topology)
    groups = list(by_key.values())
    chart = _Chart()
    chart.node("clients", "clients and load generators", ("([", "])"))
    _platform_nodes(chart, topology, groups, stacks)
    _region_nodes(chart, topology, groups, stacks)
    chart.edge("clients", "edge_nginx", f":{topology.ports.edge}", "==>")
    chart.edge("edge_nginx", "edge_haproxy", f":{topology.ports.edge_haproxy}", "==>")
    for route in topology.routes:
        _route_edges(chart, topology, route, by_key)
    _link_edges(chart, topology, stacks, by_key)
    for stack in stacks.values():
        _use_edges(chart, stack, by_key)
    _metrics_edges(chart, topology, groups)
    return "\n".join(chart.lines) + "\n"
