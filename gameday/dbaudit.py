"""The RPO audit: after the run, every sequence number the surviving primary holds, read by
SQL straight from the node (not through any service), so lost writes can be counted."""

from __future__ import annotations

import time

import psycopg
from psycopg import sql

from gameday.dbrecords import DbAudit, DbSample
from gameday.dbwatch import NodeConnection, SocketWatchdog, describe, sample_node
from gameday.platforms.base import DatabaseInfo

__all__ = ["audit_writes"]


def audit_writes(info: DatabaseInfo, *, table: str = "gameday_writes",
                 run_key: str | None = None, timeout_s: float = 10) -> DbAudit:
    """Ask every node directly which one is out of recovery and read ``table`` there (only
    the rows of ``run_key`` when given: the rag documents of one run).

    Exactly one such node is the surviving store; none, or two (a split brain), leaves the
    audit with an ``error``: it never guesses which store survived.
    """
    watchdog = SocketWatchdog()
    links = [NodeConnection(info, node, watchdog, timeout_s=timeout_s,
                            application_name="gameday-audit") for node in info.nodes]
    try:
        samples = [sample_node(link) for link in links]
        primaries = [(link, s) for link, s in zip(links, samples, strict=True)
                     if s.up and s.in_recovery is False]
        if len(primaries) != 1:
            return DbAudit(t_s=time.time(), node="", region="", table=table,
                           error=_no_single_primary(samples, len(primaries)))
        link, _ = primaries[0]
        query = sql.SQL("SELECT seq FROM {} ORDER BY seq").format(sql.Identifier(table)) \
            if run_key is None else sql.SQL(
                "SELECT seq FROM {} WHERE run_key = {} AND seq IS NOT NULL ORDER BY seq").format(
                sql.Identifier(table), sql.Literal(run_key))
        try:
            rows = link.execute(query)
        except (psycopg.Error, TimeoutError, OSError) as exc:
            return DbAudit(t_s=time.time(), node=link.node.name, region=link.node.region,
                           table=table, error=f"reading {table}: {describe(exc)}")
        return DbAudit(t_s=time.time(), node=link.node.name, region=link.node.region,
                       table=table, present=tuple(int(seq) for seq, in rows))
    finally:
        for link in links:
            link.close()
        watchdog.close()


def _no_single_primary(samples: list[DbSample], count: int) -> str:
    states = "; ".join(_state(s) for s in samples)
    if count == 0:
        return f"no node is out of recovery, nothing to audit ({states})"
    return (f"{count} nodes are out of recovery (split brain): the audit will not guess "
            f"which store survived ({states})")


def _state(sample: DbSample) -> str:
    if not sample.up:
        return f"{sample.node}: down, {sample.error}"
    return f"{sample.node}: {'standby' if sample.in_recovery else 'primary'}"
