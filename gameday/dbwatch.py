"""Every database node's own answer to "do you take writes?", asked every ~100 ms during a
run and appended to ``db.jsonl`` and ``replication.jsonl`` (see ``gameday.dbrecords``).

Split brain and the promote part of write RTO are read from these samples, so each node is
asked on its own connection in its own thread: a frozen node never delays the others.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
import os
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from gameday.dbrecords import DB_FILE, REPLICATION_FILE, DbSample, JsonLines, ReplicationSample
from gameday.platforms.base import DatabaseInfo, DbNode
from gameday.records import EventKind, EventLog

__all__ = ["DbWatch", "NodeConnection", "SocketWatchdog", "describe", "sample_node"]

_FLUSH_S = 0.25
_WATCHDOG_TICK_S = 0.01
_STOP_JOIN_S = 0.8
_ERROR_CHARS = 400

_ROLE_QUERY = """
SELECT r.in_recovery, current_setting('transaction_read_only') = 'on',
       CASE WHEN r.in_recovery THEN pg_last_wal_replay_lsn() - '0/0'::pg_lsn
            ELSE pg_current_wal_lsn() - '0/0'::pg_lsn END,
       pg_last_wal_receive_lsn() - '0/0'::pg_lsn,
       (SELECT timeline_id FROM pg_control_checkpoint())
FROM (SELECT pg_is_in_recovery() AS in_recovery) AS r"""

_REPLICATION_QUERY = """
SELECT application_name, state, sync_state,
       sent_lsn - '0/0'::pg_lsn, write_lsn - '0/0'::pg_lsn, flush_lsn - '0/0'::pg_lsn,
       replay_lsn - '0/0'::pg_lsn, pg_current_wal_lsn() - '0/0'::pg_lsn,
       EXTRACT(epoch FROM write_lag), EXTRACT(epoch FROM flush_lag),
       EXTRACT(epoch FROM replay_lag)
FROM pg_stat_replication"""


@dataclass(slots=True)
class _Armed:
    deadline_s: float  # time.monotonic()
    fileno: int
    done: bool = False
    fired: bool = False


class SocketWatchdog:
    """Shuts a connection's socket down when a call on it outlives its deadline.

    libpq waits forever for a frozen (SIGSTOPped) server: nothing in it times out a query in
    flight, and a cancel request would go to the frozen postmaster too. A socket shut down
    under the call makes it raise at once; the connection is then discarded.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Armed]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def deadline(self, conn: psycopg.Connection[Any], timeout_s: float) -> Iterator[_Armed]:
        """Guard the calls made on ``conn`` inside the block; ``.fired`` says it timed out.
        Close ``conn`` after the block, never inside it."""
        armed = _Armed(time.monotonic() + timeout_s, conn.fileno())
        with self._wake:
            if self._closed:
                raise TimeoutError("the watchdog is closed: no new calls")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="db-watchdog",
                                                daemon=True)
                self._thread.start()
            heapq.heappush(self._heap, (armed.deadline_s, next(self._order), armed))
            if self._heap[0][2] is armed:
                self._wake.notify()
        try:
            yield armed
        finally:
            with self._wake:
                armed.done = True

    def close(self) -> None:
        """Fire every deadline now (calls in flight raise) and stop the thread."""
        with self._wake:
            self._closed = True
            for _, _, armed in self._heap:
                self._fire(armed)
            self._heap.clear()
            self._wake.notify()

    def _run(self) -> None:
        with self._wake:
            while not self._closed:
                now_s = time.monotonic()
                while self._heap and (self._heap[0][2].done or self._heap[0][0] <= now_s):
                    self._fire(heapq.heappop(self._heap)[2])
                # a deadline is met to within _WATCHDOG_TICK_S: one wake-up per tick, not per call
                self._wake.wait(max(_WATCHDOG_TICK_S, self._heap[0][0] - now_s)
                                if self._heap else None)

    @staticmethod
    def _fire(armed: _Armed) -> None:
        if armed.done:  # the call returned: the fd may already belong to someone else
            return
        armed.fired = True
        with contextlib.suppress(OSError), socket.socket(fileno=os.dup(armed.fileno)) as dup:
            dup.shutdown(socket.SHUT_RDWR)  # shared by the original fd: the call sees EOF


