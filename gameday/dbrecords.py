"""The database part of the run folder (see ``gameday.records`` for the rest).

A database run adds::

    requests-writes.csv  the writer's numbered writes, one RequestRecord each: ``seq`` the
                         sequence number, ``ok`` acknowledged (COMMIT returned), ``end_s`` the
                         ack (or failure) time, ``region`` the region of the node that
                         acknowledged, ``endpoint`` "write", ``status`` 0
    db.jsonl             one DbSample per line: every node asked every ~100 ms whether it
                         accepts writes, and where its WAL stands
    replication.jsonl    one ReplicationSample per line: the primary's pg_stat_replication
    audit.json           DbAudit: every sequence number found on the surviving primary by SQL
                         after the run (not through any service)

All times are UNIX epoch seconds from ``time.time()`` on this host; LSNs are byte positions
(``pg_lsn`` minus ``'0/0'``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "AUDIT_FILE",
    "DB_FILE",
    "REPLICATION_FILE",
    "WRITES_GENERATOR",
    "WRITE_ENDPOINT",
    "DbAudit",
    "DbSample",
    "JsonLines",
    "ReplicationSample",
    "read_audit",
    "read_db_samples",
    "read_replication_samples",
    "write_audit",
]

DB_FILE = "db.jsonl"
REPLICATION_FILE = "replication.jsonl"
AUDIT_FILE = "audit.json"
WRITES_GENERATOR = "writes"  # requests-writes.csv
WRITE_ENDPOINT = "write"


@dataclass(frozen=True, slots=True)
class DbSample:
    """One node's answer to the role probe (or its silence)."""

    t_s: float  # when the answer came, or when the probe gave up
    node: str  # member name, e.g. rag-pg-a1
    region: str
    up: bool  # answered within the probe's timeout
    writable: bool  # up, not in recovery and not read-only: a write would be taken here
    in_recovery: bool | None = None
    lsn: int | None = None  # primary: pg_current_wal_lsn(); standby: pg_last_wal_replay_lsn()
    receive_lsn: int | None = None  # standby: pg_last_wal_receive_lsn()
    timeline: int | None = None
    role: str = ""  # Patroni's name for the member's role (leader, replica, ...); "" without
    error: str = ""  # why the node did not answer


@dataclass(frozen=True, slots=True)
class ReplicationSample:
    """One row of ``pg_stat_replication`` on the node that was writable."""

    t_s: float
    primary: str  # node name
    standby: str  # application_name
    state: str  # streaming, catchup, ...
    sync_state: str  # async, sync, potential, quorum
    sent_lsn: int | None = None
    write_lsn: int | None = None
    flush_lsn: int | None = None
    replay_lsn: int | None = None
    primary_lsn: int | None = None  # pg_current_wal_lsn() in the same query
    write_lag_s: float | None = None
    flush_lag_s: float | None = None
    replay_lag_s: float | None = None

    @property
    def replay_lag_bytes(self) -> int | None:
        if self.primary_lsn is None or self.replay_lsn is None:
            return None
        return max(0, self.primary_lsn - self.replay_lsn)


@dataclass(frozen=True, slots=True)
class DbAudit:
    """What the audit found on the surviving primary."""

    t_s: float
    node: str
    region: str
    table: str
    present: tuple[int, ...] = field(default_factory=tuple)  # every seq found, ascending
    error: str = ""  # the audit could not run: no RPO can be stated


_Row = TypeVar("_Row", DbSample, ReplicationSample)


class JsonLines:
    """Appends dataclass rows to a JSON-lines file, one line each, flushed per batch.
    Thread-safe; a crash loses at most the batch being written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, rows: Iterable[Any]) -> None:
        lines = "".join(json.dumps(asdict(row)) + "\n" for row in rows)
        if not lines:
            return
        with self._lock, self.path.open("a") as handle:
            handle.write(lines)


def _read_lines(path: Path, kind: type[_Row]) -> list[_Row]:
    if not path.exists():
        return []
    names = {f.name for f in fields(kind)}
    rows = []
    for line in path.read_text().splitlines():
        try:
            raw = json.loads(line)
            rows.append(kind(**{k: v for k, v in raw.items() if k in names}))
        except (json.JSONDecodeError, TypeError, AttributeError):
            continue  # a torn last line
    return sorted(rows, key=lambda r: r.t_s)


def read_db_samples(run_dir: Path) -> list[DbSample]:
    return _read_lines(run_dir / DB_FILE, DbSample)


def read_replication_samples(run_dir: Path) -> list[ReplicationSample]:
    return _read_lines(run_dir / REPLICATION_FILE, ReplicationSample)


def write_audit(run_dir: Path, audit: DbAudit) -> None:
    path = run_dir / AUDIT_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({**asdict(audit), "present": list(audit.present)}))
    tmp.replace(path)


def read_audit(run_dir: Path) -> DbAudit | None:
    path = run_dir / AUDIT_FILE
    if not path.exists():
        return None
    raw = json.loads(path.read_text())
    return DbAudit(**{**raw, "present": tuple(raw.get("present", ()))})
