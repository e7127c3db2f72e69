"""What the database faults ask the nodes themselves: who is primary, who streams from it.

Out of band (each node's unix socket), so the answers hold under a network partition too;
through the role probe's own watched connections, so a frozen node answers "down" in time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import psycopg

from gameday.dbwatch import NodeConnection, SocketWatchdog, describe
from gameday.errors import FaultError
from gameday.faults.checks import eventually
from gameday.platforms.base import DatabaseInfo, DbNode

__all__ = ["NodeRole", "hand_over", "primary_of", "roles", "streaming_standbys"]


@dataclass(frozen=True)
class NodeRole:
    node: DbNode
    up: bool
    writable: bool = False
    timeline: int | None = None  # of the WAL it writes (or replays) now
    error: str = ""


_ROLE = ("select not pg_is_in_recovery() and "
         "current_setting('transaction_read_only') = 'off', "
         "case when pg_is_in_recovery() then null "
         "else substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) end")


@contextlib.contextmanager
def _watched() -> Iterator[SocketWatchdog]:
    """A watchdog for one round of questions: a frozen node cannot hang a fault or rollback."""
    watchdog = SocketWatchdog()
    try:
        yield watchdog
    finally:
        watchdog.close()


def _role(info: DatabaseInfo, node: DbNode, watchdog: SocketWatchdog,
          timeout_s: float) -> NodeRole:
    link = NodeConnection(info, node, watchdog, timeout_s=timeout_s,
                          application_name="gameday-fault")
    try:
        (writable, walfile), = link.execute(_ROLE)
    except (psycopg.Error, TimeoutError, OSError) as exc:
        return NodeRole(node=node, up=False, error=describe(exc))
    finally:
        link.close()
    return NodeRole(node=node, up=True, writable=bool(writable),
                    timeline=int(walfile, 16) if walfile else None)


def roles(info: DatabaseInfo, *, timeout_s: float = 2) -> list[NodeRole]:
    with _watched() as watchdog:
        return [_role(info, node, watchdog, timeout_s) for node in info.nodes]


def primary_of(info: DatabaseInfo) -> DbNode | None:
    """The one writable node; None when there is none (or, worse, several)."""
    writable = [r.node for r in roles(info) if r.writable]
    return writable[0] if len(writable) == 1 else None


def streaming_standbys(info: DatabaseInfo, primary: DbNode) -> list[str]:
    """application_name of every standby streaming from ``primary`` now."""
    with _watched() as watchdog:
        link = NodeConnection(info, primary, watchdog, timeout_s=2,
                              application_name="gameday-fault")
        try:
            rows = link.execute("select application_name from pg_stat_replication "
                                "where state = 'streaming'")
        except (psycopg.Error, TimeoutError, OSError):
            return []
        finally:
            link.close()
    return sorted(str(r[0]) for r in rows)


def hand_over(info: DatabaseInfo, primary: DbNode, candidate: DbNode, timeout_s: float) -> str:
    """A controlled switchover through the leader's Patroni REST API, waited for until the
    candidate is the one writable node; Patroni's answer. FaultError when it was refused or
    did not complete in time."""
    if info.failover != "patroni" or primary.patroni_url is None:
        raise FaultError(f"a switchover needs patroni mode (failover {info.failover!r})")
    answer = httpx.post(f"{primary.patroni_url}/switchover", timeout=timeout_s,
                        json={"leader": primary.name, "candidate": candidate.name})
    if answer.status_code != 200:
        raise FaultError(f"Patroni refused the switchover: {answer.status_code} "
                         f"{answer.text[:200]}")
    if not eventually(lambda: getattr(primary_of(info), "name", None) == candidate.name,
                      timeout_s=timeout_s, interval_s=0.1):
        raise FaultError(f"switchover: {candidate.name} did not become the one writable "
                         f"node within {timeout_s:g} s")
    return answer.text[:200]
