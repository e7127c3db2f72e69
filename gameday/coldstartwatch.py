"""Cold starts of model servers during a run: when a member's process is new (a killed server
restarted by the supervisor, a region brought back), follow it phase by phase — process start
(from the operating system), server live, model ready, first successful inference — and append
what it took to ``coldstarts.jsonl`` (``gameday.coldstarts``).

The members present when the watch starts are its baseline: a member counts as cold-started
when its pid changes (or appears) afterwards. A frozen member keeps its pid: not a cold start.
The phases are polled every ``interval_s`` (50 ms by default), so each is observed up to that
late; the process start is the kernel's, to its clock tick.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from gameday.coldstarts import COLDSTART_FILE, ColdStart, append_cold_start
from gameday.modelprobe import ModelProbe
from gameday.platforms.base import Member
from gameday.platforms.local.owner import kernel_start_s
from gameday.poller import Poller

__all__ = ["ColdStartWatch"]

_CHECK_TIMEOUT_S = 0.5
_INFER_TIMEOUT_S = 2.0


@dataclass
class _Following:
    member: Member
    pid: int
    process_start_s: float
    live_s: float | None = None
    model_ready_s: float | None = None
    first_inference_s: float | None = None
    first_inference_latency_s: float | None = None
    probe_failures: int = 0

    def record(self, gave_up: bool) -> ColdStart:
        return ColdStart(member=self.member.name, region=self.member.region,
                         stack=self.member.stack, pid=self.pid,
                         process_start_s=self.process_start_s, live_s=self.live_s,
                         model_ready_s=self.model_ready_s,
                         first_inference_s=self.first_inference_s,
                         first_inference_latency_s=self.first_inference_latency_s,
                         probe_failures=self.probe_failures, gave_up=gave_up)


class ColdStartWatch(Poller):
    """``start()`` follows restarts of ``members()`` until ``stop()``; a start still being
    followed then (or after ``give_up_s``) is written with ``gave_up``."""

    def __init__(self, members: Callable[[], Sequence[Member]], probe: ModelProbe,
                 run_dir: Path, *, interval_s: float = 0.05, members_every_s: float = 0.25,
                 give_up_s: float = 300.0) -> None:
        super().__init__(interval_s=interval_s, name="cold-start-watch")
        self._members, self._probe, self._run_dir = members, probe, run_dir
        self._members_every_s, self._give_up_s = members_every_s, give_up_s
        self._client = httpx.Client(trust_env=False)
        self._pids: dict[str, int | None] | None = None  # None: no baseline yet
        self._following: dict[str, _Following] = {}
        self._next_members_s = 0.0
        (run_dir / COLDSTART_FILE).touch()  # watched: the report says "none" rather than nothing

    def poll_once(self) -> list[ColdStart]:
        """One round: new processes noticed, each followed one phase on; what was written."""
        if time.monotonic() >= self._next_members_s:
            self._next_members_s = time.monotonic() + self._members_every_s
            self._notice(self._listed())
        written = []
        for name, following in list(self._following.items()):
            done = self._advance(following)
            gave_up = time.time() - following.process_start_s > self._give_up_s
            if done or gave_up:
                written.append(self._write(name, following, gave_up=not done))
        return written

    def _closed(self) -> None:
        for name, following in list(self._following.items()):
            self._write(name, following, gave_up=True)
        self._client.close()

    def _listed(self) -> Sequence[Member]:
        try:
            return self._members()
        except Exception:  # the platform's state mid-write: next round
            return ()

    def _notice(self, members: Sequence[Member]) -> None:
        pids = {m.name: m.pid for m in members}
        if self._pids is None:
            self._pids = pids
            return
        for member in members:
            if member.pid is not None and member.pid != self._pids.get(member.name):
                self._following[member.name] = _Following(member, member.pid,
                                                          _process_start_s(member.pid))
        self._pids.update(pids)

    def _advance(self, following: _Following) -> bool:
        """Ask each phase not reached yet, once, in order; whether the first inference has
        succeeded."""
        base = f"http://{following.member.address}:{following.member.ports[self._probe.port]}"
        if following.live_s is None:
            following.live_s = self._answered(f"{base}{self._probe.live_path}")
        if following.live_s is None:
            return False
        if following.model_ready_s is None:
            following.model_ready_s = self._answered(f"{base}{self._probe.ready_path}")
        sent_s = time.time()
        try:
            answer = self._client.post(f"{base}{self._probe.infer_path}",
                                       json=self._probe.infer_body, timeout=_INFER_TIMEOUT_S)
            served = answer.status_code == 200
        except httpx.HTTPError:
            served = False
        if not served:
            following.probe_failures += 1
            return False
        following.first_inference_s = time.time()
        following.first_inference_latency_s = following.first_inference_s - sent_s
        following.model_ready_s = following.model_ready_s or following.first_inference_s
        return True

    def _answered(self, url: str) -> float | None:
        """When ``url`` answered 200, or None."""
        try:
            ok = self._client.get(url, timeout=_CHECK_TIMEOUT_S).status_code == 200
        except httpx.HTTPError:
            return None
        return time.time() if ok else None

    def _write(self, name: str, following: _Following, *, gave_up: bool) -> ColdStart:
        del self._following[name]
        start = following.record(gave_up)
        append_cold_start(self._run_dir, start)
        return start


def _process_start_s(pid: int) -> float:
    """The kernel's start time of ``pid`` as a UNIX time, to the clock tick (10 ms): its
    start in ticks since boot (``/proc/<pid>/stat``, boot-time clock) set against the boot-time
    clock now. psutil's ``create_time`` adds whole-second boot-time rounding (measured here:
    0.7 s early). Now, if the process is already gone."""
    started_s = kernel_start_s(pid)
    if started_s is None:
        return time.time()
    return time.time() - (time.clock_gettime(time.CLOCK_BOOTTIME) - started_s)
