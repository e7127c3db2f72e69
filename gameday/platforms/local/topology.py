"""Lays stacks out on loopback, typed: member addresses per region, fault-proxy links, the edge.

Region-a members live in 127.10.<octet>.<n>, region-b in 127.20.<octet>.<n> (octet from the
stack, n = 20 × component position + member index), witnesses beside the edge on 127.0.0.1
(their ports shifted by ``WITNESS_PORT_SHIFT``). Every edge → member link of a route goes
through the fault proxy, and so does every link the stack declares (e.g. replication into a
region), so link faults hit exactly the cross-region paths. The supervisor owns
``topology.json`` once the platform is up and rewrites it when members are added or removed.
"""

from __future__ import annotations

import json
import shutil
import sys
import sysconfig
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from gameday.edge_options import EdgeOptions
from gameday.errors import ConfigError
from gameday.platforms.base import EDGE, PRIMARY_REGION, REGIONS, EdgeEntry, StackRequest
from gameday.platforms.local.gpu import uses_gpu
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.owner import Owner
from gameday.platforms.local.prometheus import METRICS_STACK, metrics_specs
from gameday.platforms.local.render import MemberView, Renderer
from gameday.platforms.local.specs import (
    HealthCheck,
    MetricsEndpoint,
    ProcessSpec,
    RenderedFile,
    Volume,
)
from gameday.platforms.local.state import load_model, save_model
from gameday.platforms.local.waf import nginx_argv
from gameday.stacks import ComponentDef, RouteDef, StackDef, load_stack

__all__ = [
    "WITNESS_PORT_SHIFT",
    "Link",
    "Ports",
    "RequestRecord",
    "Route",
    "Topology",
    "build_topology",
    "fault_proxy_argv",
    "layout_of",
    "member_data_dir",
    "member_name",
    "member_spec",
    "proxies_config",
    "spare_view",
]

WITNESS_PORT_SHIFT = 500
_OCTET = {"region-a": 10, "region-b": 20}
_LETTER = {"region-a": "a", "region-b": "b", EDGE: "w"}
_PER_COMPONENT = 20


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Ports(_Frozen):
    edge: int = 8080  # nginx: the WAF and the cache, in front of HAProxy
    edge_haproxy: int = 8081  # HAProxy's HTTP frontend (the regional failover)
    edge_no_waf: int = 8082  # the same nginx with neither WAF nor cache (the WAF's cost)
    edge_stats: int = 8404
    proxy_api: int = 8474
    proxy_links_base: int = 19000
    prometheus: int = 9490
    resources: int = 9491


class Link(_Frozen):
    """One fault-proxy link: clients talk to ``listen``, the proxy forwards to the member."""

    proxy: str
    name: str  # "edge" for a route's link, else the stack's link name
    region: str  # the region the traffic goes into
    stack: str
    member: str
    listen: str
    upstream: str
    protocol: Literal["http", "postgres"] = "http"


class Route(_Frozen):
    stack: str
    path: str
    component: str
    port: str | None
    mode: Literal["http", "tcp"]
    health_path: str
    health_body: str | None = None  # canary: the probe request POSTed as the health check
    replay_safe: bool
    listen_port: int | None
    observe: Literal["layer4", "layer7"] = "layer7"
    streaming: bool = False


class RequestRecord(_Frozen):
    stacks: tuple[str, ...]
    replicas: int
    edge: EdgeOptions = EdgeOptions()
    stack_dirs: tuple[str, ...] = ()
    settings: dict[str, Any] = Field(default_factory=dict)

    def stack(self, name: str) -> StackDef:
        return load_stack(name, tuple(Path(d) for d in self.stack_dirs))


class Topology(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Literal["local"] = "local"
    primary_region: str
    request: RequestRecord
    owner: Owner | None = None  # when set, the platform goes down once this process dies
    repo: str
    artifacts: str
    processes: list[ProcessSpec]
    links: list[Link]
    routes: list[Route]
    edge_urls: dict[str, str]
    ports: Ports
    next_proxy_port: int
    haproxy: str

    def edge_entry_url(self, stack: str, entry: EdgeEntry) -> str | None:
        """The stack's URL at one of the edge's entries; None when the edge does not route
        it (``edge_urls`` holds the WAF entry's)."""
        url = self.edge_urls.get(stack)
        if url is None or entry == "edge":
            return url
        port = self.ports.edge_no_waf if entry == "edge-no-waf" else self.ports.edge_haproxy
        return f"http://127.0.0.1:{port}/{url.rsplit('/', 1)[1]}"

    @property
    def proxy_api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.proxy_api}"

    @property
    def prometheus_url(self) -> str | None:
        """Where the platform's Prometheus answers; None when it runs none."""
        if not any(s.stack == METRICS_STACK and s.component == "prometheus"
                   for s in self.processes):
            return None
        return f"http://127.0.0.1:{self.ports.prometheus}"

    @classmethod
    def load(cls, home: LocalHome) -> Self | None:
        return load_model(home.topology, cls)

    def save(self, home: LocalHome) -> None:
        save_model(home.topology, self)

    def spec(self, name: str) -> ProcessSpec:
        for spec in self.processes:
            if spec.name == name:
                return spec
        raise KeyError(f"no member {name!r}")

    def component_members(self, stack: str, component: str, region: str) -> list[ProcessSpec]:
        return sorted((s for s in self.processes if s.stack == stack
                       and s.component == component and s.region == region),
                      key=lambda s: s.index)


