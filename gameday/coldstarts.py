"""The cold starts of a run's model servers (see ``gameday.records`` for the rest of the run
folder)::

    coldstarts.jsonl   one ColdStart per line: a model server whose process (re)started during
                       the run, and when it reached each phase, appended once it served or the
                       watch gave up on it

Phases, as ``gameday.coldstartwatch`` observes them (times are UNIX epoch seconds on this
host; a phase never reached is None):

- ``process_start_s``: the new process's start time, from the operating system;
- ``live_s``: the server's liveness answered 200 (the HTTP server is up);
- ``model_ready_s``: the model's readiness answered 200 (loaded, warm-up done if it has one);
- ``first_inference_s``: the first probe inference answered 200 (``first_inference_latency_s``
  is that request's own latency: what the first user request pays at most).

``probe_failures`` counts the watch's probe inferences that failed after the server was live and
before the first one succeeded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gameday.jsonl import append_jsonl, read_jsonl

__all__ = ["COLDSTART_FILE", "ColdStart", "append_cold_start", "read_cold_starts"]

COLDSTART_FILE = "coldstarts.jsonl"


@dataclass(frozen=True, slots=True)
class ColdStart:
    member: str
    region: str
    stack: str
    pid: int
    process_start_s: float
    live_s: float | None
    model_ready_s: float | None
    first_inference_s: float | None
    first_inference_latency_s: float | None
    probe_failures: int
    gave_up: bool  # the watch stopped following it (the run ended, or it never served)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ColdStart:
        def optional(name: str) -> float | None:
            return None if raw.get(name) is None else float(raw[name])
        return cls(member=str(raw["member"]), region=str(raw["region"]),
                   stack=str(raw["stack"]), pid=int(raw["pid"]),
                   process_start_s=float(raw["process_start_s"]), live_s=optional("live_s"),
                   model_ready_s=optional("model_ready_s"),
                   first_inference_s=optional("first_inference_s"),
                   first_inference_latency_s=optional("first_inference_latency_s"),
                   probe_failures=int(raw["probe_failures"]), gave_up=bool(raw["gave_up"]))


def append_cold_start(run_dir: Path, start: ColdStart) -> None:
    append_jsonl(run_dir / COLDSTART_FILE, [asdict(start)])


def read_cold_starts(run_dir: Path) -> list[ColdStart]:
    """The run's cold starts by process start; absent file: none (torn last line skipped)."""
    starts = read_jsonl(run_dir / COLDSTART_FILE, ColdStart.from_json, "a cold start")
    return sorted(starts, key=lambda s: s.process_start_s)
