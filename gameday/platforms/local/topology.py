"""Lays stacks out on loopback: addresses per region, fault-proxy links, the edge, as data.

Region-a members live in 127.10.<octet>.<i>, region-b in 127.20.<octet>.<i> (octet from the
stack), the edge and the fault proxy on 127.0.0.1. Every edge → replica link goes through the
fault proxy, so latency and other link toxics apply to exactly the cross-region path.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gameday.platforms.base import EDGE, REGIONS, StackRequest
from gameday.platforms.local.edge import EdgeBackend, EdgeConfig, EdgeServer
from gameday.platforms.local.specs import HealthCheck, ProcessSpec
from gameday.stacks import StackDef, load_stack

__all__ = ["Link", "Ports", "Topology", "build_topology"]

_REGION_SECOND_OCTET = {"region-a": 10, "region-b": 20}


@dataclass(frozen=True)
class Ports:
    edge: int = 8080
    edge_stats: int = 8404
    proxy_api: int = 8474
    proxy_links_base: int = 19000


@dataclass(frozen=True)
class Link:
    """One fault-proxy link: the edge talks to ``listen``, the proxy forwards to the member."""

    proxy: str
    region: str
    stack: str
    member: str
    listen: str
    upstream: str


@dataclass(frozen=True)
class Topology:
    processes: tuple[ProcessSpec, ...]
    links: tuple[Link, ...]
    edge: EdgeConfig
    edge_urls: dict[str, str]
    proxy_api_url: str
    primary_region: str

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": "local",
            "processes": [p.to_json() for p in self.processes],
            "links": [vars(link) for link in self.links],
            "edge_urls": self.edge_urls,
            "proxy_api_url": self.proxy_api_url,
            "primary_region": self.primary_region,
        }


def member_address(region: str, stack: StackDef, index: int) -> str:
    return f"127.{_REGION_SECOND_OCTET[region]}.{stack.octet}.{index}"


def _fill(template: str, values: dict[str, str]) -> str:
    return template.format(**values)


def _replica_specs(stack: StackDef, region: str, replicas: int, repo: Path,
                   artifacts: Path) -> list[ProcessSpec]:
    specs = []
    for index in range(1, replicas + 1):
        name = f"{stack.name}-{region[-1]}{index}"
        values = {"python": sys.executable, "address": member_address(region, stack, index),
                  "port": str(stack.port), "region": region, "name": name,
                  "artifacts": str(artifacts)}
        specs.append(ProcessSpec(
            name=name, region=region, stack=stack.name, role="replica",
            argv=tuple(_fill(part, values) for part in stack.command),
            address=values["address"], port=stack.port,
            env={key: _fill(value, values) for key, value in stack.env.items()},
            cwd=str(repo), health=HealthCheck("http", stack.shallow_health_path),
            restart=stack.restart, start_timeout_s=stack.start_timeout_s, order=1))
    return specs


def _links(replicas: list[ProcessSpec], ports: Ports) -> list[Link]:
    return [Link(proxy=spec.name, region=spec.region, stack=spec.stack, member=spec.name,
                 listen=f"127.0.0.1:{ports.proxy_links_base + offset}",
                 upstream=f"{spec.address}:{spec.port}")
            for offset, spec in enumerate(replicas)]


def _edge_config(stacks: list[StackDef], links: list[Link], request: StackRequest,
                 home: Path, ports: Ports, primary: str) -> EdgeConfig:
    backends = []
    for stack in stacks:
        def servers(region: str, stack_name: str = stack.name) -> tuple[EdgeServer, ...]:
            return tuple(EdgeServer(link.member, *_split(link.listen)) for link in links
                         if link.stack == stack_name and link.region == region)
        path = stack.deep_health_path if request.edge_health_check == "deep" \
            else stack.shallow_health_path
        secondary = next(r for r in REGIONS if r != primary)
        backends.append(EdgeBackend(stack=stack.name, primary=servers(primary),
                                    backup=servers(secondary), health_path=path,
                                    replay_safe=stack.replay_safe))
    return EdgeConfig(backends=tuple(backends), port=ports.edge, stats_port=ports.edge_stats,
                      admin_socket=home / "haproxy.sock")


def _split(hostport: str) -> tuple[str, int]:
    host, port = hostport.rsplit(":", 1)
    return host, int(port)


def fault_proxy_argv(ports: Ports, config: Path) -> tuple[str, ...]:
    """The real toxiproxy-server when it is on PATH, else the built-in one (same API)."""
    real = shutil.which("toxiproxy-server")
    if real:
        return (real, "-host", "127.0.0.1", "-port", str(ports.proxy_api), "-config", str(config))
    return (sys.executable, "-m", "gameday.platforms.local.faultproxy", "--host", "127.0.0.1",
            "--port", str(ports.proxy_api), "--config", str(config))


def build_topology(request: StackRequest, *, home: Path, repo: Path, artifacts: Path,
                   haproxy: str, ports: Ports | None = None,
                   primary: str = "region-a") -> Topology:
    ports = ports or Ports()
    stacks = [load_stack(name) for name in request.stacks]
    replicas = [spec for stack in stacks for region in REGIONS
                for spec in _replica_specs(stack, region, request.replicas, repo, artifacts)]
    links = _links(replicas, ports)
    edge = _edge_config(stacks, links, request, home, ports, primary)
    proxy = ProcessSpec(
        name="fault-proxy", region=EDGE, stack="fault-proxy", role="fault-proxy",
        argv=fault_proxy_argv(ports, home / "proxies.json"), address="127.0.0.1",
        port=ports.proxy_api, cwd=str(repo), health=HealthCheck("http", "/version"), order=0)
    edge_process = ProcessSpec(
        name="edge-haproxy", region=EDGE, stack="edge", role="edge",
        argv=(haproxy, "-db", "-f", str(home / "haproxy.cfg")), address="127.0.0.1",
        port=ports.edge, cwd=str(home), health=HealthCheck("tcp"), order=2)
    return Topology(
        processes=(proxy, *replicas, edge_process), links=tuple(links), edge=edge,
        edge_urls={s.name: f"http://127.0.0.1:{ports.edge}/{s.name}" for s in stacks},
        proxy_api_url=f"http://127.0.0.1:{ports.proxy_api}", primary_region=primary)


def proxies_config(links: tuple[Link, ...]) -> list[dict[str, Any]]:
    """The fault proxy's start-up config (Toxiproxy's ``-config`` / ``/populate`` format)."""
    return [{"name": link.proxy, "listen": link.listen, "upstream": link.upstream,
             "enabled": True} for link in links]
