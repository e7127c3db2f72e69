"""The edge's configuration from the topology: one HAProxy backend per route, the primary
region's members active and the other region's as backups, each through its fault-proxy link
(http routes) or directly (tcp routes), and the server → region map the edge names regions by."""

from __future__ import annotations

from gameday.platforms.base import REGIONS
from gameday.platforms.local.edge import EdgeBackend, EdgeConfig, EdgeServer
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.topology import Route, Topology

__all__ = ["edge_config", "edge_server", "region_map_text"]


def edge_server(topology: Topology, route: Route, member: str) -> EdgeServer:
    """The server line for ``member``: its edge link's listener, or the member itself (tcp)."""
    if route.mode == "http":
        link = next(link for link in topology.links if link.member == member
                    and link.name == "edge")
        host, port = link.listen.rsplit(":", 1)
        return EdgeServer(member, host, int(port))
    spec = topology.spec(member)
    return EdgeServer(member, spec.address,
                      spec.ports[route.port] if route.port else spec.port)


def _backend(topology: Topology, route: Route) -> EdgeBackend:
    secondary = next(r for r in REGIONS if r != topology.primary_region)

    def servers(region: str) -> tuple[EdgeServer, ...]:
        return tuple(edge_server(topology, route, spec.name)
                     for spec in topology.component_members(route.stack, route.component,
                                                            region))

    return EdgeBackend(stack=route.path, primary=servers(topology.primary_region),
                       backup=servers(secondary), health_path=route.health_path,
                       health_body=route.health_body,
                       replay_safe=route.replay_safe, mode=route.mode,
                       listen_port=route.listen_port, observe=route.observe,
                       streaming=route.streaming)


def edge_config(topology: Topology, home: LocalHome) -> EdgeConfig:
    return EdgeConfig(backends=tuple(_backend(topology, r) for r in topology.routes),
                      port=topology.ports.edge, stats_port=topology.ports.edge_stats,
                      admin_socket=home.haproxy_socket, region_map=home.root / "regions.map")


def region_map_text(topology: Topology) -> str:
    return "".join(f"{spec.name} {spec.region}\n" for spec in topology.processes)
