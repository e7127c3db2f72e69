"""The open-model pacer: sends every request at its scheduled time, whatever the answers do.

Runs only inside the generator child (``python -m gameday.load``): importing this module
imports Locust, which monkey-patches the interpreter with gevent. One ``FastHttpUser`` owns
the connection pool (``concurrency`` connections); the pacer sleeps until each scheduled time
and spawns a greenlet per request, so a slow answer never delays the next send. A send that
finds all ``concurrency`` connections busy waits, and starts late; lateness is counted.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event
from gevent.lock import BoundedSemaphore
from gevent.pool import Group
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment

from gameday.load.answers import ask_streamed
from gameday.load.child import load_start_detail, watch_parent
from gameday.load.payloads import endpoint_for, make_bodies
from gameday.load.plan import LoadPlan, join_url, schedule
from gameday.load.rag_workload import RagRequest, RagWorkload
from gameday.load.recorder import RequestRecorder
from gameday.load.watch import SelfWatch
from gameday.records import EVENTS_FILE, EventKind, EventLog, RecordWriter, RequestRecord

__all__ = ["Pacer", "PacerUser"]

_TICK_S = 0.0005  # the pacer wakes at most every 0.5 ms; sends due in between go together
_LONG_SLEEP_S = 0.05  # longer sleeps wake up at once for a stop
_CHUNK = 1 << 16


class PacerUser(FastHttpUser):
    """The Locust user whose HTTP client the pacer sends through (settings from the plan)."""

    abstract = True

    @classmethod
    def for_plan(cls, plan: LoadPlan, environment: Environment) -> PacerUser:
        # FastHttpUser reads its client settings from class attributes at construction.
        settings = {"host": plan.base_url, "concurrency": plan.concurrency, "max_retries": 0,
                    "network_timeout": plan.timeout_s, "connection_timeout": plan.timeout_s}
        user_class = type("PlanUser", (cls,), {"abstract": True, **settings})
        user: PacerUser = user_class(environment)
        return user


class Pacer:
    """One generator run: schedule, send, record, watch itself, report totals as events."""

    def __init__(self, plan: LoadPlan, run_dir: Path, name: str,
                 parent_pid: int | None = None) -> None:
        self.plan = plan
        self.name = name
        self._parent_pid = parent_pid
        self._endpoint = endpoint = endpoint_for(plan.stack, plan.endpoint)
        self._method, self._url = endpoint.method, join_url(plan.base_url, endpoint.path)
        self._headers = {"Content-Type": endpoint.content_type}
        self._offsets_s = schedule(plan)
        self._t0_s = 0.0
        self._bodies: list[bytes] = []
        self._workload: RagWorkload | None = None
        if endpoint.make_body is None:  # one body per request, made when it is due
            self._workload = RagWorkload(plan.endpoint, run_key=plan.run_key,
                                         documents=plan.documents, k=plan.k, seed=plan.seed,
                                         follow_rate_per_s=plan.follow_rate_per_s,
                                         follow_lag_s=plan.follow_lag_s)
        else:
            self._bodies = make_bodies(endpoint, self._offsets_s.size, plan.seed)
        self._events = EventLog(run_dir / EVENTS_FILE)
        self._recorder = RequestRecorder(RecordWriter(run_dir / f"requests-{name}.csv"))
        self._watch = SelfWatch(self._offsets_s.size, plan.lag_bound_s)
        environment = Environment()
        environment.events.request.add_listener(  # type: ignore[no-untyped-call]
            self._recorder.on_request)
        self._client = PacerUser.for_plan(plan, environment).client
        # Open-model arrivals are independent users: no cookie jar shared between them (it
        # would make one edge cookie stick to every request), and it costs tens of us a request.
        self._client.client.cookiejar = None
        self._slots = BoundedSemaphore(plan.concurrency)
        self._in_flight = Group()
        self._stopping = Event()
        self.stop_reason = ""
        self.gave_up = 0  # waited longer than timeout_s for a free connection
        self.cancelled = 0  # due but not sent because a stop was asked
        self.abandoned = 0  # still in flight when the drain grace ran out
        self._cpu_at_start_s = time.process_time()

    def request_stop(self, reason: str) -> None:
        if not self._stopping.is_set():
            self.stop_reason = reason
            self._stopping.set()

    def run(self, early_stops: list[str] | None = None) -> dict[str, Any]:
        """Run the whole plan (or until a stop is asked); return the ``load_end`` totals.

        ``early_stops``: signals noted by the CLI before this could handle them.
        """
        for signum in (signal.SIGTERM, signal.SIGINT):
            gevent.signal_handler(signum, self.request_stop, signal.Signals(signum).name)
        if early_stops:
            self.request_stop(early_stops[0])
        if self._parent_pid is not None:
            gevent.spawn(watch_parent, self._stopping, self._parent_pid,
                         f"gameday.load {self.name}", self.request_stop)
        t0_s, late_start_s = self._start_time()
        self._t0_s = t0_s
        if self._stopping.wait(max(0.0, t0_s - time.time())):
            return self._finish(t0_s)
        self._emit_start(t0_s, late_start_s)
        self._cpu_at_start_s = time.process_time()
        warmup = gevent.spawn_later(max(0.0, t0_s + self.plan.warmup_s - time.time()),
                                    self._emit, EventKind.WARMUP_END, t0_s + self.plan.warmup_s)
        self._pace(t0_s)
        self._drain()
        warmup.kill(block=False)
        return self._finish(t0_s)

    def _start_time(self) -> tuple[float, float]:
        now_s = time.time()
        start_at_s = self.plan.start_at_s
        if start_at_s is None or start_at_s >= now_s:
            return (now_s if start_at_s is None else start_at_s), 0.0
        return now_s, now_s - start_at_s  # ready too late: re-base the schedule to now

    def _pace(self, t0_s: float) -> None:
        for first in range(0, self._offsets_s.size, _CHUNK):  # no 5-million-float list at once
            chunk = (self._offsets_s[first:first + _CHUNK] + t0_s).tolist()
            if not self._pace_chunk(first, chunk):
                return

    def _pace_chunk(self, first: int, times_s: list[float]) -> bool:
        spawn, send, stopping = self._in_flight.spawn, self._send, self._stopping
        woke_s = 0.0
        for index, scheduled_s in enumerate(times_s, start=first):
            # Coalesce wake-ups: each costs a loop iteration (~30 us); a send at most
            # _TICK_S late is honest (its lag is recorded) and far under lag_bound_s.
            delay_s = max(scheduled_s, woke_s + _TICK_S) - time.time()
            if delay_s > _LONG_SLEEP_S:
                if stopping.wait(delay_s):
                    return False
                woke_s = time.time()
            elif delay_s > 0 and time.time() < scheduled_s:
                gevent.sleep(delay_s)
                woke_s = time.time()
            if stopping.is_set():
                return False
            spawn(send, index, scheduled_s)
        return True

    def _send(self, index: int, scheduled_s: float) -> None:
        request = None if self._workload is None else \
            self._workload.request(index, scheduled_s - self._t0_s)
        if not self._slots.acquire(timeout=self.plan.timeout_s):
            self._give_up(index, scheduled_s, None if request is None else request.seq)
            return
        try:
            if self._stopping.is_set():
                self.cancelled += 1
                return
            now_s = time.time()
            self._observe(index, now_s - scheduled_s, now_s)
            context: dict[str, Any] = {"stack": self.plan.stack, "endpoint": self.plan.endpoint,
                                       "scheduled_s": scheduled_s}
            if request is not None:
                self._send_rag(request, context)
                return
            body = self._bodies[index % len(self._bodies)]
            # bytes are sent as they are (Locust's hint says str); no encoding on the hot path
            self._client.request(self._method, self._url, data=body,  # type: ignore[arg-type]
                                 headers=self._headers, context=context)
        finally:
            self._slots.release()

    def _send_rag(self, request: RagRequest, context: dict[str, Any]) -> None:
        if request.seq is not None:
            context["seq"] = request.seq
        if self._endpoint.streaming:
            ask_streamed(self._client, self._url, request.body, self._headers, context,
                         request.question, self.plan.k)
        else:
            self._client.request(self._method, self._url,
                                 data=request.body,  # type: ignore[arg-type]
                                 headers=self._headers, context=context)

    def _give_up(self, index: int, scheduled_s: float, seq: int | None) -> None:
        """No connection came free within timeout_s: to a user this is a timeout."""
        if self._stopping.is_set():
            self.cancelled += 1
            return
        now_s = time.time()
        self.gave_up += 1
        self._observe(index, now_s - scheduled_s, now_s)
        self._recorder.write(RequestRecord(
            scheduled_s=scheduled_s, start_s=now_s, end_s=now_s, stack=self.plan.stack,
            endpoint=self.plan.endpoint, region="", status=0, ok=False, error_kind="timeout",
            seq=seq))

    def _observe(self, index: int, lag_s: float, now_s: float) -> None:
        figures = self._watch.observe(index, lag_s, now_s)
        if figures is not None:
            self._emit(EventKind.GENERATOR_SATURATED, now_s, target_rate_per_s=self.plan.rate_per_s,
                       **figures)
            print(f"gameday.load {self.name}: WARNING generator saturated: "
                  f"{figures['late_in_window']} of {figures['sends_in_window']} sends in the last "
                  f"{figures['window_s']:g} s started more than {self.plan.lag_bound_s * 1e3:g} ms "
                  "late; figures from now on measure the generator too", file=sys.stderr,
                  flush=True)

    def _drain(self) -> None:
        # A queued send may wait timeout_s for a connection, then timeout_s for its answer.
        grace_s = self.plan.timeout_s + (0.5 if self._stopping.is_set() else
                                         self.plan.timeout_s + 1.0)
        self._in_flight.join(timeout=grace_s)
        self.abandoned = len(self._in_flight)
        if self.abandoned:
            self._in_flight.kill(block=True, timeout=1.0)

    def _emit_start(self, t0_s: float, late_start_s: float) -> None:
        self._emit(EventKind.LOAD_START, t0_s, **load_start_detail(
            f"gameday.load {self.name}", t0_s, late_start_s, rate_per_s=self.plan.rate_per_s,
            arrival=self.plan.arrival, sends_scheduled=int(self._offsets_s.size),
            plan=self.plan.to_dict()))

    def _finish(self, t0_s: float) -> dict[str, Any]:
        self._recorder.close()
        totals = {**self._watch.summary(), "scheduled": int(self._offsets_s.size),
                  "recorded": self._recorder.recorded, "ok": self._recorder.ok,
                  "gave_up": self.gave_up, "cancelled": self.cancelled,
                  "abandoned": self.abandoned, "stopped_by": self.stop_reason, "t0_s": t0_s,
                  "cpu_s": time.process_time() - self._cpu_at_start_s}
        totals["sent"] -= self.gave_up  # "sent" = requests that reached the wire
        self._emit(EventKind.LOAD_END, time.time(), **totals)
        return totals

    def _emit(self, kind: str, t_s: float, **detail: Any) -> None:
        self._events.emit(kind, t_s=t_s, generator=self.name, pid=os.getpid(), **detail)
