"""The serving canary's answers (see ``gameday.records`` for the rest of the run folder)::

    canary.jsonl   one CanarySample per line: one real inference (the stack's probe request)
                   sent straight to a model server, about every half second per server, and
                   whether a good answer came back within the canary's timeout

A canary is the check that a lying health endpoint cannot fool: a stalled backend keeps its
readiness green (vllm#7633, sglang#853) but fails its canary. Times are UNIX epoch seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gameday.jsonl import append_jsonl, read_jsonl

__all__ = ["CANARY_FILE", "CanarySample", "append_canary_samples", "read_canary_samples"]

CANARY_FILE = "canary.jsonl"


@dataclass(frozen=True, slots=True)
class CanarySample:
    t_s: float  # sent
    member: str
    region: str
    stack: str
    ok: bool  # status 200 within the timeout
    latency_s: float  # until the answer, or until the canary gave up
    status: int  # 0: no answer (timeout, refused)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> CanarySample:
        return cls(t_s=float(raw["t_s"]), member=str(raw["member"]),
                   region=str(raw["region"]), stack=str(raw["stack"]), ok=bool(raw["ok"]),
                   latency_s=float(raw["latency_s"]), status=int(raw["status"]))


def append_canary_samples(run_dir: Path, samples: Iterable[CanarySample]) -> None:
    append_jsonl(run_dir / CANARY_FILE, (asdict(s) for s in samples))


def read_canary_samples(run_dir: Path) -> list[CanarySample]:
    """The run's canary answers by time sent; absent file: none (torn last line skipped)."""
    samples = read_jsonl(run_dir / CANARY_FILE, CanarySample.from_json, "a canary sample")
    return sorted(samples, key=lambda s: s.t_s)
