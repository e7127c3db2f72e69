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
    waf.jsonl            the edge WAF's log: one line per request a CRS rule matched (t_s,
                         label, method, uri, status, blocked, score, rules, mode), saved at
                         the end of the run
    summary.json, report.html, junit.xml   written by ``reports``

All times are UNIX epoch seconds (float) taken from ``time.time()`` on this host.
"""

from __future__ import annotations

import csv
import json
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

__all__ = [
    "CACHE_REGION",
    "EDGE_FILE",
    "EVENTS_FILE",
    "REQUEST_COLUMNS",
    "REQUEST_COLUMN_TYPES",
    "WAF_FILE",
    "EdgeServerSample",
    "Event",
    "EventKind",
    "EventLog",
    "RecordWriter",
    "RequestRecord",
    "append_edge_samples",
    "read_edge_samples",
    "read_events",
    "read_request_table",
    "read_requests",
]

EVENTS_FILE = "events.jsonl"
EDGE_FILE = "edge.jsonl"
WAF_FILE = "waf.jsonl"
REQUESTS_GLOB = "requests*.csv"
# the region an answer names when the edge's cache served it (targets/edge/nginx.conf.tmpl)
CACHE_REGION = "edge"


class EventKind:
    """Names of the events the harness logs (``Event.kind``)."""

    RUN_START = "run_start"
    LOAD_START = "load_start"
    WARMUP_END = "warmup_end"
    SCENARIO_START = "scenario_start"
    FAULT_START = "fault_start"  # the experiment's fault action returned
    FAULT_ACTION = "fault_action"  # every method action that returned (detail: action, output)
    FAULT_END = "fault_end"  # the experiment's rollback returned
    SCENARIO_END = "scenario_end"
    SCENARIO_ABORTED = "scenario_aborted"  # a stop condition fired: reason, condition, at_s
    # (condition "operator": the operator rolled it back, gameday.operator_log)
    SCENARIO_NOT_RUN = "scenario_not_run"  # its trigger never came before the load ended: reason
    LOAD_END = "load_end"
    GENERATOR_SATURATED = "generator_saturated"
    HARNESS_ERROR = "harness_error"
    EDGE_WATCH_FAILED = "edge_watch_failed"  # detail: message (noted once per run)
    # the edge had not re-admitted every server it had up at the start when the run ended:
    # detail servers (backend/server), waited_s
    EDGE_UNSETTLED = "edge_unsettled"
    ROLLBACK_FAILED = "rollback_failed"  # detail: still_injected (list of str), message
    INTERRUPTED = "interrupted"  # detail: reason, phase
    DB_PROMOTED = "db_promoted"  # promote mode: detail node, region, reason, took_s
    DB_WATCH_FAILED = "db_watch_failed"  # detail: message (noted once per run)
    DB_AUDIT = "db_audit"  # detail: node, present (count), error
    DB_HANDED_BACK = "db_handed_back"  # before the load: detail node, region, previous
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
    error_kind: str = ""  # "" | http_4xx | http_5xx | timeout | connection | payload | stream
    ttft_s: float | None = None  # streaming answers: time to first token
    itl_s: tuple[float, ...] = ()  # streaming answers: inter-token gaps
    seq: int | None = None  # writes: the sequence number; questions about a write: its seq
    # RAG answers (DESIGN.md: degraded answer, stream continuity, answer quality)
    question: str = ""  # the labelled question's id ("" when not a labelled question)
    variant: str = ""  # A/B retrieval variant: vector | hybrid
    cache: str = ""  # hit | miss
    degraded: str = ""  # the fallback that served it ("" when none): embedder | store | ...
    policy: str = ""  # what the service's policy did: "guard:<rule>", "redacted:email=1"
    stream: str = ""  # complete | broken | resumed | duplicated ("" when not streamed)
    resume_s: float | None = None  # a broken stream retried: break -> first token again
    recall: float | None = None  # 1.0 when a gold passage was among the retrieved, else 0.0
    correct: float | None = None  # 1.0 when the answer span matched the gold answer exactly
    f1: float | None = None  # token F1 of the answer span against the gold answer
    model_version: str = ""  # the model version that answered (Triton's ``model_version``)
    # the global edge (DESIGN.md: CDN + WAF): its cache's verdict on the answer (X-Cache-Status:
    # HIT, MISS, STALE, EXPIRED, UPDATING, REVALIDATED, BYPASS; NONE where the route is not
    # cached; "" when no edge answered), whether its WAF refused the request (X-Edge-Waf:
    # "blocked"), and the label of a request from a labelled set ("" when unlabelled;
    # "benign" or the attack class, see gameday.load.attacks)
    edge_cache: str = ""
    waf: str = ""
    label: str = ""

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
        record.question, record.variant, record.cache, record.degraded, record.policy,
        record.stream, _optional(record.resume_s), _optional(record.recall),
        _optional(record.correct), _optional(record.f1), record.model_version,
        record.edge_cache, record.waf, record.label,
        f"{record.latency_s:.6f}",
    ]


def _optional(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"


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
        torn = not new and not _ends_with_newline(path)
        self._file: IO[str] = path.open("a", newline="", buffering=1 << 16)
        self._csv = csv.writer(self._file)
        if new:
            self._csv.writerow(REQUEST_COLUMNS)
        elif torn:  # a crashed writer's torn line stays a line of its own (skipped on read)
            self._file.write("\r\n")
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


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, 2)
        return handle.read(1) == b"\n"


# How each column of a requests*.csv file is typed when read column-wise. ``latency_s`` is
# derived (end - scheduled) and never read back: it is the last field, so a line torn inside
# it still has every field the record needs.
_STRING = pa.dictionary(pa.int32(), pa.string())  # few distinct values: codes, not objects
REQUEST_COLUMN_TYPES: dict[str, pa.DataType] = {
    "scheduled_s": pa.float64(), "start_s": pa.float64(), "end_s": pa.float64(),
    "stack": _STRING, "endpoint": _STRING, "region": _STRING, "status": pa.int32(),
    "ok": pa.bool_(), "error_kind": _STRING, "ttft_s": pa.float64(), "itl_s": pa.string(),
    "seq": pa.int64(), "question": _STRING, "variant": _STRING, "cache": _STRING,
    "degraded": _STRING, "policy": _STRING, "stream": _STRING, "resume_s": pa.float64(),
    "recall": pa.float64(), "correct": pa.float64(), "f1": pa.float64(),
    "model_version": _STRING, "edge_cache": _STRING, "waf": _STRING, "label": _STRING,
}
# the columns of the first file format (before RAG answers): such files still read, the
# newer columns empty
_V1_COLUMNS = (*REQUEST_COLUMNS[:12], "latency_s")
# and of the second (RAG answers, before model versions), and the third (before the edge's marks)
_V2_COLUMNS = (*REQUEST_COLUMNS[:22], "latency_s")
_V3_COLUMNS = (*REQUEST_COLUMNS[:23], "latency_s")
_OLDER_COLUMNS = (_V1_COLUMNS, _V2_COLUMNS, _V3_COLUMNS)
_OLDER_HEADERS = tuple(",".join(columns).encode() for columns in _OLDER_COLUMNS)


def read_request_table(run_dir: Path, columns: Sequence[str] | None = None) -> pa.Table:
    """Request records of a run as one Arrow table, merged from every ``requests*.csv`` and
    sorted by scheduled time (stable: ties keep file order). No per-row Python objects.

    ``columns``: the ones wanted (default: every column but the derived ``latency_s``). A
    line with the wrong number of fields (the torn last line of a crashed writer) is skipped;
    a file that is not a request record file raises ValueError naming it.
    """
    wanted = list(columns) if columns is not None else list(REQUEST_COLUMN_TYPES)
    unknown = [name for name in wanted if name not in REQUEST_COLUMN_TYPES]
    if unknown:
        raise ValueError(f"not request columns: {unknown}")
    schema = pa.schema([(name, REQUEST_COLUMN_TYPES[name]) for name in wanted])
    tables = [table for path in sorted(run_dir.glob(REQUESTS_GLOB))
              if (table := _read_request_file(path, wanted)) is not None]
    if not tables:
        return schema.empty_table()
    table = pa.concat_tables(tables).unify_dictionaries()
    if "scheduled_s" not in wanted:
        return table
    return table.take(pc.sort_indices(table, sort_keys=[("scheduled_s", "ascending")]))


def _read_request_file(path: Path, wanted: list[str]) -> pa.Table | None:
    with path.open("rb") as handle:
        first_line = handle.readline(4096)
    header = ",".join(REQUEST_COLUMNS).encode()
    if not first_line.endswith(b"\n"):
        if header.startswith(first_line) or any(older.startswith(first_line)
                                                for older in _OLDER_HEADERS):
            return None  # empty, or the writer died while writing the header
        raise ValueError(f"{path}: not a request record file (its first line is not a header)")
    present = tuple(first_line.rstrip(b"\r\n").decode(errors="replace").split(","))
    if present not in (REQUEST_COLUMNS, *_OLDER_COLUMNS):
        raise ValueError(f"{path}: not a request record file: header {first_line[:200]!r}, "
                         f"expected {header.decode()!r}")
    readable = [name for name in wanted if name in present]
    try:
        table = pacsv.read_csv(
            path,
            parse_options=pacsv.ParseOptions(invalid_row_handler=_skip_row),
            convert_options=pacsv.ConvertOptions(
                column_types={name: REQUEST_COLUMN_TYPES[name] for name in readable},
                include_columns=readable, strings_can_be_null=False))
    except pa.ArrowInvalid as exc:
        raise ValueError(f"{path}: unreadable request records: {exc}") from None
    return _with_missing(table, wanted)


def _with_missing(table: pa.Table, wanted: list[str]) -> pa.Table:
    """An older file's absent columns, as the writer would have written them: empty strings
    for text, nulls for numbers."""
    for name in wanted:
        if name in table.column_names:
            continue
        kind = REQUEST_COLUMN_TYPES[name]
        column = pa.array([""] * table.num_rows).dictionary_encode().cast(kind) \
            if kind == _STRING else pa.nulls(table.num_rows, kind)
        table = table.append_column(name, column)
    return table.select(wanted)


def _skip_row(row: Any) -> str:
    return "skip"


def read_requests(run_dir: Path) -> list[RequestRecord]:
    """Every request record of a run as objects, merged from all generators, by scheduled time.

    One Python object per row: for tests and small runs. Reports read ``read_request_table``.
    """
    return [_record(row) for row in read_request_table(run_dir).to_pylist()]


def _record(row: dict[str, Any]) -> RequestRecord:
    itl = row["itl_s"] or ""
    return RequestRecord(
        scheduled_s=row["scheduled_s"], start_s=row["start_s"], end_s=row["end_s"],
        stack=row["stack"], endpoint=row["endpoint"], region=row["region"],
        status=row["status"], ok=row["ok"], error_kind=row["error_kind"],
        ttft_s=row["ttft_s"], itl_s=tuple(float(gap) for gap in itl.split(";") if gap),
        seq=row["seq"], question=row["question"], variant=row["variant"], cache=row["cache"],
        degraded=row["degraded"], policy=row["policy"], stream=row["stream"],
        resume_s=row["resume_s"], recall=row["recall"], correct=row["correct"], f1=row["f1"],
        model_version=row["model_version"] or "", edge_cache=row["edge_cache"] or "",
        waf=row["waf"] or "", label=row["label"] or "")


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