def member_data_dir(home: Path, name: str) -> Path:
    return home / "data" / name


def member_name(stack: str, component: str, region: str, index: int) -> str:
    return f"{stack}-{component}-{_LETTER[region]}{index}"


def _view(stack: StackDef, component: str, region: str, index: int) -> MemberView:
    position = list(stack.components).index(component)
    ports = stack.components[component].ports
    if region == EDGE:
        return MemberView(member_name(stack.name, component, region, index), region,
                          "127.0.0.1", {k: v + WITNESS_PORT_SHIFT for k, v in ports.items()})
    if index >= _PER_COMPONENT:
        raise ConfigError(f"{stack.name}.{component}: at most {_PER_COMPONENT - 1} members "
                          "per region")
    address = f"127.{_OCTET[region]}.{stack.octet}.{_PER_COMPONENT * position + index}"
    return MemberView(member_name(stack.name, component, region, index), region, address,
                      dict(ports))


def _count(component: ComponentDef, replicas: int) -> int:
    return replicas if component.members == "replicas" else component.members


def _renderer(stack: StackDef) -> Renderer:
    return Renderer(str(stack.folder / "stack.yaml") if stack.folder else stack.name)


def _regions(stack: StackDef, name: str, settings: dict[str, Any]) -> tuple[str, ...]:
    """The regions where a component has members: none when its ``when`` is false."""
    component = stack.components[name]
    renderer = _renderer(stack)
    context = {"settings": settings}
    if component.when is not None and not renderer.evaluate(
            component.when, context, field=f"components.{name}.when"):
        return ()
    if component.regions is None:
        return REGIONS
    regions = renderer.evaluate(component.regions, context, field=f"components.{name}.regions")
    if not isinstance(regions, list | tuple) or not set(regions) <= set(REGIONS):
        raise ConfigError(f"components.{name}.regions: expected a list of {list(REGIONS)}, "
                          f"got {regions!r}", source=renderer.source)
    return tuple(r for r in REGIONS if r in regions)


def _layout(stack: StackDef, replicas: int,
            settings: dict[str, Any]) -> dict[str, list[MemberView]]:
    layout: dict[str, list[MemberView]] = {}
    for name, component in stack.components.items():
        regions = _regions(stack, name, settings)
        views = [_view(stack, name, region, index) for region in regions
                 for index in range(1, _count(component, replicas) + 1)]
        if component.witness and regions:
            views.append(_view(stack, name, EDGE, 1))
        layout[name] = views
    return layout


def _depth(stack: StackDef, component: str) -> int:
    after = stack.components[component].after  # a component that does not run waits for none
    return 1 + max((_depth(stack, c) for c in after), default=0)


