"""The kind edge seen from the host (``EdgeObserver``, ``WafLog``): its containers write
HAProxy's admin socket and ModSecurity's audit log into folders of the platform's home
(``edgefiles``), so the harness reads them as on local, with the same readers."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from gameday.platforms.kind.env import KindEnv
from gameday.platforms.kind.state import KindState
from gameday.platforms.local.edge import HaproxyAdmin
from gameday.platforms.local.waf import read_audit_log
from gameday.records import EdgeServerSample

__all__ = ["KindEdgeView", "audit_log", "haproxy_socket"]


def haproxy_socket(home: Path) -> Path:
    return home / "edge" / "run" / "haproxy.sock"


def audit_log(home: Path) -> Path:
    return home / "edge" / "nginx-home" / "logs" / "modsec-audit.log"


class KindEdgeView:
    env: KindEnv

    def edge_server_states(self) -> list[EdgeServerSample]:
        """Every server behind the edge (a Toxiproxy link into a region), as HAProxy sees
        it; none before the platform is up."""
        state = KindState.load(self.env.home)
        if state is None:
            return []
        regions = {link.name: link.region for link in state.links}
        admin = HaproxyAdmin(haproxy_socket(self.env.home))
        now_s = time.time()
        return [EdgeServerSample(t_s=now_s, backend=backend, server=server.name,
                                 region=regions.get(server.name, ""), up=server.operational,
                                 admin=server.admin_state, check=server.check_status)
                for backend in state.edge_urls for server in admin.server_states(backend)]

    def waf_entries(self, since_s: float) -> list[dict[str, Any]]:
        state = KindState.load(self.env.home)
        if state is None:
            return []
        return [entry.as_json() for entry in read_audit_log(
            audit_log(self.env.home), since_s=since_s, mode=state.waf_mode)]
