"""The run folder: the one contract between load, measurement and reports.

A run writes ``runs/<UTC timestamp>-<suite>/``::

    requests*.csv        one row per request (RequestRecord), appended as it happens;
                         several generators each append their own file, merged on read
    events.jsonl         the harness's own event log (Event): run, load, fault window
    journal-<scenario>.json   the Chaos Toolkit journal of each scenario
    suite.json           the suite as loaded (so a report can be rebuilt from the folder)
    edge.jsonl           the edge's view: one EdgeServerSample per line, on every change of
                         a server's state as HAProxy reports it (t_s, backend, server, region,
                         up, admin, check)
    summary.json, report.html, junit.xml   written by ``reports``

All times are UNIX epoch seconds (float) taken from ``time.time()`` on this host.
"""

from __future__ import annotations

import csv
import json
import math
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import IO, Any

__all__ = [
    "EDGE_FILE",
    "EVENTS_FILE",
    "EdgeServerSample",
    "REQUEST_COLUMNS",
    "Event",
    "EventKind",
    "EventLog",
    "RecordWriter",
    "RequestRecord",
    "append_edge_samples",
    "read_edge_samples",
    "read_events",
    "read_requests",
]

EVENTS_FILE = "events.jsonl"
EDGE_FILE = "edge.jsonl"
REQUESTS_GLOB = "requests*.csv"


class EventKind:
    """Names of the events the harness logs (``Event.kind``)."""

    RUN_START = "run_start"
    LOAD_START = "load_start"
    WARMUP_END = "warmup_end"
    SCENARIO_START = "scenario_start"
    FAULT_START = "fault_start"  # the experiment's fault action returned
    FAULT_END = "fault_end"  # the experiment's rollback returned
    SCENARIO_END = "scenario_end"
    LOAD_END = "load_end"
    GENERATOR_SATURATED = "generator_saturated"
    HARNESS_ERROR = "harness_error"
    ROLLBACK_FAILED = "rollback_failed"  # detail: still_injected (list of str), message
    INTERRUPTED = "interrupted"  # detail: reason, phase
    RUN_END = "run_end"


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request as the load generator saw it (DESIGN.md, "Request record").

    ``latency_s`` counts from the *scheduled* send time, so a stalled generator or a
    stalled system is not hidden (no coordinated omission).
    """

    scheduled_s: float
    start_s: float
    end_s: float
    stack: str
    endpoint: str
    region: str  # X-Served-By-Region of the answer, "" when there was none
    status: int  # HTTP status, 0 when no HTTP answer came back
    ok: bool  # status and payload valid
    error_kind: str = ""  # "" | http_4xx | http_5xx | timeout | connection | payload
    ttft_s: float | None = None  # streaming answers: time to first token
    itl_s: tuple[float, ...] = ()  # streaming answers: inter-token gaps
    seq: int | None = None  # writes: the sequence number

    @property
    def latency_s(self) -> float:
        return self.end_s - self.scheduled_s

    @property
    def send_lag_s(self) -> float:
        return self.start_s - self.scheduled_s


REQUEST_COLUMNS: tuple[str, ...] = (
    *(f.name for f in fields(RequestRecord)),
    "latency_s",
)


def _format_row(record: RequestRecord) -> list[object]:
    return [
        f"{record.scheduled_s:.6f}",
        f"{record.start_s:.6f}",
        f"{record.end_s:.6f}",
        record.stack,
        record.endpoint,
        record.region,
        record.status,
        int(record.ok),
        record.error_kind,
        "" if record.ttft_s is None else f"{record.ttft_s:.6f}",
        ";".join(f"{gap:.6f}" for gap in record.itl_s),
        "" if record.seq is None else record.seq,
        f"{record.latency_s:.6f}",
    ]


class RecordWriter:
    """Appends request records to a CSV file as they happen.

    Thread-safe. Rows are flushed to the OS at least every ``flush_every_s`` seconds (and on
    close), so a crash of the harness loses at most that much.
    """

    def __init__(self, path: Path, *, flush_every_s: float = 0.5) -> None:
        self.path = path
        self._flush_every_s = flush_every_s
        self._lock = threading.Lock()
        new = not path.exists() or path.stat().st_size == 0
        self._file: IO[str] = path.open("a", newline="", buffering=1 << 16)
        self._csv = csv.writer(self._file)
        if new:
            self._csv.writerow(REQUEST_COLUMNS)
        self._last_flush = time.monotonic()
        self.count = 0

    def write(self, record: RequestRecord) -> None:
        row = _format_row(record)
        with self._lock:
            self._csv.writerow(row)
            self.count += 1
            now = time.monotonic()
            if now - self._last_flush >= self._flush_every_s:
                self._file.flush()
                self._last_flush = now

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()
                self._file.close()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _parse_optional_float(text: str) -> float | None:
    return float(text) if text else None


def _iter_file(path: Path) -> Iterator[RequestRecord]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            if row.get("latency_s") is None:  # a torn last line after a crash
                continue
            try:
                yield RequestRecord(
                    scheduled_s=float(row["scheduled_s"]),
                    start_s=float(row["start_s"]),
                    end_s=float(row["end_s"]),
                    stack=row["stack"],
                    endpoint=row["endpoint"],
                    region=row["region"],
                    status=int(row["status"]),
                    ok=row["ok"] == "1",
                    error_kind=row["error_kind"],
                    ttft_s=_parse_optional_float(row["ttft_s"]),
                    itl_s=tuple(float(g) for g in row["itl_s"].split(";") if g),
                    seq=int(row["seq"]) if row["seq"] else None,
                )
            except (TypeError, ValueError):
                continue


def read_requests(run_dir: Path) -> list[RequestRecord]:
    """Every request record of a run, merged from all generators, by scheduled time."""
    records: list[RequestRecord] = []
    for path in sorted(run_dir.glob(REQUESTS_GLOB)):
        records.extend(_iter_file(path))
    records.sort(key=lambda r: r.scheduled_s)
    return records


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of the harness's event log."""

    t_s: float
    kind: str
    scenario: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


