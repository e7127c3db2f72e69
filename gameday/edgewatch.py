"""The edge's view during a run: poll an ``EdgeObserver`` in a background thread and append
to ``edge.jsonl`` each server's first sample and every change of its state (up, admin
state, check result), so the report can show when the edge marked a server down and up;
before the watch stops, ``settle`` gives the edge a bounded time to re-admit what the run's
faults took out (a rollback that ended with the load would otherwise leave the region "down"
in the report); and at the run's end, the edge WAF's log into ``waf.jsonl``."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from gameday.edge_options import HealthOptions
from gameday.platforms.base import EdgeObserver, Platform, WafLog
from gameday.poller import Poller
from gameday.records import WAF_FILE, EdgeServerSample, EventKind, EventLog, append_edge_samples

__all__ = ["EdgeWatch", "save_waf_log", "settle_bound_s"]

# beyond rise + 1 check intervals: a busy host's HAProxy runs its checks a little late
_SETTLE_SLACK_S = 3.0


def settle_bound_s(health: HealthOptions) -> float:
    """How long the edge may take to re-admit a server that is healthy again: ``rise``
    passed checks, one interval for the check under way, and some slack."""
    return (health.rise + 1) * health.inter_ms / 1000 + _SETTLE_SLACK_S


def save_waf_log(platform: Platform, run_dir: Path, since_s: float) -> int:
    """The WAF's entries since ``since_s`` into the run folder; how many (0: no WAF log)."""
    if not isinstance(platform, WafLog):
        return 0
    entries = platform.waf_entries(since_s)
    with (run_dir / WAF_FILE).open("w") as handle:
        handle.writelines(json.dumps(entry) + "\n" for entry in entries)
    return len(entries)


_Key = tuple[str, str]  # (backend, server)
_Seen = tuple[bool, str, str]  # (up, admin, check)


class EdgeWatch(Poller):
    """``start()`` polls every ``interval_s`` until ``stop()``; a failed poll is noted once
    in the event log and polling goes on (the edge may answer again)."""

    def __init__(self, observer: EdgeObserver, run_dir: Path, events: EventLog, *,
                 interval_s: float = 0.2) -> None:
        super().__init__(interval_s=interval_s, name="edge-watch")
        self._observer = observer
        self._run_dir = run_dir
        self._events = events
        self._seen: dict[_Key, _Seen] = {}
        self._up_when_first_seen: set[_Key] = set()
        self._present: set[_Key] = set()  # in the last poll that answered (scale-down removes)
        self._lock = threading.Lock()  # _seen is written by the poll thread, read by settle
        self._failed = False

    def poll_once(self) -> list[EdgeServerSample]:
        """One poll: the samples that were new or changed (and were appended)."""
        try:
            samples = self._observer.edge_server_states()
        except Exception as exc:  # the edge's admin API is a nice-to-have, never fatal
            if not self._failed:
                self._failed = True
                self._events.emit(EventKind.EDGE_WATCH_FAILED,
                                  message=f"{type(exc).__name__}: {exc}")
            return []
        changed = [sample for sample in samples if self._changed(sample)]
        with self._lock:
            self._present = {(sample.backend, sample.server) for sample in samples}
        append_edge_samples(self._run_dir, changed)
        return changed

    def settle(self, timeout_s: float, *, interval_s: float = 0.2) -> list[str]:
        """Wait until every server that was up when first seen, and is still behind the edge,
        is up again, at most ``timeout_s``: those still down then (``backend/server``)."""
        deadline_s = time.monotonic() + timeout_s
        while True:
            down = self._down_since_first_seen()
            if not down or time.monotonic() >= deadline_s:
                return down
            time.sleep(interval_s)

    def _down_since_first_seen(self) -> list[str]:
        with self._lock:
            return sorted(f"{backend}/{server}" for (backend, server), (up, _, _)
                          in self._seen.items()
                          if not up and (backend, server) in self._up_when_first_seen
                          and (backend, server) in self._present)

    def _changed(self, sample: EdgeServerSample) -> bool:
        key, seen = (sample.backend, sample.server), (sample.up, sample.admin, sample.check)
        with self._lock:
            if self._seen.get(key) == seen:
                return False
            if key not in self._seen and sample.up:
                self._up_when_first_seen.add(key)
            self._seen[key] = seen
        return True