def describe(exc: BaseException) -> str:
    """One line: an error's type and its message (a multi-host connect lists each host's)."""
    lines = " / ".join(line.strip() for line in str(exc).strip().splitlines() if line.strip())
    return f"{type(exc).__name__}: {lines}"[:_ERROR_CHARS]


class NodeConnection:
    """One node's own connection (never the multi-host string): opened on demand, dropped
    after any error, every call bounded by the watchdog. Connecting to a frozen node is
    bounded by libpq's ``connect_timeout``, which psycopg raises to at least 2 s."""

    def __init__(self, info: DatabaseInfo, node: DbNode, watchdog: SocketWatchdog, *,
                 timeout_s: float, application_name: str = "gameday-watch") -> None:
        self.node = node
        self.timeout_s = timeout_s
        self._dsn = info.node_dsn(node.name, application_name=application_name)
        self._watchdog = watchdog
        self._conn: psycopg.Connection[Any] | None = None

    def execute(self, query: Any, params: tuple[Any, ...] = (), *,
                timeout_s: float | None = None) -> list[tuple[Any, ...]]:
        """The rows of one autocommit statement; ``TimeoutError`` past the deadline, a
        ``psycopg.Error`` for anything else the node said or did not say."""
        if self._conn is None:
            self._conn = psycopg.connect(self._dsn, autocommit=True)
        conn, limit_s, fired = self._conn, timeout_s or self.timeout_s, False
        try:
            with self._watchdog.deadline(conn, limit_s) as armed:
                try:
                    cursor = conn.execute(query, params, prepare=False)
                    rows = cursor.fetchall() if cursor.description else []
                finally:
                    fired = armed.fired
        except psycopg.Error:
            self.close()
            if fired:
                raise TimeoutError(f"no answer within {limit_s:g} s") from None
            raise
        if fired:  # answered just as the deadline shut the socket: the answer stands
            self.close()
        return rows

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()


def sample_node(link: NodeConnection, role: str = "") -> DbSample:
    """Ask one node whether it takes writes; its silence or error is a sample too."""
    node = link.node
    try:
        (in_recovery, read_only, lsn, receive_lsn, timeline), = link.execute(_ROLE_QUERY)
    except (psycopg.Error, TimeoutError, OSError) as exc:
        return DbSample(t_s=time.time(), node=node.name, region=node.region, up=False,
                        writable=False, role=role, error=describe(exc))
    return DbSample(t_s=time.time(), node=node.name, region=node.region, up=True,
                    writable=not in_recovery and not read_only, in_recovery=in_recovery,
                    lsn=_int(lsn), receive_lsn=_int(receive_lsn), timeline=_int(timeline),
                    role=role)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


