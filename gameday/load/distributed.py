"""One generator in several processes, on Locust's own master/worker runners: ``Master`` splits
the schedule and watches its workers, ``Worker`` paces its share (``workers`` says what they
say to each other).

Runs only inside ``python -m gameday.load.master`` / ``gameday.load.worker`` (imports Locust,
which monkey-patches the interpreter with gevent). Locust's runners carry the messages and
the heartbeats; the requests go out through each worker's own ``Pacer``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import gevent
from gevent.event import AsyncResult, Event
from locust.env import Environment
from locust.rpc import Message
from locust.runners import STATE_MISSING

from gameday.errors import LoadError
from gameday.load.child import load_start_detail, watch_parent
from gameday.load.pacer import Pacer
from gameday.load.plan import LoadPlan, Share, schedule, steps_detail
from gameday.load.workers import (
    DONE,
    READY,
    REFUSED,
    SHARE,
    STOP,
    Assignment,
    merge_totals,
)
from gameday.records import EVENTS_FILE, EventKind, EventLog

__all__ = ["Master", "Worker"]

_CONNECT_S = 60.0  # for every worker to join
_HANDOFF_S = 1.0  # from the assignments to t0: each worker builds its pacer in between
_POLL_S = 0.25
_REPORT_GRACE_S = 5.0  # after the last send's answer could have come, for the workers' totals
_MASTER_SILENT_S = 10.0  # a worker stops when its master's heartbeats stop this long


class Master:
    """The generator's master: starts ``local_workers`` of ``plan.workers`` on this host (the
    rest join from elsewhere), gives each its share, logs the generator's ``load_start``,
    ``warmup_end`` and ``load_end`` (the workers' totals, and any worker lost)."""

    def __init__(self, plan: LoadPlan, run_dir: Path, name: str, parent_pid: int | None, *,
                 bind_host: str = "127.0.0.1", port: int = 0,
                 local_workers: int | None = None) -> None:
        self.plan, self.run_dir, self.name = plan, run_dir, name
        self._parent_pid = parent_pid
        self._local_workers = plan.workers if local_workers is None else local_workers
        self._events = EventLog(run_dir / EVENTS_FILE)
        self._environment = Environment()
        self._runner = self._environment.create_master_runner(master_bind_host=bind_host,
                                                              master_bind_port=port)
        self.host, self.port = bind_host, int(self._runner.server.port)
        self._clients: list[str] = []  # worker i is the i-th that said it was ready
        self._done: dict[int, dict[str, Any]] = {}
        self._lost: dict[int, str] = {}
        self._processes: list[subprocess.Popen[bytes]] = []
        self._stopping = Event()
        self.stop_reason = ""
        self._runner.register_message(READY, self._on_ready)
        self._runner.register_message(DONE, self._on_done)

    def request_stop(self, reason: str) -> None:
        if not self._stopping.is_set():
            self.stop_reason = reason
            self._stopping.set()

    def run(self, early_stops: list[str]) -> tuple[int, dict[str, Any] | None]:
        """The exit code (0 ran or stopped, 1 a worker was lost, 2 the workers never all
        joined) and the ``load_end`` totals (None when the load never started)."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            gevent.signal_handler(signum, self.request_stop, signal.Signals(signum).name)
        if early_stops:
            self.request_stop(early_stops[0])
        if self._parent_pid is not None:
            gevent.spawn(watch_parent, self._stopping, self._parent_pid, self._who,
                         self.request_stop)
        grace_s = 2.0  # for workers that never got to send
        try:
            self._start_local_workers()
            if not self._wait_for_workers():  # stopped first: ends as a pacer stopped early
                return self._finish(time.time())
            grace_s = self.plan.timeout_s + _REPORT_GRACE_S
            return self._run_load()
        except LoadError as exc:
            print(f"{self._who}: error: {exc}", file=sys.stderr, flush=True)
            return 2, None
        finally:
            self._leave(grace_s)

    @property
    def _who(self) -> str:
        return f"gameday.load.master {self.name}"

    def _start_local_workers(self) -> None:
        # the master's own address, checked when it was bound (loopback, or --allow-remote);
        # bound to every address, its local workers join on loopback
        everywhere = self.host in ("*", "0.0.0.0", "::")
        host = "127.0.0.1" if everywhere else self.host
        command = [sys.executable, "-m", "gameday.load.worker", "--master-host", host,
                   "--master-port", str(self.port), "--run-dir", str(self.run_dir),
                   "--parent-pid", str(os.getpid()), "--allow-remote"]
        for _ in range(self._local_workers):  # stdout and stderr: the generator's own log
            self._processes.append(subprocess.Popen(command, stdin=subprocess.DEVNULL))

    def _wait_for_workers(self) -> bool:
        """True once every worker joined; False when a stop came first."""
        deadline_s = time.monotonic() + _CONNECT_S
        while len(self._clients) < self.plan.workers:
            exited = [p.returncode for p in self._processes if p.poll() is not None]
            if exited:
                raise LoadError(f"a local worker exited with code {exited[0]} before it joined")
            if self._stopping.is_set():
                return False
            if time.monotonic() > deadline_s:
                raise LoadError(f"{len(self._clients)} of {self.plan.workers} workers joined "
                                f"within {_CONNECT_S:g} s")
            gevent.sleep(_POLL_S / 5)
        return True

    def _on_ready(self, environment: Environment, msg: Message, **_: Any) -> None:
        if msg.node_id in self._clients:
            return
        if len(self._clients) >= self.plan.workers:
            self._runner.send_message(REFUSED, {"workers": self.plan.workers},
                                      client_id=msg.node_id)
            return
        self._clients.append(msg.node_id)
        print(f"{self._who}: worker {len(self._clients) - 1} joined: {msg.data}",
              file=sys.stderr, flush=True)

    def _on_done(self, environment: Environment, msg: Message, **_: Any) -> None:
        if msg.node_id in self._clients:
            self._done[self._clients.index(msg.node_id)] = dict(msg.data)

    def _run_load(self) -> tuple[int, dict[str, Any]]:
        t0_s, late_start_s = self._start_time()
        offsets_s = schedule(self.plan)
        for worker, client_id in enumerate(self._clients):
            share = Share.of_worker(offsets_s, worker, self.plan.workers)
            plan = replace(self.plan, concurrency=self._concurrency_of(worker))
            self._runner.send_message(SHARE, Assignment(plan, self.name, share,
                                                        t0_s).to_message(),
                                      client_id=client_id)
        warmup = None
        if not self._stopping.wait(max(0.0, t0_s - time.time())):
            self._emit(EventKind.LOAD_START, t0_s, **load_start_detail(
                self._who, t0_s, late_start_s, rate_per_s=self.plan.rate_per_s,
                arrival=self.plan.arrival, sends_scheduled=int(offsets_s.size),
                plan=self.plan.to_dict()), steps=steps_detail(self.plan, t0_s),
                workers=self.plan.workers)
            warmup = gevent.spawn_later(max(0.0, t0_s + self.plan.warmup_s - time.time()),
                                        self._emit, EventKind.WARMUP_END,
                                        t0_s + self.plan.warmup_s)
        self._watch_workers(t0_s)
        if warmup is not None:
            warmup.kill(block=False)
        return self._finish(t0_s)

    def _concurrency_of(self, worker: int) -> int:
        """The plan's connections split over the workers: the generator's bound, as one."""
        quotient, remainder = divmod(self.plan.concurrency, self.plan.workers)
        return max(1, quotient + (worker < remainder))

    def _start_time(self) -> tuple[float, float]:
        """Every worker paces from one t0: the plan's start, unless the workers joined too
        late for it (then re-based to a moment they can all still make)."""
        earliest_s = time.time() + _HANDOFF_S
        start_at_s = self.plan.start_at_s
        if start_at_s is None or start_at_s >= earliest_s:
            return (earliest_s if start_at_s is None else start_at_s), 0.0
        return earliest_s, earliest_s - start_at_s

    def _watch_workers(self, t0_s: float) -> None:
        """Until every worker reported or was lost; a lost worker stops the others."""
        deadline_s = t0_s + self.plan.total_s + 2 * self.plan.timeout_s + _REPORT_GRACE_S
        stop_sent = False
        while len(self._done) + len(self._lost) < len(self._clients):
            for worker, why in self._missing():
                self._lose(worker, why)
            if self._lost:
                self.request_stop(f"worker {min(self._lost)} lost")
            if self._stopping.is_set() and not stop_sent:
                stop_sent = True
                deadline_s = min(deadline_s, time.time() + self.plan.timeout_s
                                 + _REPORT_GRACE_S)
                for client_id in self._pending_clients():
                    self._runner.send_message(STOP, {"reason": self.stop_reason},
                                              client_id=client_id)
            if time.time() > deadline_s:
                for worker in self._pending():
                    self._lose(worker, "sent no totals by the end of its schedule")
            gevent.sleep(_POLL_S)

    def _missing(self) -> list[tuple[int, str]]:
        """Workers Locust's heartbeats lost (state ``missing``), or that left unannounced."""
        found = []
        for worker in self._pending():
            node = self._runner.clients.get(self._clients[worker])
            if node is None:
                found.append((worker, "left without sending its totals"))
            elif node.state == STATE_MISSING:
                found.append((worker, "stopped answering Locust's heartbeats (state missing)"))
        return found

    def _pending(self) -> list[int]:
        return [worker for worker in range(len(self._clients))
                if worker not in self._done and worker not in self._lost]

    def _pending_clients(self) -> list[str]:
        return [self._clients[worker] for worker in self._pending()]

    def _lose(self, worker: int, why: str) -> None:
        self._lost[worker] = why
        print(f"{self._who}: worker {worker} lost: {why}", file=sys.stderr, flush=True)

    def _finish(self, t0_s: float) -> tuple[int, dict[str, Any]]:
        per_worker = [self._done[worker] for worker in sorted(self._done)]
        problems = [f"worker {worker}: {why}" for worker, why in sorted(self._lost.items())]
        totals = {**merge_totals(per_worker), "workers": self.plan.workers,
                  "workers_lost": sorted(self._lost), "worker_problems": problems,
                  "stopped_by": self.stop_reason, "t0_s": t0_s,
                  "master_cpu_s": time.process_time()}
        self._emit(EventKind.LOAD_END, time.time(), **totals)
        return (1 if self._lost else 0), totals

    def _leave(self, grace_s: float) -> None:
        """Stop the workers still at it, tell all to quit (Locust's ``quit``), then reap the
        local ones (killed after ``grace_s``)."""
        for client_id in self._pending_clients():
            self._runner.send_message(STOP, {"reason": self.stop_reason or "master ended"},
                                      client_id=client_id)
        self._runner.quit()
        deadline_s = time.monotonic() + grace_s
        for process in self._processes:
            try:
                process.wait(timeout=max(0.0, deadline_s - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _emit(self, kind: str, t_s: float, **detail: Any) -> None:
        self._events.emit(kind, t_s=t_s, generator=self.name, pid=os.getpid(), **detail)


class Worker:
    """One worker: joins the master, paces the share it is given, reports its totals."""

    def __init__(self, master_host: str, master_port: int, run_dir: Path,
                 parent_pid: int | None) -> None:
        self.run_dir = run_dir
        self._parent_pid = parent_pid
        self._environment = Environment()
        # blocks until the master acknowledged us (Locust retries for a few minutes)
        self._runner = self._environment.create_worker_runner(master_host, master_port)
        self._assignment: AsyncResult[Assignment | None] = AsyncResult()
        self._stops: list[str] = []
        self._pacer: Pacer | None = None
        self._runner.register_message(SHARE, self._on_share)
        self._runner.register_message(STOP, self._on_stop)
        self._runner.register_message(REFUSED, lambda **_: self._assignment.set(None))

    def run(self, early_stops: list[str]) -> int:
        """0 when its share ran (or was stopped, even before it came), 2 when it got none."""
        self._stops.extend(early_stops)
        for signum in (signal.SIGTERM, signal.SIGINT):
            gevent.signal_handler(signum, self._stop, signal.Signals(signum).name)
        self._runner.send_message(READY, {"pid": os.getpid(), "host": socket.gethostname()})
        try:
            assignment = self._wait_for_assignment()
            if assignment is None:
                return 0 if self._stops else 2
            self._pacer = Pacer(assignment.plan, self.run_dir, assignment.name,
                                self._parent_pid, share=assignment.share, t0_s=assignment.t0_s)
            silence = gevent.spawn(self._watch_master)
            totals = self._pacer.run(self._stops)
            silence.kill(block=False)
            self._runner.send_message(DONE, {"worker": assignment.share.worker, **totals})
            return 0
        finally:
            self._leave()

    def _wait_for_assignment(self) -> Assignment | None:
        """The share the master sent (even when a stop came right after it), else None."""
        deadline_s = time.monotonic() + 2 * _CONNECT_S
        while not self._assignment.ready():
            if self._parent_pid is not None and os.getppid() != self._parent_pid:
                self._stop("parent died")
            if self._stops or time.monotonic() > deadline_s:
                print(f"gameday.load.worker: no share from the master "
                      f"({self._stops[0] if self._stops else 'timed out'})", file=sys.stderr)
                return None
            self._assignment.wait(timeout=_POLL_S)
        assignment: Assignment | None = self._assignment.get()
        return assignment

    def _on_share(self, environment: Environment, msg: Message, **_: Any) -> None:
        try:
            self._assignment.set(Assignment.from_message(msg.data))
        except LoadError as exc:
            print(f"gameday.load.worker: error: {exc}", file=sys.stderr, flush=True)
            self._assignment.set(None)

    def _on_stop(self, environment: Environment, msg: Message, **_: Any) -> None:
        reason = msg.data.get("reason") if isinstance(msg.data, dict) else None
        self._stop(str(reason or "the master"))

    def _stop(self, reason: str) -> None:
        self._stops.append(reason)
        if self._pacer is not None:
            self._pacer.request_stop(reason)

    def _watch_master(self) -> None:
        """A worker whose master went silent (its host died) stops instead of pacing alone."""
        while True:
            gevent.sleep(1.0)
            heard_s = self._runner.last_heartbeat_timestamp
            if heard_s is not None and time.time() - heard_s > _MASTER_SILENT_S:
                self._stop("master silent")
                return

    def _leave(self) -> None:
        quitting: Callable[..., None] = self._environment.events.quitting.fire
        quitting(environment=self._environment, reverse=True)  # Locust's "quit" to the master
        self._runner.quit()
        self._runner.client.close(linger=1000)  # type: ignore[no-untyped-call]  # flush, go