def member_spec(stack: StackDef, component: str, view: MemberView, *, index: int,
                layout: dict[str, list[MemberView]], links: dict[str, dict[str, list[str]]],
                home: Path, repo: Path, artifacts: Path,
                settings: dict[str, Any]) -> ProcessSpec:
    """The process of one member, every template rendered for it."""
    definition = stack.components[component]
    renderer = _renderer(stack)
    context = {"python": sys.executable, "repo": str(repo), "artifacts": str(artifacts),
               "home": str(home), "name": view.name, "stack": stack.name,
               "component": component, "region": view.region, "index": index,
               "address": view.address, "ports": view.ports,
               "data": str(member_data_dir(home, view.name)), "members": layout, "links": links,
               "settings": settings, "site_packages": sysconfig.get_paths()["purelib"],
               "primary_region": PRIMARY_REGION, "gpu": uses_gpu(settings)}
    where = f"components.{component}"

    def fill(text: str, field: str) -> str:
        return renderer.render(text, context, field=f"{where}.{field}")

    health = None
    if definition.health is not None:
        check = definition.health
        health = HealthCheck(kind=check.kind, path=check.path, timeout_s=check.timeout_s,
                             port=view.ports[check.port] if check.port else None,
                             argv=tuple(fill(part, "health.argv") for part in check.argv))
    metrics = None
    if definition.metrics is not None:
        port_name = definition.metrics.port or next(iter(view.ports))
        metrics = MetricsEndpoint(port=view.ports[port_name], path=definition.metrics.path)
    files = tuple(RenderedFile(
        path=fill(item.path, "config_files.path"), mode=item.mode,
        text=fill((stack.folder / item.template).read_text() if stack.folder else "",
                  f"config_files.template({item.template})"))
        for item in definition.config_files)
    return ProcessSpec(
        name=view.name, region=view.region, stack=stack.name, component=component,
        index=index, argv=tuple(fill(part, "command") for part in definition.command),
        address=view.address, ports=dict(view.ports),
        env={key: fill(value, f"env.{key}") for key, value in definition.env.items()},
        cwd=fill(definition.cwd, "cwd"),
        user=fill(definition.user, "user") if definition.user else None, health=health,
        metrics=metrics,
        restart=definition.restart, start_timeout_s=definition.start_timeout_s,
        stop_timeout_s=definition.stop_timeout_s,
        data_dirs=tuple(fill(d, "data_dirs") for d in definition.data_dirs), files=files,
        pid_files=tuple(fill(f, "pid_files") for f in definition.pid_files),
        volumes=tuple(Volume(path=fill(v.path, "volumes.path"), size_mb=size)
                      for v in definition.volumes
                      if (size := _size_mb(fill(v.size_mb, "volumes.size_mb"), where)) > 0),
        order=_depth(stack, component))


def _size_mb(text: str, where: str) -> int:
    value = text.strip()
    if value in ("", "None"):  # a setting left unset: no volume
        return 0
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{where}.volumes.size_mb: expected a whole number of MB, got "
                          f"{text!r}") from None


def _links(stack: StackDef, layout: dict[str, list[MemberView]], first_port: int) -> list[Link]:
    wanted = [("edge", r.component, r.port, "http") for r in stack.routes
              if r.mode == "http"] + \
             [(k.name, k.component, k.port, k.protocol) for k in stack.links]
    links: list[Link] = []
    for link_name, component, port_name, protocol in wanted:
        for view in layout[component]:
            if view.region == EDGE:
                continue
            port = view.ports[port_name] if port_name else next(iter(view.ports.values()))
            proxy = view.name if link_name == "edge" else f"{view.name}-{link_name}"
            links.append(Link(proxy=proxy, name=link_name, region=view.region,
                              stack=stack.name, member=view.name,
                              listen=f"127.0.0.1:{first_port + len(links)}",
                              upstream=f"{view.address}:{port}", protocol=protocol))
    return links


def _link_context(links: list[Link]) -> dict[str, dict[str, list[str]]]:
    context: dict[str, dict[str, list[str]]] = {}
    for link in links:
        context.setdefault(link.name, {}).setdefault(link.region, []).append(link.listen)
    return context


def _routes(stack: StackDef, health: Literal["shallow", "deep", "canary"],
            layout: dict[str, list[MemberView]]) -> list[Route]:
    """The edge's routes to components that have members (a ``when`` may leave one out)."""
    return [Route(stack=stack.name, path=r.path, component=r.component, port=r.port,
                  mode=r.mode, replay_safe=r.replay_safe, listen_port=r.listen_port,
                  observe=r.observe, streaming=r.streaming, **_health(stack, r, health))
            for r in stack.routes if layout[r.component]]


def _health(stack: StackDef, route: RouteDef,
            health: Literal["shallow", "deep", "canary"]) -> dict[str, Any]:
    """What the edge checks: the shallow or deep path, or with ``canary`` one real request
    (the stack's probe request; a stack that declares none gets its deep check)."""
    probe = stack.probe_request
    if health == "canary" and probe is not None:
        return {"health_path": stack.endpoints[probe.endpoint],
                "health_body": json.dumps(probe.body, separators=(",", ":"))}
    return {"health_path": route.shallow_health_path if health == "shallow"
            else route.deep_health_path}


def fault_proxy_argv(ports: Ports, config: Path) -> tuple[str, ...]:
    """The real toxiproxy-server when it is on PATH, else the built-in one (same API)."""
    real = shutil.which("toxiproxy-server")
    if real:
        return (real, "-host", "127.0.0.1", "-port", str(ports.proxy_api), "-config", str(config))
    return (sys.executable, "-m", "gameday.platforms.local.faultproxy", "--host", "127.0.0.1",
            "--port", str(ports.proxy_api), "--config", str(config))