class EventLog:
    """Append-only JSON-lines event log; every event is flushed at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def emit(self, kind: str, scenario: str = "", t_s: float | None = None, **detail: Any) -> Event:
        event = Event(t_s=time.time() if t_s is None else t_s, kind=kind, scenario=scenario,
                      detail=detail)
        line = json.dumps(asdict(event), default=str, allow_nan=False)
        with self._lock, self.path.open("a") as handle:
            handle.write(line + "\n")
        return event


def read_events(run_dir: Path) -> list[Event]:
    """The event log of a run, in the order it was written; a torn last line is skipped."""
    path = run_dir / EVENTS_FILE
    if not path.exists():
        return []
    events = []
    for line in path.read_text().splitlines():
        try:
            raw = json.loads(line)
        except json.JSONDecodeError:
            continue
        events.append(Event(t_s=float(raw["t_s"]), kind=raw["kind"],
                            scenario=raw.get("scenario", ""), detail=raw.get("detail", {})))
    return events


@dataclass(frozen=True, slots=True)
class EdgeServerSample:
    """One server of the edge as HAProxy saw it at ``t_s`` (written when its state changes)."""

    t_s: float
    backend: str  # the stack's backend
    server: str  # the member behind it
    region: str
    up: bool  # operational by its health checks
    admin: str  # ready | drain | maint
    check: str = ""  # last check result: L7OK, L4CON, L7STS, ...


def append_edge_samples(run_dir: Path, samples: Iterable[EdgeServerSample]) -> None:
    lines = "".join(json.dumps(asdict(s)) + "\n" for s in samples)
    if lines:
        with (run_dir / EDGE_FILE).open("a") as handle:
            handle.write(lines)


def read_edge_samples(run_dir: Path) -> list[EdgeServerSample]:
    """The edge's view of a run, in time order; absent file → no samples, torn line skipped."""
    path = run_dir / EDGE_FILE
    if not path.exists():
        return []
    samples = []
    for line in path.read_text().splitlines():
        try:
            samples.append(EdgeServerSample(**json.loads(line)))
        except (json.JSONDecodeError, TypeError):
            continue
    return sorted(samples, key=lambda s: s.t_s)


def records_to_columns(records: Iterable[RequestRecord]) -> dict[str, list[Any]]:
    """Column-wise view of records (for pandas/numpy), with ``latency_s`` added."""
    columns: dict[str, list[Any]] = {name: [] for name in REQUEST_COLUMNS}
    for record in records:
        for name in REQUEST_COLUMNS:
            columns[name].append(getattr(record, name))
    return columns


def finite_or_none(value: float | None) -> float | None:
    """JSON has no NaN/inf: map them to None."""
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return value


