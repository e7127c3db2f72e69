"""The kind platform's global edge: the local platform's own templates and renderers
(haproxy.cfg, nginx.conf, modsecurity.conf), with each region's server a Toxiproxy link on the
kind network, rendered into ``<home>/edge``; and the two ``docker run`` commands that start
HAProxy and nginx + ModSecurity with those files mounted read-only and the same edge ports as
local published on 127.0.0.1 (so ``edge_url`` has the same shape).

Inside its container each listens on all of the container's own addresses: the host reaches
them only through the 127.0.0.1 publish. The WAF's rule set is the host's (``make setup``
installs Debian's modsecurity-crs, as for the local edge), mounted read-only.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from gameday.platforms.base import StackRequest
from gameday.platforms.kind.layout import (
    DOCKER_NETWORK,
    EDGE_CONTAINERS,
    IMAGES,
    TOXIPROXY_CONTAINER,
)
from gameday.platforms.kind.plan import Command, ProxyLink
from gameday.platforms.local.edge import (
    EdgeBackend,
    EdgeConfig,
    EdgeServer,
    render_haproxy_config,
)
from gameday.platforms.local.edgeconfig import backends_of, edge_config, nginx_config
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.topology import Ports, Route, Topology, build_topology
from gameday.platforms.local.waf import (
    CRS_RULES,
    prepare_home,
    render_modsecurity,
    render_nginx,
)

__all__ = ["EDGE_PORTS", "EdgeFiles", "edge_runs", "render_edge", "write_edge_files"]

EDGE_PORTS = Ports()  # the local platform's: 8080 WAF, 8081 HAProxy, 8082 no WAF, 8404 stats
_HAPROXY, _NGINX = EDGE_CONTAINERS
_ANY = "0.0.0.0"  # inside the container only; the host reaches it at 127.0.0.1
_HAPROXY_DIR = Path("/usr/local/etc/haproxy")  # the official image's config folder
_HAPROXY_RUN = Path("/var/run/gameday")  # the admin socket, in a folder the host shares
_NGINX_HOME = Path("/etc/gameday")  # nginx's home in its container (temp dirs, audit log)
_REPO = Path(__file__).resolve().parents[3]
# what modsecurity.conf.tmpl names outside the home: the host's (Debian) CRS and unicode map,
# mounted at the same paths, so the kind edge runs the very rule set the local edge runs
_HOST_WAF_PATHS = (CRS_RULES.parent, Path("/etc/nginx/unicode.mapping"),
                   _REPO / "targets" / "edge" / "crs-exclusions.conf")


@dataclasses.dataclass(frozen=True)
class EdgeFiles:
    """The edge's files as text, keyed by their name under ``<home>/edge``."""

    haproxy_cfg: str
    regions_map: str
    nginx_conf: str
    modsecurity_conf: str


def _layout(request: StackRequest, home: Path) -> Topology:
    """The local layout of the same request: its routes, health checks and edge options are
    what the kind edge serves too (its member addresses are not used)."""
    return build_topology(request, home=home, repo=_REPO, artifacts=_REPO / "artifacts",
                          haproxy="haproxy", ports=EDGE_PORTS)


def _backends(topology: Topology, route: Route, links: list[ProxyLink]) -> list[EdgeBackend]:
    failover = topology.request.edge.failover

    def servers(region: str) -> tuple[EdgeServer, ...]:
        return tuple(EdgeServer(link.name, TOXIPROXY_CONTAINER, link.listen_port,
                                weight=failover.weight(region)) for link in links
                     if link.region == region and link.stack == route.stack
                     and link.component == route.component and link.port == "http")

    return backends_of(topology, route, servers)


def render_edge(request: StackRequest, home: Path, links: list[ProxyLink]) -> EdgeFiles:
    """The edge's files for ``request``: http routes only (a tcp route's listener has no
    link on kind yet)."""
    topology = _layout(request, home)
    routes = [route for route in topology.routes if route.mode == "http"]
    local = edge_config(topology, LocalHome(home))
    haproxy: EdgeConfig = dataclasses.replace(
        local, backends=tuple(b for r in routes for b in _backends(topology, r, links)),
        admin_socket=_HAPROXY_RUN / "haproxy.sock", region_map=_HAPROXY_DIR / "regions.map",
        bind_address=_ANY)
    nginx = dataclasses.replace(nginx_config(topology, _NGINX_HOME),
                                haproxy=f"{_HAPROXY}:{EDGE_PORTS.edge_haproxy}",
                                bind_address=_ANY, user=None, workers=2)
    edge = request.edge
    return EdgeFiles(
        haproxy_cfg=render_haproxy_config(haproxy),
        regions_map="".join(f"{link.name} {link.region}\n" for link in links),
        nginx_conf=render_nginx(nginx),
        modsecurity_conf=render_modsecurity(
            edge.waf, home=_NGINX_HOME, audit_log=_NGINX_HOME / "logs" / "modsec-audit.log",
            max_body_bytes=edge.max_body_bytes))


def write_edge_files(files: EdgeFiles, home: Path) -> Path:
    """The files under ``<home>/edge``, with the folders the containers write into."""
    folder = home / "edge"
    for sub in ("run", "nginx-home/logs"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    prepare_home(folder / "nginx-home")
    (folder / "nginx-home" / "logs" / "modsec-audit.log").write_bytes(b"")
    for name, text in (("haproxy.cfg", files.haproxy_cfg), ("regions.map", files.regions_map),
                       ("nginx.conf", files.nginx_conf),
                       ("modsecurity.conf", files.modsecurity_conf)):
        (folder / name).write_text(text)
    return folder


def _ro(host: Path, inside: Path) -> tuple[str, str]:
    return ("-v", f"{host}:{inside}:ro")


def edge_runs(home: Path, *, uid: int, gid: int) -> tuple[Command, Command]:
    """``docker run`` of HAProxy, then of nginx: as the host's user, so the admin socket and
    the audit log they write into the home are the harness's to read."""
    folder = home / "edge"
    ports = EDGE_PORTS
    start = ("docker", "run", "-d", "--network", DOCKER_NETWORK, "--user", f"{uid}:{gid}")
    haproxy = (*start, "--name", _HAPROXY,
               "-p", f"127.0.0.1:{ports.edge_haproxy}:{ports.edge_haproxy}",
               "-p", f"127.0.0.1:{ports.edge_stats}:{ports.edge_stats}",
               *_ro(folder / "haproxy.cfg", _HAPROXY_DIR / "haproxy.cfg"),
               *_ro(folder / "regions.map", _HAPROXY_DIR / "regions.map"),
               "-v", f"{folder / 'run'}:{_HAPROXY_RUN}", IMAGES["haproxy"])
    nginx = (*start, "--name", _NGINX,
             "-p", f"127.0.0.1:{ports.edge}:{ports.edge}",
             "-p", f"127.0.0.1:{ports.edge_no_waf}:{ports.edge_no_waf}",
             "-v", f"{folder / 'nginx-home'}:{_NGINX_HOME}",
             *_ro(folder / "nginx.conf", _NGINX_HOME / "nginx.conf"),
             *_ro(folder / "modsecurity.conf", _NGINX_HOME / "modsecurity.conf"),
             *(part for path in _HOST_WAF_PATHS for part in _ro(path, path)),
             "--entrypoint", "nginx", IMAGES["nginx"],
             "-c", str(_NGINX_HOME / "nginx.conf"), "-g", "daemon off;")
    return (Command(haproxy, "the edge's HAProxy: health-checked failover between the regions' "
                             "links"),
            Command(nginx, "the edge's nginx + ModSecurity (WAF, cache) in front of HAProxy"))
