"""The RPO writer child: ``python -m gameday.load.writer --plan P --run-dir D --name writes``.

Seq ``i`` is due at the ``i``-th time of the plan's schedule, whatever earlier writes did
(open model; latency counts from that time). A pool of ``connections`` threads, each with
its own autocommit connection, takes the due seqs in order: one INSERT each, sent once and
never retried. A write that fails is recorded failed, its connection dropped, and the
thread reconnects through the multi-host dsn (which finds the writable node) before its next
one. A seq that finds no free connection within ``timeout_s`` is recorded as a timeout,
never sent. Exit 0 when the plan ran (to its end or stopped by SIGTERM/SIGINT or the
parent's death), 2 with a one-line message for a bad plan or a database it cannot prepare.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from gameday.dbrecords import WRITE_ENDPOINT
from gameday.dbwatch import SocketWatchdog, describe
from gameday.errors import LoadError
from gameday.load.child import (
    load_start_detail,
    parse_child_args,
    read_plan_text,
    watch_parent,
)
from gameday.load.watch import SelfWatch
from gameday.load.writer import WritePlan
from gameday.records import EVENTS_FILE, EventKind, EventLog, RecordWriter, RequestRecord

__all__ = ["Writer", "main"]

_TICK_S = 0.02  # how promptly a due write that waits for a connection is given up
_CONNECT_RETRY_S = 0.025  # doubled per failed connect, up to
_CONNECT_RETRY_MAX_S = 0.4
_READY_WAIT_S = 10.0  # the database may still be starting when the writer does
_CHUNK = 1 << 16
_Job = tuple[int, float, float]  # seq, scheduled, dispatched (UNIX s)


class _DueWrites:
    """Seqs that are due, oldest first, waiting for a free connection."""

    def __init__(self) -> None:
        self._jobs: collections.deque[_Job] = collections.deque()
        self._ready = threading.Condition()
        self.closed = False

    def put(self, job: _Job) -> None:
        with self._ready:
            self._jobs.append(job)
            self._ready.notify()

    def take(self, timeout_s: float) -> _Job | None:
        with self._ready:
            if not self._jobs and not self.closed:
                self._ready.wait(timeout_s)
            return self._jobs.popleft() if self._jobs else None

    def expire(self, due_before_s: float) -> list[_Job]:
        with self._ready:
            expired = []
            while self._jobs and self._jobs[0][1] < due_before_s:
                expired.append(self._jobs.popleft())
            return expired

    def close(self) -> list[_Job]:
        """No more seqs; those still waiting are returned, not sent."""
        with self._ready:
            self.closed = True
            left, self._jobs = list(self._jobs), collections.deque()
            self._ready.notify_all()
            return left

    def __len__(self) -> int:
        return len(self._jobs)


class Writer:
    """One writer run: prepare the table, pace, write, record, report totals as events."""

    def __init__(self, plan: WritePlan, run_dir: Path, name: str,
                 parent_pid: int | None = None) -> None:
        self.plan = plan
        self.name = name
        self._parent_pid = parent_pid
        self._offsets_s = plan.schedule()
        self._events = EventLog(run_dir / EVENTS_FILE)
        self._records = RecordWriter(run_dir / f"requests-{name}.csv")
        self._watch = SelfWatch(self._offsets_s.size, plan.lag_bound_s)
        self._watchdog = SocketWatchdog()
        self._due = _DueWrites()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._finished = False
        self._table = sql.Identifier(plan.table)
        self._insert = sql.SQL("INSERT INTO {} (seq, payload, sent_at) VALUES (%s, %s, %s)"
                               ).format(self._table)
        self.stop_reason = ""
        self.counts = collections.Counter[str]()  # ok, timeout, connection, sql, gave_up, ...
        self.last_connect_error = ""
        self._cpu_at_start_s = time.process_time()

    def request_stop(self, reason: str) -> None:
        if not self._stopping.is_set():
            self.stop_reason = reason
            self._stopping.set()

    def run(self, early_stops: list[str] | None = None) -> dict[str, Any]:
        """Run the whole plan (or until a stop is asked); return the ``load_end`` totals.
        ``LoadError`` when the table cannot be prepared."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda number, _: self.request_stop(signal.Signals(number).name))
        if early_stops:
            self.request_stop(early_stops[0])
        if self._parent_pid is not None:
            threading.Thread(target=watch_parent, daemon=True, args=(
                self._stopping, self._parent_pid, f"gameday.load.writer {self.name}",
                self.request_stop)).start()
        if not self._prepare():
            return self._finish(time.time())  # stopped before it could start
        workers = self._start_workers()
        t0_s, late_start_s = self._start_time()
        if self._stopping.wait(max(0.0, t0_s - time.time())):
            self._drain(workers)
            return self._finish(t0_s)
        self._emit_start(t0_s, late_start_s)
        self._cpu_at_start_s = time.process_time()
        warmup = threading.Timer(max(0.0, t0_s + self.plan.warmup_s - time.time()),
                                 self._emit, (EventKind.WARMUP_END, t0_s + self.plan.warmup_s))
        warmup.daemon = True
        warmup.start()
        self._dispatch(t0_s)
        self._drain(workers)
        warmup.cancel()
        return self._finish(t0_s)

    def _prepare(self) -> bool:
        """The ledger table, created if missing (False: stopped meanwhile). One that already
        holds writes is refused: the audit could not tell this run's seqs from an earlier's."""
        create = sql.SQL("CREATE TABLE IF NOT EXISTS {} (seq bigint PRIMARY KEY, payload text, "
                         "sent_at double precision, "
                         "written_at timestamptz DEFAULT clock_timestamp())").format(self._table)
        deadline_s = time.monotonic() + _READY_WAIT_S
        while True:
            try:
                with psycopg.connect(self.plan.dsn, autocommit=True) as conn:
                    conn.execute(create)
                    held = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(self._table)
                                        ).fetchone()
                break
            except psycopg.OperationalError as exc:
                if self._stopping.wait(0.2):
                    return False
                if time.monotonic() > deadline_s:
                    raise LoadError(f"cannot reach a writable node: {describe(exc)}") from None
            except psycopg.Error as exc:
                raise LoadError(f"cannot prepare table {self.plan.table}: {describe(exc)}"
                                ) from None
        if held and held[0]:
            raise LoadError(f"table {self.plan.table} already holds {held[0]} writes (an "
                            "earlier run's?); give each run its own table or drop it first")
        return True

    def _start_workers(self) -> list[threading.Thread]:
        """Each opens its connection first; the schedule starts once all tried (≤ 5 s)."""
        tried = [threading.Event() for _ in range(self.plan.connections)]
        workers = [threading.Thread(target=self._work, args=(event,), name=f"writer-{i}",
                                    daemon=True) for i, event in enumerate(tried)]
        for worker in workers:
            worker.start()
        deadline_s = time.monotonic() + 5.0
        for event in tried:
            event.wait(max(0.0, deadline_s - time.monotonic()))
        return workers

    def _start_time(self) -> tuple[float, float]:
        now_s = time.time()
        start_at_s = self.plan.start_at_s
        if start_at_s is None or start_at_s >= now_s:
            return (now_s if start_at_s is None else start_at_s), 0.0
        return now_s, now_s - start_at_s  # ready too late: re-base the schedule to now

    def _dispatch(self, t0_s: float) -> None:
        for first in range(0, self._offsets_s.size, _CHUNK):
            times_s = (self._offsets_s[first:first + _CHUNK] + t0_s).tolist()
            for seq, scheduled_s in enumerate(times_s, start=first):
                while (delay_s := scheduled_s - time.time()) > 0:
                    self._give_up_waiting()
                    if self._stopping.wait(min(delay_s, _TICK_S)):
                        return
                if self._stopping.is_set():
                    return
                dispatched_s = time.time()
                self._due.put((seq, scheduled_s, dispatched_s))
                self._observe(seq, dispatched_s - scheduled_s, dispatched_s)

    def _give_up_waiting(self) -> None:
        for seq, scheduled_s, dispatched_s in self._due.expire(
                time.time() - self.plan.timeout_s):
            self._record(seq, scheduled_s, dispatched_s, time.time(), "", "timeout", "gave_up")

    def _drain(self, workers: list[threading.Thread]) -> None:
        """Seqs still waiting get their chance (or are cancelled on a stop); writes in flight
        end within ``timeout_s`` (the watchdog), so the grace is bounded."""
        deadline_s = time.monotonic() + self.plan.timeout_s + 1.0
        while not self._stopping.is_set() and len(self._due) and time.monotonic() < deadline_s:
            self._give_up_waiting()
            self._stopping.wait(_TICK_S)
        self.counts["cancelled"] += len(self._due.close())
        for worker in workers:
            worker.join(timeout=max(0.0, deadline_s - time.monotonic()))
        with self._lock:
            self.counts["abandoned"] += self._in_flight
            self._finished = True
        self._watchdog.close()

    def _work(self, tried: threading.Event) -> None:
        conn: psycopg.Connection[Any] | None = None
        region = ""
        failures = 0
        while not self._due.closed:
            if conn is None:
                conn, region = self._connect()
                tried.set()
                failures = 0 if conn is not None else failures + 1
                if conn is None:  # backed off and jittered: no connect storm on the standby
                    time.sleep(min(_CONNECT_RETRY_MAX_S, _CONNECT_RETRY_S * 2 ** failures)
                               * random.uniform(0.5, 1.0))
                continue
            job = self._due.take(timeout_s=0.1)
            if job is not None:
                conn = self._write(conn, region, *job)
        if conn is not None:
            conn.close()

    def _connect(self) -> tuple[psycopg.Connection[Any] | None, str]:
        """A connection to whichever node is writable (the dsn's target_session_attrs) and
        that node's region, asked of the server itself."""
        try:
            conn = psycopg.connect(self.plan.dsn, autocommit=True)
        except psycopg.Error as exc:
            with self._lock:
                self.counts["connect_failed"] += 1
                self.last_connect_error = describe(exc)
            return None, ""
        try:
            with self._watchdog.deadline(conn, self.plan.timeout_s):
                (address, port), = conn.execute(
                    "SELECT host(inet_server_addr()), inet_server_port()").fetchall()
        except (psycopg.Error, TimeoutError):
            conn.close()
            return None, ""
        regions = self.plan.regions
        return conn, (regions.get(f"{address}:{port}")
                      or regions.get(f"{conn.info.host}:{conn.info.port}", ""))

    def _write(self, conn: psycopg.Connection[Any], region: str, seq: int,
               scheduled_s: float, dispatched_s: float) -> psycopg.Connection[Any] | None:
        """One INSERT; the connection to go on with (None: reconnect first). The record's
        ``start_s`` is when the seq was dispatched to the pool, as the HTTP pacer's is when a
        request went to its client: waiting for a free connection (all of them busy or
        reconnecting while the primary is down) is the system's latency, not the generator's
        lag."""
        start_s = dispatched_s
        with self._lock:
            self._in_flight += 1
        error: Exception | None = None
        fired = False
        try:
            with self._watchdog.deadline(conn, self.plan.timeout_s) as armed:
                try:
                    conn.execute(self._insert, (seq, f"gameday write {seq}", time.time()))
                finally:
                    fired = armed.fired
        except TimeoutError as exc:  # the watchdog was closed: the run is over
            error, fired = exc, True
        except psycopg.Error as exc:
            error = exc
        end_s = time.time()
        kind = "" if error is None else "timeout" if fired or isinstance(
            error, psycopg.errors.QueryCanceled | psycopg.errors.ConnectionTimeout) \
            else "connection" if isinstance(error, psycopg.OperationalError) else "sql"
        with self._lock:
            self._in_flight -= 1
        self._record(seq, scheduled_s, start_s, end_s, region if error is None else "", kind,
                     kind or "ok")
        if error is None and not fired:
            return conn
        conn.close()
        return None

    def _record(self, seq: int, scheduled_s: float, start_s: float, end_s: float, region: str,
                error_kind: str, count: str) -> None:
        with self._lock:
            if self._finished:  # ended after the grace: counted as abandoned, not recorded
                return
            self.counts[count] += 1
            self._records.write(RequestRecord(
                scheduled_s=scheduled_s, start_s=start_s, end_s=end_s, stack=self.plan.stack,
                endpoint=WRITE_ENDPOINT, region=region, status=0, ok=not error_kind,
                error_kind=error_kind, seq=seq))

    def _observe(self, seq: int, lag_s: float, now_s: float) -> None:
        with self._lock:
            figures = self._watch.observe(seq, lag_s, now_s)
        if figures is not None:
            self._emit(EventKind.GENERATOR_SATURATED, now_s,
                       target_rate_per_s=self.plan.rate_per_s, **figures)
            print(f"gameday.load.writer {self.name}: WARNING writer saturated: "
                  f"{figures['late_in_window']} of {figures['sends_in_window']} writes in the "
                  f"last {figures['window_s']:g} s started more than "
                  f"{self.plan.lag_bound_s * 1e3:g} ms late", file=sys.stderr, flush=True)

    def _emit_start(self, t0_s: float, late_start_s: float) -> None:
        self._emit(EventKind.LOAD_START, t0_s, **load_start_detail(
            f"gameday.load.writer {self.name}", t0_s, late_start_s,
            rate_per_s=self.plan.rate_per_s, arrival=self.plan.arrival,
            sends_scheduled=int(self._offsets_s.size), plan=self.plan.to_dict()))

    def _finish(self, t0_s: float) -> dict[str, Any]:
        self._records.close()
        counts = self.counts
        totals = {**self._watch.summary(), "scheduled": int(self._offsets_s.size),
                  "recorded": self._records.count, "ok": counts["ok"],
                  "failed": counts["timeout"] + counts["connection"] + counts["sql"],
                  "timeout": counts["timeout"], "connection": counts["connection"],
                  "sql": counts["sql"], "gave_up": counts["gave_up"],
                  "cancelled": counts["cancelled"], "abandoned": counts["abandoned"],
                  "connect_failed": counts["connect_failed"],
                  "last_connect_error": self.last_connect_error,
                  "stopped_by": self.stop_reason, "t0_s": t0_s,
                  "cpu_s": time.process_time() - self._cpu_at_start_s}
        totals["sent"] -= counts["gave_up"]  # "sent" = writes that reached a connection
        self._emit(EventKind.LOAD_END, time.time(), **totals)
        return totals

    def _emit(self, kind: str, t_s: float, **detail: Any) -> None:
        self._events.emit(kind, t_s=t_s, generator=self.name, pid=os.getpid(), **detail)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    return parse_child_args(argv, prog="python -m gameday.load.writer",
                            description="Run one numbered-write plan (the RPO ledger).",
                            plan_kind="WritePlan", default_name="writes")


def _load(args: argparse.Namespace) -> WritePlan:
    text = read_plan_text(args)
    return WritePlan.from_json(text, source=str(args.plan))


def main(argv: list[str] | None = None) -> int:
    noted: list[str] = []  # a stop that comes before the writer handles signals itself
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, _: noted.append(signal.Signals(number).name))
    args = _parse(argv)
    try:
        totals = Writer(_load(args), args.run_dir, args.name, args.parent_pid).run(noted)
    except LoadError as exc:
        print(f"gameday.load.writer: error: {exc}", file=sys.stderr)
        return 2
    print(f"gameday.load.writer {args.name}: sent {totals['sent']}, ok {totals['ok']}, "
          f"failed {totals['failed']} (timeout {totals['timeout']}, connection "
          f"{totals['connection']}, sql {totals['sql']}), gave up {totals['gave_up']}, "
          f"late {totals['late']}, stopped by {totals['stopped_by'] or 'end of plan'}",
          file=sys.stderr)
    return 0
