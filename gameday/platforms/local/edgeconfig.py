"""The edge's configuration from the topology.

HAProxy: one backend per route (and per client region under geo affinity), the regions'
members active or backup by the suite's failover policy, each through its fault-proxy link
(http routes) or directly (tcp routes), and the server → region map the edge names regions by.
nginx: the WAF and cache listener and the plain one, one location per http route.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gameday.edge_options import EdgeOptions
from gameday.platforms.base import REGIONS
from gameday.platforms.local.edge import EdgeBackend, EdgeConfig, EdgeServer
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.topology import Route, Topology
from gameday.platforms.local.waf import (
    NginxConfig,
    NginxRoute,
    NginxServer,
    nginx_check,
    prepare_home,
    render_modsecurity,
    render_nginx,
    worker_user,
    workers,
)

__all__ = ["RouteBackend", "audit_log_path", "backends_of", "edge_config", "edge_server",
           "nginx_config", "region_map_text", "route_backends", "write_nginx_files"]


@dataclass(frozen=True)
class RouteBackend:
    """One HAProxy backend of a route: its name and the region its active servers are in
    (None: both regions active)."""

    name: str
    near: str | None


def route_backends(topology: Topology, route: Route) -> list[RouteBackend]:
    """Every HAProxy backend that carries ``route`` (servers are added to and removed from
    each): the route's own, and under geo affinity one more per other client region."""
    edge = topology.request.edge
    if route.mode != "http" or edge.failover.policy == "active-passive":
        return [RouteBackend(route.path, topology.primary_region)]
    if edge.failover.policy == "active-active":
        return [RouteBackend(route.path, None)]
    return [RouteBackend(route.path, topology.primary_region),
            *(RouteBackend(f"{route.path}.{region}", region) for region in REGIONS
              if region != topology.primary_region)]


def edge_server(topology: Topology, route: Route, member: str) -> EdgeServer:
    """The server line for ``member``: its edge link's listener, or the member itself (tcp)."""
    region = topology.spec(member).region
    weight = topology.request.edge.failover.weight(region) if route.mode == "http" else None
    if route.mode == "http":
        link = next(link for link in topology.links if link.member == member
                    and link.name == "edge")
        host, port = link.listen.rsplit(":", 1)
        return EdgeServer(member, host, int(port), weight=weight)
    spec = topology.spec(member)
    return EdgeServer(member, spec.address,
                      spec.ports[route.port] if route.port else spec.port)


def _backends(topology: Topology, route: Route) -> list[EdgeBackend]:
    def servers(region: str) -> tuple[EdgeServer, ...]:
        return tuple(edge_server(topology, route, spec.name)
                     for spec in topology.component_members(route.stack, route.component,
                                                            region))

    return backends_of(topology, route, servers)


def backends_of(topology: Topology, route: Route,
                servers: Callable[[str], tuple[EdgeServer, ...]]) -> list[EdgeBackend]:
    """The route's backends (one, or one per client region with geo routing), each with its
    near regions' ``servers`` active and the far ones' as backup; the kind platform's edge
    builds them from its links."""
    built = []
    for backend in route_backends(topology, route):
        near = [backend.near] if backend.near else list(REGIONS)
        far = [region for region in REGIONS if region not in near]
        built.append(EdgeBackend(
            stack=route.path, name=backend.name if backend.name != route.path else "",
            client_region=backend.near if backend.name != route.path else None,
            primary=tuple(s for region in near for s in servers(region)),
            backup=tuple(s for region in far for s in servers(region)),
            health_path=route.health_path, health_body=route.health_body,
            replay_safe=route.replay_safe, mode=route.mode, listen_port=route.listen_port,
            observe=route.observe if route.observe != "layer7" else None,
            streaming=route.streaming))
    return built


def edge_config(topology: Topology, home: LocalHome) -> EdgeConfig:
    edge = topology.request.edge
    health = edge.health
    return EdgeConfig(backends=tuple(b for r in topology.routes for b in _backends(topology, r)),
                      port=topology.ports.edge_haproxy, stats_port=topology.ports.edge_stats,
                      admin_socket=home.haproxy_socket, region_map=home.root / "regions.map",
                      check_inter_ms=health.inter_ms, fall=health.fall, rise=health.rise,
                      observe=health.observe, error_limit=health.error_limit,
                      fail_back_immediate=edge.failover.fail_back == "immediate",
                      rate_limit_per_s_per_source=edge.rate_limit_per_s_per_client,
                      max_body_bytes=edge.max_body_bytes)


def region_map_text(topology: Topology) -> str:
    return "".join(f"{spec.name} {spec.region}\n" for spec in topology.processes)


def audit_log_path(home: Path) -> Path:
    return home / "logs" / "modsec-audit.log"


def nginx_config(topology: Topology, home: Path) -> NginxConfig:
    edge: EdgeOptions = topology.request.edge
    ports = topology.ports
    return NginxConfig(
        home=home, haproxy=f"127.0.0.1:{ports.edge_haproxy}",
        servers=(NginxServer(ports.edge, waf=edge.waf.mode != "off",
                             cache=edge.cache.enabled, waf_mark=edge.waf.mode),
                 NginxServer(ports.edge_no_waf, waf=False, cache=False, waf_mark="off")),
        routes=tuple(NginxRoute(route.path, streaming=route.streaming)
                     for route in topology.routes if route.mode == "http"),
        cache=edge.cache if edge.cache.enabled else None, max_body_bytes=edge.max_body_bytes,
        workers=workers(), user=worker_user())


def write_nginx_files(topology: Topology, home: Path) -> None:
    """nginx.conf and modsecurity.conf into the home, checked by ``nginx -t``; the audit
    log starts empty (the run folder's waf.jsonl is read from it)."""
    prepare_home(home)
    audit = audit_log_path(home)
    audit.parent.mkdir(parents=True, exist_ok=True)
    audit.write_bytes(b"")
    (home / "modsecurity.conf").write_text(render_modsecurity(
        topology.request.edge.waf, home=home, audit_log=audit,
        max_body_bytes=topology.request.edge.max_body_bytes))
    (home / "nginx.conf").write_text(render_nginx(nginx_config(topology, home)))
    nginx_check(home / "nginx.conf")