class DbWatch:
    """``start()`` asks every node every ``interval_s`` until ``stop()``. A node that does
    not answer within ``timeout_s`` is sampled ``up=False``; a failure of the watch itself is
    noted once in the event log and never stops the run."""

    def __init__(self, info: DatabaseInfo, run_dir: Path, events: EventLog, *,
                 interval_s: float = 0.1, replication_every_s: float = 0.5,
                 timeout_s: float = 0.5) -> None:
        self.info = info
        self.interval_s = interval_s
        self.replication_every_s = replication_every_s
        self.timeout_s = timeout_s
        # A sample older than this says nothing about now (a live node answers every interval).
        self.fresh_s = timeout_s + 3 * interval_s
        self._events = events
        self._db_lines = JsonLines(run_dir / DB_FILE)
        self._replication_lines = JsonLines(run_dir / REPLICATION_FILE)
        self._watchdog = SocketWatchdog()
        self._lock = threading.Lock()
        self._latest: dict[str, DbSample] = {}
        self._roles: dict[str, tuple[str, float]] = {}  # node -> (Patroni role, monotonic)
        self._pending: list[DbSample | ReplicationSample] = []
        self._failed = False
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._guarded, args=(self._watch_node, node),
                                          name=f"db-watch-{node.name}", daemon=True)
                         for node in info.nodes]
        self._threads += [threading.Thread(target=self._guarded, args=(self._watch_role, node),
                                           name=f"db-role-{node.name}", daemon=True)
                          for node in info.nodes if node.patroni_url]
        self._threads.append(threading.Thread(target=self._flush_every, name="db-watch-flush",
                                              daemon=True))

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop asking (a call in flight is abandoned) and write what is pending; ~1 s."""
        self._stopping.set()
        self._watchdog.close()
        deadline_s = time.monotonic() + _STOP_JOIN_S
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=max(0.0, deadline_s - time.monotonic()))
        self._flush()

    def latest(self) -> dict[str, DbSample]:
        """The freshest sample of each node that has one."""
        with self._lock:
            return dict(self._latest)

    def writable(self) -> list[str]:
        """Nodes whose latest sample is fresh and says they take writes."""
        now_s, latest = time.time(), self.latest()
        return [node.name for node in self.info.nodes
                if (sample := latest.get(node.name)) is not None and sample.writable
                and now_s - sample.t_s <= self.fresh_s]

    def _guarded(self, loop: Any, node: DbNode) -> None:
        while not self._stopping.is_set():
            try:
                loop(node)
                return
            except Exception as exc:  # a bug or a full disk: noted, and the watch goes on
                self._note_failure(f"{node.name}: {describe(exc)}")
                self._stopping.wait(self.interval_s)

    def _watch_node(self, node: DbNode) -> None:
        link = NodeConnection(self.info, node, self._watchdog, timeout_s=self.timeout_s)
        next_s = time.monotonic()
        replication_due_s = next_s
        try:
            while not self._stopping.is_set():
                sample = sample_node(link, self._role(node.name))
                if self._stopping.is_set():
                    return
                self._publish(sample)
                if sample.writable and time.monotonic() >= replication_due_s:
                    replication_due_s = time.monotonic() + self.replication_every_s
                    self._publish_replication(link)
                next_s = max(next_s + self.interval_s, time.monotonic())
                self._stopping.wait(next_s - time.monotonic())
        finally:
            link.close()

    def _publish(self, sample: DbSample) -> None:
        with self._lock:
            self._latest[sample.node] = sample
            self._pending.append(sample)

    def _publish_replication(self, link: NodeConnection) -> None:
        try:
            rows = link.execute(_REPLICATION_QUERY)
        except (psycopg.Error, TimeoutError, OSError):
            return  # the next role probe records the node's trouble
        t_s = time.time()
        samples = [ReplicationSample(
            t_s=t_s, primary=link.node.name, standby=str(name or ""), state=str(state or ""),
            sync_state=str(sync or ""), sent_lsn=_int(sent), write_lsn=_int(write),
            flush_lsn=_int(flush), replay_lsn=_int(replay), primary_lsn=_int(current),
            write_lag_s=_float(write_lag), flush_lag_s=_float(flush_lag),
            replay_lag_s=_float(replay_lag))
            for (name, state, sync, sent, write, flush, replay, current, write_lag, flush_lag,
                 replay_lag) in rows]
        with self._lock:
            self._pending.extend(samples)

    def _watch_role(self, node: DbNode) -> None:
        """Patroni's own name for the member's role, asked apart so a slow REST API never
        delays the role probe."""
        url = f"{(node.patroni_url or '').rstrip('/')}/patroni"
        while not self._stopping.wait(self.interval_s):
            try:
                with urllib.request.urlopen(url, timeout=self.timeout_s) as answer:
                    role = str(json.load(answer).get("role") or "")
            except (OSError, ValueError, AttributeError):
                continue  # a stale role ages out in _role
            with self._lock:
                self._roles[node.name] = (role, time.monotonic())

    def _role(self, name: str) -> str:
        with self._lock:
            role, at_s = self._roles.get(name, ("", 0.0))
        return role if time.monotonic() - at_s <= max(2.0, self.fresh_s) else ""

    def _flush_every(self) -> None:
        while not self._stopping.wait(_FLUSH_S):
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        try:
            self._db_lines.append(s for s in pending if isinstance(s, DbSample))
            self._replication_lines.append(s for s in pending if isinstance(s, ReplicationSample))
        except OSError as exc:
            self._note_failure(f"writing samples: {describe(exc)}")

    def _note_failure(self, message: str) -> None:
        with self._lock:
            if self._failed:
                return
            self._failed = True
        self._events.emit(EventKind.DB_WATCH_FAILED, message=message)
