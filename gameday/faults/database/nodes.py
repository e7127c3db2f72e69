"""What the database faults ask the nodes themselves: who is primary, who streams from it.

Out of band (each node's unix socket), so the answers hold under a network partition too.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import psycopg

from gameday.platforms.base import DatabaseInfo, DbNode

__all__ = ["NodeRole", "primary_of", "roles", "streaming_standbys"]


@dataclass(frozen=True)
class NodeRole:
    node: DbNode
    up: bool
    writable: bool = False
    timeline: int | None = None  # of the WAL it writes (or replays) now
    error: str = ""


def _role(info: DatabaseInfo, node: DbNode, timeout_s: int) -> NodeRole:
    try:
        with psycopg.connect(info.node_dsn(node.name, connect_timeout_s=timeout_s),
                             autocommit=True) as conn:
            row = conn.execute(
                "select not pg_is_in_recovery() and "
                "current_setting('transaction_read_only') = 'off', "
                "case when pg_is_in_recovery() then null "
                "else substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) end",
                prepare=False).fetchone()
    except psycopg.Error as exc:
        return NodeRole(node=node, up=False, error=str(exc).strip().splitlines()[0])
    timeline = int(row[1], 16) if row and row[1] else None
    return NodeRole(node=node, up=True, writable=bool(row and row[0]), timeline=timeline)


def roles(info: DatabaseInfo, *, timeout_s: int = 2) -> list[NodeRole]:
    return [_role(info, node, timeout_s) for node in info.nodes]


def primary_of(info: DatabaseInfo) -> DbNode | None:
    """The one writable node; None when there is none (or, worse, several)."""
    writable = [r.node for r in roles(info) if r.writable]
    return writable[0] if len(writable) == 1 else None


def streaming_standbys(info: DatabaseInfo, primary: DbNode) -> list[str]:
    """application_name of every standby streaming from ``primary`` now."""
    with contextlib.suppress(psycopg.Error), psycopg.connect(
            info.node_dsn(primary.name, connect_timeout_s=2), autocommit=True) as conn:
        rows = conn.execute("select application_name from pg_stat_replication "
                            "where state = 'streaming'", prepare=False).fetchall()
        return sorted(str(r[0]) for r in rows)
    return []
