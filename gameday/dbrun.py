"""The database part of a run: the role probe, the harness's own failover (promote mode) and
the audit that states the RPO.

``run.py`` starts it once the platform is up (so the probe has samples from before any fault),
stops the failover after the rollbacks and audits the surviving primary by SQL before the
platform goes down. Every step writes into the run folder as it happens (``dbrecords``).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx

from gameday.config import Suite
from gameday.dbaudit import audit_writes
from gameday.dbfailover import PromoteFailover
from gameday.dbrecords import DbAudit, write_audit
from gameday.dbwatch import DbWatch
from gameday.errors import FaultError, PlatformError
from gameday.faults.database.nodes import hand_over, primary_of
from gameday.platforms.base import (
    PRIMARY_REGION,
    DatabaseAccess,
    DatabaseInfo,
    Platform,
    Progress,
)
from gameday.records import EventKind, EventLog

__all__ = ["RAG_DOCUMENTS_TABLE", "DatabaseRun", "run_key_of"]

RAG_DOCUMENTS_TABLE = "rag_documents"  # targets/rag/store.py: one row per ingested document


def run_key_of(run_dir: Path) -> str:
    """What a run's rag ingests store as ``run_key``: its folder's stamp, unique per run."""
    return run_dir.name.split("-")[0]


_AUDIT_TRIES_S = 60.0  # the rollback has converged by then; a primary must be found
_HAND_BACK_S = 60.0


class DatabaseRun:
    def __init__(self, suite: Suite, platform: Platform, run_dir: Path, events: EventLog,
                 progress: Progress) -> None:
        if not isinstance(platform, DatabaseAccess):
            raise PlatformError(f"the {platform.name} platform has no DatabaseAccess: it "
                                "cannot run a database load")
        ledger = suite.ledger_load
        assert ledger is not None  # the run starts this only for a suite with a ledger
        self.suite = suite
        self.info: DatabaseInfo = platform.database(ledger.stack)
        self.run_dir = run_dir
        self.events = events
        self.progress = progress
        # a platform left up serves several runs, and the audit must tell this run's sequence
        # numbers from an earlier one's: the writer gets a table per run; the rag ingests are
        # told apart by the run key (the run folder's stamp) stored with each document
        self.run_key: str | None = None
        if ledger.target == "database":
            self.table = "gameday_writes_" + re.sub(r"[^a-z0-9]+", "_",
                                                    run_dir.name.lower())[-40:]
        else:
            self.table, self.run_key = RAG_DOCUMENTS_TABLE, run_key_of(run_dir)
        self.watch: DbWatch | None = None
        self.failover: PromoteFailover | None = None

    def start(self) -> None:
        database = self.suite.database
        assert database is not None  # the suite's own check: a database load has the section
        self._primary_back_home()
        self.watch = DbWatch(self.info, self.run_dir, self.events)
        self.watch.start()
        if database.failover == "promote":
            self.failover = PromoteFailover(self.info, self.watch, self.events,
                                            after_s=database.promote_after_s)
            self.failover.start()
        self.progress(f"database: {len(self.info.nodes)} nodes, failover by "
                      f"{database.failover}, {database.replication} replication; watching "
                      "every node every 100 ms")

    def _primary_back_home(self) -> None:
        """A platform that failed over in an earlier run (left up, or stood up again on its
        data) has its primary in the other region; the suite's faults aim at the primary
        region, so Patroni hands the primary back before the load starts (measured: without
        this, the second rag run killed region-a and hit only a standby)."""
        primary = primary_of(self.info)
        home = next((n for n in self.info.nodes if n.region == PRIMARY_REGION), None)
        if primary is None or home is None or primary.region == PRIMARY_REGION:
            return
        if self.info.failover != "patroni":
            self.progress(f"database: the primary is {primary.name} ({primary.region}), not "
                          f"in {PRIMARY_REGION}; promote mode cannot hand it back")
            return
        self.progress(f"database: the primary is {primary.name} ({primary.region}) after an "
                      f"earlier failover; handing it back to {home.name}")
        try:
            hand_over(self.info, primary, home, timeout_s=_HAND_BACK_S)
        except (FaultError, httpx.HTTPError) as exc:
            raise PlatformError(f"could not hand the database primary back to {home.name}: "
                                f"{exc}") from None
        self.events.emit(EventKind.DB_HANDED_BACK, node=home.name, region=home.region,
                         previous=primary.name)

    def stop_failover(self) -> None:
        if self.failover is not None:
            self.failover.stop()

    def audit(self) -> DbAudit:
        """Every sequence number on the surviving primary, straight from SQL; retried while
        no single primary can be found (a rejoin may still be in progress)."""
        deadline_s = time.monotonic() + _AUDIT_TRIES_S
        while True:
            audit = audit_writes(self.info, table=self.table, run_key=self.run_key)
            if not audit.error or time.monotonic() >= deadline_s:
                break
            time.sleep(1.0)
        write_audit(self.run_dir, audit)
        self.events.emit(EventKind.DB_AUDIT, node=audit.node, present=len(audit.present),
                         error=audit.error)
        self.progress(f"audit: {len(audit.present)} writes on {audit.node}" if not audit.error
                      else f"audit failed: {audit.error}")
        return audit

    def stop(self) -> None:
        self.stop_failover()
        if self.watch is not None:
            self.watch.stop()
