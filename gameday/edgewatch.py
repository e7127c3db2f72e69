"""The edge's view during a run: poll an ``EdgeObserver`` in a background thread and append
to ``edge.jsonl`` each server's first sample and every change of its state (up, admin
state, check result), so the report can show when the edge marked a server down and up;
and at the run's end, the edge WAF's log into ``waf.jsonl``."""

from __future__ import annotations

import json
from pathlib import Path

from gameday.platforms.base import EdgeObserver, Platform, WafLog
from gameday.poller import Poller
from gameday.records import WAF_FILE, EdgeServerSample, EventKind, EventLog, append_edge_samples

__all__ = ["EdgeWatch", "save_waf_log"]


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
        append_edge_samples(self._run_dir, changed)
        return changed

    def _changed(self, sample: EdgeServerSample) -> bool:
        key, seen = (sample.backend, sample.server), (sample.up, sample.admin, sample.check)
        if self._seen.get(key) == seen:
            return False
        self._seen[key] = seen
        return True