def _platform_specs(ports: Ports, home: Path, repo: Path, haproxy: str,
                    edge_order: int) -> tuple[ProcessSpec, ProcessSpec, ProcessSpec]:
    proxy = ProcessSpec(
        name="fault-proxy", region=EDGE, stack="fault-proxy", component="fault-proxy",
        argv=fault_proxy_argv(ports, home / "proxies.json"), address="127.0.0.1",
        ports={"api": ports.proxy_api}, cwd=str(repo), health=HealthCheck(path="/version"),
        order=0)
    edge = ProcessSpec(
        name="edge-haproxy", region=EDGE, stack="edge", component="haproxy",
        argv=(haproxy, "-db", "-f", str(home / "haproxy.cfg")), address="127.0.0.1",
        ports={"http": ports.edge_haproxy, "stats": ports.edge_stats}, cwd=str(home),
        health=HealthCheck(kind="tcp"), order=edge_order,
        metrics=MetricsEndpoint(port=ports.edge_stats))  # HAProxy's own exporter
    waf = ProcessSpec(
        name="edge-nginx", region=EDGE, stack="edge", component="nginx",
        argv=nginx_argv(home / "nginx.conf"), address="127.0.0.1",
        ports={"http": ports.edge, "no_waf": ports.edge_no_waf}, cwd=str(home),
        health=HealthCheck(kind="tcp"), order=edge_order + 1)
    return proxy, edge, waf


def build_topology(request: StackRequest, *, home: Path, repo: Path, artifacts: Path,
                   haproxy: str, ports: Ports | None = None, primary: str = "region-a",
                   owner: Owner | None = None, prometheus: str | None = None) -> Topology:
    """The whole layout; ``prometheus`` (its binary) adds the metrics members."""
    ports = ports or Ports()
    record = RequestRecord(stacks=request.stacks, replicas=request.replicas,
                           edge=request.edge,
                           stack_dirs=tuple(str(d) for d in request.stack_dirs),
                           settings=request.settings)
    specs: list[ProcessSpec] = []
    links: list[Link] = []
    routes: list[Route] = []
    for stack in (record.stack(name) for name in request.stacks):
        layout = _layout(stack, request.replicas, record.settings)
        stack_links = _links(stack, layout, ports.proxy_links_base + len(links))
        context = _link_context(stack_links)
        for component in stack.start_order():
            for view in layout[component]:
                index = int(view.name.rsplit("-", 1)[1][1:])
                specs.append(member_spec(stack, component, view, index=index, layout=layout,
                                         links=context, home=home, repo=repo,
                                         artifacts=artifacts, settings=record.settings))
        links.extend(stack_links)
        routes.extend(_routes(stack, request.edge.health_check, layout))
    edge_order = 1 + max((s.order for s in specs), default=0)
    proxy, edge, waf = _platform_specs(ports, home, repo, haproxy, edge_order)
    metrics = metrics_specs(home, repo, prometheus=prometheus, prometheus_port=ports.prometheus,
                            exporter_port=ports.resources) if prometheus else ()
    return Topology(
        primary_region=primary, request=record, owner=owner, repo=str(repo),
        artifacts=str(artifacts), processes=[proxy, *metrics, *specs, edge, waf], links=links,
        routes=routes,
        edge_urls={r.stack: f"http://127.0.0.1:{ports.edge}/{r.path}" for r in routes
                   if r.mode == "http"},
        ports=ports, next_proxy_port=ports.proxy_links_base + len(links), haproxy=haproxy)


def proxies_config(links: list[Link]) -> list[dict[str, object]]:
    """The fault proxy's start-up config (Toxiproxy's ``-config`` / ``/populate`` format)."""
    return [{"name": link.proxy, "listen": link.listen, "upstream": link.upstream,
             "enabled": True} for link in links]


def spare_view(topology: Topology, stack: StackDef, component: str, region: str,
               index: int) -> MemberView:
    return _view(stack, component, region, index)


def layout_of(topology: Topology, stack: StackDef) -> dict[str, list[MemberView]]:
    """The stack's members as they are now (after any scaling), for rendering a new one."""
    layout: dict[str, list[MemberView]] = {name: [] for name in stack.components}
    for spec in topology.processes:
        if spec.stack == stack.name:
            layout[spec.component].append(MemberView(spec.name, spec.region, spec.address,
                                                     spec.ports))
    return layout

