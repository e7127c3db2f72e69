"""The rag stack's PostgreSQL nodes on kind, for the writer, the role probe and the audit
(``DatabaseAccess``): each region's node through its cluster's published NodePorts on
127.0.0.1 (``layout.host_port``), one Patroni cluster across both (clusters/manifests/rag).

A node is named ``rag-db-0.<region>``: the StatefulSet's pod has the same name in both
clusters. Killing the postmaster is ``kubectl exec`` of ``kill -KILL`` on the pid in its pid
file, in the pod's ``patroni`` container (Patroni stays and restarts or fails it over). The
disk-full fault is refused: a kind node's volume is a host directory, not size-capped.
"""

from __future__ import annotations

from typing import Any

from gameday.errors import FaultError
from gameday.platforms.base import REGIONS, DatabaseInfo, DbNode
from gameday.platforms.kind.env import KindEnv
from gameday.platforms.kind.layout import NAMESPACE, NODE_PORTS, context_name, host_port

__all__ = ["KindDatabase", "db_node_name"]

_STACK = "rag"
_CONTAINER = "patroni"
_PID_FILE = "/var/lib/postgresql/data/pgdata/postmaster.pid"


def db_node_name(region: str) -> str:
    return f"rag-db-0.{region}"


class KindDatabase:
    env: KindEnv

    def database(self, stack: str) -> DatabaseInfo:
        if stack != _STACK:
            raise FaultError(f"stack {stack!r} has no database on kind; {_STACK} has")
        nodes = tuple(DbNode(
            name=db_node_name(region), region=region, host="127.0.0.1",
            port=host_port(region, NODE_PORTS[(_STACK, "db", "postgres")]),
            patroni_url="http://127.0.0.1:"
                        f"{host_port(region, NODE_PORTS[(_STACK, 'db', 'patroni')])}")
            for region in REGIONS)
        return DatabaseInfo(stack=stack, failover="patroni", dbname="postgres",
                            user="postgres", nodes=nodes)

    def kill_postmaster(self, stack: str, node: str) -> int:
        region = self._region_of(stack, node)
        pod = node.removesuffix(f".{region}")
        script = f'pid=$(head -n 1 {_PID_FILE}) && kill -KILL "$pid" && echo "$pid"'
        result = self.env.runner.run(
            ["kubectl", "--context", context_name(region), "-n", NAMESPACE, "exec", pod,
             "-c", _CONTAINER, "--", "sh", "-c", script], check=False, timeout_s=30)
        if result.returncode != 0:
            raise FaultError(f"{node}: could not kill its postmaster: "
                             f"{result.stderr.strip() or result.stdout.strip()}")
        try:
            return int(result.stdout.split()[-1])
        except (ValueError, IndexError):
            raise FaultError(f"{node}: no postmaster pid in {result.stdout!r}") from None

    def fill_disk(self, node: str) -> dict[str, Any]:
        raise FaultError("the disk-full fault needs a size-capped data volume; a kind node's "
                         "volume is a host directory (use the local platform for it)")

    def free_disks(self) -> list[str]:
        return []

    def _region_of(self, stack: str, node: str) -> str:
        for candidate in self.database(stack).nodes:
            if candidate.name == node:
                return candidate.region
        raise FaultError(f"no database node {node!r}; have "
                         f"{[n.name for n in self.database(stack).nodes]}")
