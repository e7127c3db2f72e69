"""The samples that ``gameday compare`` and ``gameday trend`` read from one run folder.

Per stack, over the requests of the scope (warm-up out; the labelled set, column ``label``,
is already left out by ``read_run_folder``; the whole run, ``all``, by default):

- ``latency``: each ok request's latency from its *scheduled* send (``latency_s``), seconds;
- ``availability``: per bucket (1 s by default, aligned to the load start) of at least one
  request, 1 − failed / requests;
- ``ttft`` (the rag stack): each answer's time to its first token from its scheduled send,
  where it got one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gameday.errors import ConfigError, MeasurementError
from gameday.measure import (
    RequestArrays,
    Scope,
    fault_windows,
    load_start_s,
    warmup_end_s,
)
from gameday.measure.arrays import FloatArray
from gameday.measure.rag import Answers
from gameday.measure.sli import scope_mask
from gameday.measure.windows import FaultWindow
from gameday.records import EVENTS_FILE, EventKind
from reports.run_folder import SUITE_FILE, RunFolder, read_run_folder

__all__ = ["FAMILIES", "RunSamples", "Sample", "check_run_folder", "read_run", "run_samples"]

FAMILIES = {"latency": "s", "availability": "ratio", "ttft": "s"}  # family -> unit


@dataclass(frozen=True, slots=True)
class Sample:
    """One metric's samples; ``requests`` and ``ok`` count what they were taken from (for
    ``ttft``: answers, and those that got a first token)."""

    family: str
    stack: str
    values: FloatArray
    requests: int
    ok: int

    @property
    def name(self) -> str:
        return f"{self.family}:{self.stack}"

    @property
    def unit(self) -> str:
        return FAMILIES[self.family]


@dataclass(frozen=True, slots=True)
class RunSamples:
    run_id: str
    path: Path
    suite: str
    started_at_s: float | None  # the run_start event, else the first event
    scope: Scope
    metrics: Mapping[str, Sample]  # by name, ``family:stack``


def check_run_folder(path: Path) -> None:
    """A ConfigError naming the path unless it looks like a run folder (cheap: its files are
    not read)."""
    for name in (EVENTS_FILE, SUITE_FILE):
        if not (path / name).is_file():
            raise ConfigError(f"not a run folder (no {name})", source=str(path))


def read_run(path: Path) -> RunFolder:
    """A run folder with request records, or a ConfigError naming the path."""
    check_run_folder(path)
    try:
        folder = read_run_folder(path)
    except MeasurementError as exc:
        message = str(exc)
        raise ConfigError(message if str(path) in message else f"{path}: {message}") from None
    if len(folder.requests) == 0:
        raise ConfigError("the run has no request records", source=str(path))
    return folder


def run_samples(folder: RunFolder, *, scope: Scope = "all",
                bucket_s: float = 1.0) -> RunSamples:
    requests, events = folder.requests, folder.events
    first_s = float(requests.scheduled_s[0]) if len(requests) else None
    windows = fault_windows(events)
    warmup_s = warmup_end_s(events, first_s, folder.suite.primary_load.warmup_s)
    origin_s = load_start_s(events, first_s) or 0.0
    chosen = scope_mask(requests, windows, scope, warmup_end_s=warmup_s)
    stacks = folder.request_stacks if folder.request_stacks is not None \
        else np.full(len(requests), folder.suite.primary_load.stack, dtype=np.str_)
    metrics: dict[str, Sample] = {}
    for stack in sorted({str(s) for s in np.unique(stacks[chosen])}):
        part = requests.select(chosen & (stacks == stack))
        ok = int(np.count_nonzero(part.ok))
        metrics[f"latency:{stack}"] = Sample("latency", stack, part.latency_s[part.ok],
                                             len(part), ok)
        metrics[f"availability:{stack}"] = Sample(
            "availability", stack, _bucket_availability(part, origin_s, bucket_s), len(part), ok)
    if folder.answers is not None:
        metrics["ttft:rag"] = _ttft(folder.answers, windows, scope, warmup_s)
    return RunSamples(run_id=folder.path.name, path=folder.path, suite=folder.suite.name,
                      started_at_s=_started_at_s(folder), scope=scope, metrics=metrics)


def _bucket_availability(part: RequestArrays, origin_s: float, bucket_s: float) -> FloatArray:
    if len(part) == 0:
        return np.zeros(0, dtype=np.float64)
    index = np.floor((part.scheduled_s - origin_s) / bucket_s).astype(np.int64)
    index -= index.min()
    sent = np.bincount(index)
    failed = np.bincount(index, weights=(~part.ok).astype(np.float64))
    used = sent > 0
    availability: FloatArray = 1.0 - failed[used] / sent[used]
    return availability


def _ttft(answers: Answers, windows: list[FaultWindow], scope: Scope,
          warmup_s: float | None) -> Sample:
    chosen = scope_mask(answers.requests, windows, scope, warmup_end_s=warmup_s)
    ttft = answers.ttft_s[chosen]
    values = ttft[~np.isnan(ttft)]
    return Sample("ttft", "rag", values, int(np.count_nonzero(chosen)), int(values.size))


def _started_at_s(folder: RunFolder) -> float | None:
    started = next((e.t_s for e in folder.events if e.kind == EventKind.RUN_START), None)
    if started is None and folder.events:
        return folder.events[0].t_s
    return started
