"""The open-model pacer: sends every request at its scheduled time, whatever the answers do.

Runs only inside a generator process (``python -m gameday.load`` or a worker of
``gameday.load.master``): importing this module imports Locust, which monkey-patches the
interpreter with gevent. ``concurrency`` long-lived sender greenlets take due sends from a
queue (a greenlet spawned per send cost ~15 % more CPU), each over one of ``concurrency``
kept-alive connections (``transport.PlainTransport``; a streamed answer through the
``FastHttpUser`` session), so a slow answer never delays the next send. A send that finds
every sender busy waits in the queue and starts late; lateness is counted, and a send that
waited longer than ``timeout_s`` is given up (a timeout, to a user).

The labelled set (endpoint ``attack``, ``gameday.load.attacks``) goes through the same plain
transport, request i being item i mod n of the seeded mix, with its own method, request
target (built once, before the run) and headers (``X-Gameday-Label``).
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event
from gevent.pool import Group
from gevent.queue import Queue
from locust.contrib.fasthttp import FastHttpSession, FastHttpUser
from locust.env import Environment

from gameday.load.answers import ask_streamed
from gameday.load.attacks import labelled_mix
from gameday.load.child import load_start_detail, watch_parent
from gameday.load.labelled import LABELLED_CONTEXT_KEY, ReadySend, ready_to_send
from gameday.load.payloads import endpoint_for, make_bodies
from gameday.load.plan import LoadPlan, Share, join_url, steps_detail
from gameday.load.rag_workload import RagRequest, RagWorkload
from gameday.load.recorder import RequestRecorder
from gameday.load.transport import PlainTransport
from gameday.load.watch import SelfWatch
from gameday.records import EVENTS_FILE, EventKind, EventLog, RecordWriter, RequestRecord

__all__ = ["Pacer", "PacerUser", "requests_file_name"]

# The pacer wakes at most every 1 ms and sends all that is due together: a wake-up costs
# 50-70 us of CPU here (measured: a bare gevent.sleep(0.001) loop), so they are bounded to
# 1,000 a second whatever the rate; a send at most 1 ms late is honest (its lag is recorded)
# and far under lag_bound_s. (0.5, 1, 2, 5 and 10 ms gave the same CPU per request at 2.5k
# req/s within this machine's noise; 1 ms keeps lag p99 near 1 ms.)
_TICK_S = 0.001
_LONG_SLEEP_S = 0.05  # longer sleeps wake up at once for a stop
_CHUNK = 1 << 16


def requests_file_name(name: str, worker: int | None = None) -> str:
    """``requests-<name>.csv``; a worker of a generator writes ``requests-<name>.w<i>.csv``."""
    return f"requests-{name}.csv" if worker is None else f"requests-{name}.w{worker}.csv"


class PacerUser(FastHttpUser):
    """The Locust user whose HTTP session reads streamed answers (settings from the plan)."""

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
    """One generator run: schedule, send, record, watch itself, report totals as events.

    ``share``: the sends of the schedule this process makes (all of them unless it is one
    worker of several); ``t0_s``: the start the master decided (else the plan's own).
    """

    def __init__(self, plan: LoadPlan, run_dir: Path, name: str,
                 parent_pid: int | None = None, *, share: Share | None = None,
                 t0_s: float | None = None) -> None:
        self.plan = plan
        self.name = name
        self._parent_pid = parent_pid
        self._share = share = Share.whole(plan) if share is None else share
        self._given_t0_s = t0_s
        self._endpoint = endpoint = endpoint_for(plan.stack, plan.endpoint)
        self._method, self._url = endpoint.method, join_url(plan.base_url, endpoint.path)
        self._headers = {"Content-Type": endpoint.content_type}
        self._offsets_s = share.offsets_s
        self._t0_s = 0.0
        self._bodies: list[bytes] = []
        self._workload: RagWorkload | None = None
        self._labelled: list[ReadySend] | None = None
        if endpoint.labelled:
            self._labelled = ready_to_send(labelled_mix(
                plan.stack, seed=plan.seed, documents=plan.documents, k=plan.k,
                count=plan.distinct_bodies), plan.base_url)
        elif endpoint.make_body is None:  # one body per request, made when it is due
            self._workload = RagWorkload(plan.endpoint, run_key=plan.run_key,
                                         documents=plan.documents, k=plan.k, seed=plan.seed,
                                         follow_rate_per_s=plan.follow_rate_per_s,
                                         follow_lag_s=plan.follow_lag_s)
        else:  # as one process: the pool of the whole schedule (or the one the plan sizes)
            self._bodies = make_bodies(endpoint, plan.distinct_bodies or share.total, plan.seed)
        self._events = EventLog(run_dir / EVENTS_FILE)
        self._recorder = RequestRecorder(RecordWriter(
            run_dir / requests_file_name(name, share.worker)))
        self._watch = SelfWatch(share.size, plan.lag_bound_s)
        environment = Environment()
        environment.events.request.add_listener(  # type: ignore[no-untyped-call]
            self._recorder.on_request)
        self._streamed: FastHttpSession | None = None
        self._plain: PlainTransport | None = None
        if endpoint.streaming:  # read token by token through Locust's session
            self._streamed = PacerUser.for_plan(plan, environment).client
            # Open-model arrivals are independent users: no cookie jar shared between them (it
            # would make one edge cookie stick to every request), and it costs tens of us a
            # request.
            self._streamed.client.cookiejar = None
        else:
            self._plain = PlainTransport(self._url, self._method, self._headers,
                                         concurrency=plan.concurrency, timeout_s=plan.timeout_s,
                                         on_request=environment.events.request.fire)
        self._due: Queue[tuple[int, float] | None] = Queue()
        self._senders = Group()
        self._busy = 0  # senders between taking a send and its answer
        self._stopping = Event()
        self.stop_reason = ""
        self.gave_up = 0  # waited longer than timeout_s for a free sender
        self.cancelled = 0  # due but not sent because a stop was asked
        self.abandoned = 0  # still queued or in flight when the drain grace ran out
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
        warmup = None
        if self._share.worker is None:  # a worker's master marks the warm-up's end
            warmup = gevent.spawn_later(max(0.0, t0_s + self.plan.warmup_s - time.time()),
                                        self._emit, EventKind.WARMUP_END,
                                        t0_s + self.plan.warmup_s)
        for _ in range(self.plan.concurrency):
            self._senders.spawn(self._sender)
        # Everything built so far lives as long as the run: out of the collector's full passes
        # (one walking it all took 23-35 ms at 4k req/s, a pause every send behind it waits
        # for; once frozen, 1-2 ms).
        gc.freeze()
        self._pace(t0_s)
        self._drain()
        if warmup is not None:
            warmup.kill(block=False)
        return self._finish(t0_s)

    def _start_time(self) -> tuple[float, float]:
        now_s = time.time()
        start_at_s = self.plan.start_at_s if self._given_t0_s is None else self._given_t0_s
        if start_at_s is None or start_at_s >= now_s:
            return (now_s if start_at_s is None else start_at_s), 0.0
        return now_s, now_s - start_at_s  # ready too late: re-base the schedule to now

    def _pace(self, t0_s: float) -> None:
        for first in range(0, self._offsets_s.size, _CHUNK):  # no 5-million-float list at once
            chunk = (self._offsets_s[first:first + _CHUNK] + t0_s).tolist()
            if not self._pace_chunk(first, chunk):
                return

    def _pace_chunk(self, first: int, times_s: list[float]) -> bool:
        put, stopping, clock = self._due.put, self._stopping, time.time
        count, done = len(times_s), 0
        while done < count:
            woke_s = clock()
            while done < count and times_s[done] <= woke_s:  # all that is due goes together
                put((first + done, times_s[done]))
                done += 1
            if done == count:
                return True
            # Coalesce wake-ups (_TICK_S); behind schedule, still yield to the senders.
            delay_s = max(times_s[done], woke_s + _TICK_S) - clock()
            if delay_s > _LONG_SLEEP_S:
                if stopping.wait(delay_s):
                    return False
            else:
                gevent.sleep(max(0.0, delay_s))
            if stopping.is_set():
                return False
        return True

    def _sender(self) -> None:
        """One of ``concurrency`` long-lived senders: a send at a time, until told to end."""
        take, send = self._due.get, self._send
        while (due := take()) is not None:
            self._busy += 1
            try:
                send(*due)
            except Exception:  # a bug in one send must not shrink the pool silently
                traceback.print_exc()
            finally:
                self._busy -= 1

    def _send(self, local: int, scheduled_s: float) -> None:
        index = self._share.first + self._share.stride * local  # in the whole schedule
        request = None
        if self._workload is not None:  # distinct_bodies: request i asks what i mod n asked
            pooled = index if self.plan.distinct_bodies is None else \
                index % self.plan.distinct_bodies
            request = self._workload.request(pooled, scheduled_s - self._t0_s)
        now_s = time.time()
        if self._stopping.is_set():
            self.cancelled += 1
            return
        if now_s - scheduled_s > self.plan.timeout_s:
            self._give_up(local, scheduled_s, now_s, None if request is None else request.seq,
                          index)
            return
        self._observe(local, now_s - scheduled_s, now_s)
        context: dict[str, Any] = {"stack": self.plan.stack, "endpoint": self.plan.endpoint,
                                   "scheduled_s": scheduled_s}
        if request is not None:
            self._send_rag(request, context)
        elif self._labelled is not None:
            self._send_labelled(self._labelled[index % len(self._labelled)], context)
        elif self._plain is not None:
            self._plain.send(self._bodies[index % len(self._bodies)], context)

    def _send_labelled(self, send: ReadySend, context: dict[str, Any]) -> None:
        request, request_uri, headers = send
        context[LABELLED_CONTEXT_KEY] = request
        if self._plain is not None:
            self._plain.send_to(request.method, request_uri, headers, request.body, context)

    def _send_rag(self, request: RagRequest, context: dict[str, Any]) -> None:
        if request.seq is not None:
            context["seq"] = request.seq
        if self._streamed is not None:
            ask_streamed(self._streamed, self._url, request.body, self._headers, context,
                         request.question, self.plan.k)
        elif self._plain is not None:
            self._plain.send(request.body, context)

    def _give_up(self, local: int, scheduled_s: float, now_s: float, seq: int | None,
                 index: int) -> None:
        """No sender came free within timeout_s: to a user this is a timeout, at
        scheduled + timeout_s (when the user's own timeout would have fired)."""
        gave_up_s = scheduled_s + self.plan.timeout_s
        self.gave_up += 1
        self._observe(local, now_s - scheduled_s, now_s)
        label = "" if self._labelled is None else \
            self._labelled[index % len(self._labelled)][0].label
        self._recorder.write(RequestRecord(
            scheduled_s=scheduled_s, start_s=gave_up_s, end_s=gave_up_s, stack=self.plan.stack,
            endpoint=self.plan.endpoint, region="", status=0, ok=False, error_kind="timeout",
            seq=seq, label=label))

    def _observe(self, local: int, lag_s: float, now_s: float) -> None:
        figures = self._watch.observe(local, lag_s, now_s)
        if figures is not None:
            self._emit(EventKind.GENERATOR_SATURATED, now_s,
                       target_rate_per_s=self._share.rate_per_s(self.plan), **figures)
            print(f"gameday.load {self.name}: WARNING generator saturated: "
                  f"{figures['late_in_window']} of {figures['sends_in_window']} sends in the last "
                  f"{figures['window_s']:g} s started more than {self.plan.lag_bound_s * 1e3:g} ms "
                  "late; figures from now on measure the generator too", file=sys.stderr,
                  flush=True)

    def _drain(self) -> None:
        """Tell every sender to end once the queue is empty; wait for the answers in flight."""
        for _ in range(len(self._senders)):
            self._due.put(None)
        # A queued send may wait timeout_s for a sender, then timeout_s for its answer.
        grace_s = self.plan.timeout_s + (0.5 if self._stopping.is_set() else
                                         self.plan.timeout_s + 1.0)
        self._senders.join(timeout=grace_s)
        queued = sum(due is not None for due in self._due.queue)
        self.abandoned = self._busy + queued
        if len(self._senders):
            self._senders.kill(block=True, timeout=1.0)

    def _emit_start(self, t0_s: float, late_start_s: float) -> None:
        share = self._share
        detail = load_start_detail(f"gameday.load {self.name}", t0_s, late_start_s,
                                   rate_per_s=share.rate_per_s(self.plan),
                                   arrival=self.plan.arrival, sends_scheduled=share.size,
                                   plan=self.plan.to_dict())
        self._emit(EventKind.LOAD_START, t0_s, **detail,
                   steps=steps_detail(self.plan, t0_s, share.stride))

    def _finish(self, t0_s: float) -> dict[str, Any]:
        if self._plain is not None:
            self._plain.close()
        self._recorder.close()
        totals = {**self._watch.summary(), "scheduled": self._share.size,
                  "recorded": self._recorder.recorded, "ok": self._recorder.ok,
                  "gave_up": self.gave_up, "cancelled": self.cancelled,
                  "abandoned": self.abandoned, "stopped_by": self.stop_reason, "t0_s": t0_s,
                  "cpu_s": time.process_time() - self._cpu_at_start_s}
        totals["sent"] -= self.gave_up  # "sent" = requests that reached the wire
        self._emit(EventKind.LOAD_END, time.time(), **totals)
        return totals

    def _emit(self, kind: str, t_s: float, **detail: Any) -> None:
        if self._share.worker is not None:
            detail["worker"] = self._share.worker
        self._events.emit(kind, t_s=t_s, generator=self.name, pid=os.getpid(), **detail)
