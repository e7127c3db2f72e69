"""Read everything a report needs from a run folder, and nothing from anywhere else."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import ValidationError

from gameday.canaries import CanarySample, read_canary_samples
from gameday.coldstarts import COLDSTART_FILE, ColdStart, read_cold_starts
from gameday.config import Suite, validation_message
from gameday.dbrecords import (
    AUDIT_FILE,
    DB_FILE,
    REPLICATION_FILE,
    WRITES_GENERATOR,
    read_audit,
    read_db_samples,
    read_replication_samples,
)
from gameday.errors import MeasurementError
from gameday.measure import DatabaseRecords, RequestArrays, Writes
from gameday.measure.arrays import ARRAY_COLUMNS, StrArray
from gameday.measure.autoscaler_log import AutoscalerLog, read_autoscaler_log
from gameday.measure.cost import COST_SERIES
from gameday.measure.rag import ANSWER_COLUMNS, Answers, Ingests
from gameday.measure.series import Metrics, read_metrics
from gameday.measure.served import StackRequests
from gameday.operator_log import OperatorAction, read_operator_log
from gameday.records import (
    EDGE_FILE,
    EdgeServerSample,
    Event,
    read_edge_samples,
    read_events,
    read_request_table,
)
from gameday.tritonrecords import TRITON_FILE, TritonSample, read_triton_samples
from reports.baseline import BaselineResult, read_baseline

T = TypeVar("T")

__all__ = ["SUITE_FILE", "Journal", "RunFolder", "read_run_folder"]

SUITE_FILE = "suite.json"


@dataclass(frozen=True, slots=True)
class Journal:
    """What a Chaos Toolkit journal says about its experiment."""

    status: str  # completed | failed | aborted | interrupted | missing | unreadable
    deviated: bool | None
    rollbacks: tuple[str, ...] = ()  # the status of each rollback activity, in order
    # a model release's timeline, one part per method action that returned one (in order;
    # gameday.faults.release.rollout): what gameday.measure.release reads
    releases: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class RunFolder:
    path: Path
    suite: Suite
    requests: RequestArrays
    events: tuple[Event, ...]
    journals: Mapping[str, Journal]  # by scenario name, for every scenario of the suite
    edge: tuple[EdgeServerSample, ...] | None = None  # None: the run has no edge.jsonl
    database: DatabaseRecords | None = None  # None: neither a database suite nor its files
    answers: Answers | None = None  # the rag stack's answers; None: the suite has no rag stack
    ingests: Ingests | None = None  # and its document ingests
    triton: tuple[TritonSample, ...] | None = None  # None: no triton stack or no triton.jsonl
    cold_starts: tuple[ColdStart, ...] | None = None  # None: no coldstarts.jsonl
    canaries: tuple[CanarySample, ...] = ()  # the serving canary's answers (canary.jsonl)
    request_stacks: StrArray | None = None  # the stack of each request; None: not read
    request_degraded: StrArray | None = None  # the fallback that served each; None: not read
    metrics: Metrics = field(default_factory=Metrics.none)  # metrics/: Prometheus snapshots
    autoscaler: AutoscalerLog | None = None  # None: no autoscaler.jsonl
    operator: tuple[OperatorAction, ...] | None = None  # None: not a game day (no operator.jsonl)
    baseline: BaselineResult | None = None  # None: not judged against a baseline run


def read_run_folder(run_dir: Path) -> RunFolder:
    """Load a run folder; a missing or invalid ``suite.json`` is a MeasurementError."""
    if not run_dir.is_dir():
        raise MeasurementError(f"{run_dir}: not a run folder (no such directory)")
    suite = _read_suite(run_dir / SUITE_FILE)
    answers, ingests = _read_rag(run_dir) if "rag" in suite.stacks else (None, None)
    requests = _read_requests(run_dir)
    return RunFolder(
        path=run_dir,
        suite=suite,
        requests=requests.requests,
        events=tuple(read_events(run_dir)),
        journals={scenario.name: _read_journal(run_dir / f"journal-{scenario.name}.json")
                  for scenario in suite.scenarios},
        edge=tuple(read_edge_samples(run_dir)) if (run_dir / EDGE_FILE).is_file() else None,
        database=_read_database(run_dir, suite),
        answers=answers,
        ingests=ingests,
        triton=_read_triton(run_dir) if "triton" in suite.stacks else None,
        cold_starts=_read_cold_starts(run_dir),
        canaries=_read_canaries(run_dir),
        request_stacks=requests.stack,
        request_degraded=requests.degraded,
        metrics=read_metrics(run_dir, _METRIC_SERIES),
        autoscaler=read_autoscaler_log(run_dir),
        operator=_read_operator(run_dir),
        baseline=read_baseline(run_dir),
    )


# what the cost, autoscaling and feature-store figures read
_METRIC_SERIES = (*COST_SERIES, "member_up", "feature_materialized_s")


_DATABASE_FILES = (DB_FILE, REPLICATION_FILE, AUDIT_FILE, f"requests-{WRITES_GENERATOR}.csv")


def _read_database(run_dir: Path, suite: Suite) -> DatabaseRecords | None:
    """A database suite's records, even when its files are missing (that is a finding)."""
    if suite.database is None and not any((run_dir / name).exists()
                                          for name in _DATABASE_FILES):
        return None
    try:
        table = read_request_table(run_dir, [*ARRAY_COLUMNS, "seq", "endpoint"])
    except ValueError as exc:  # a damaged file: its error names it
        raise MeasurementError(str(exc)) from None
    try:
        audit = read_audit(run_dir)
    except (ValueError, TypeError) as exc:  # not JSON, or not the fields of an audit
        raise MeasurementError(f"{run_dir / AUDIT_FILE}: not an audit record: {exc}") from None
    return DatabaseRecords(writes=Writes.from_table(table),
                           samples=tuple(read_db_samples(run_dir)),
                           replication=tuple(read_replication_samples(run_dir)), audit=audit)


def _read_rag(run_dir: Path) -> tuple[Answers, Ingests]:
    try:
        table = read_request_table(run_dir, ANSWER_COLUMNS)
        return Answers.from_table(table), Ingests.from_table(table)
    except ValueError as exc:  # a damaged file: its error names it
        raise MeasurementError(str(exc)) from None


def _read_triton(run_dir: Path) -> tuple[TritonSample, ...] | None:
    if not (run_dir / TRITON_FILE).is_file():
        return None
    return tuple(_damaged_is_measurement_error(read_triton_samples, run_dir))


def _read_cold_starts(run_dir: Path) -> tuple[ColdStart, ...] | None:
    if not (run_dir / COLDSTART_FILE).is_file():
        return None
    return tuple(_damaged_is_measurement_error(read_cold_starts, run_dir))


def _read_canaries(run_dir: Path) -> tuple[CanarySample, ...]:
    return tuple(_damaged_is_measurement_error(read_canary_samples, run_dir))


def _read_operator(run_dir: Path) -> tuple[OperatorAction, ...] | None:
    try:
        actions = read_operator_log(run_dir)
    except ValueError as exc:  # a damaged line: its error names the file and the line
        raise MeasurementError(str(exc)) from None
    return None if actions is None else tuple(actions)


def _damaged_is_measurement_error(read: Callable[[Path], list[T]], run_dir: Path) -> list[T]:
    try:
        return read(run_dir)
    except ValueError as exc:  # a damaged line: its error names the file and the line
        raise MeasurementError(str(exc)) from None


def _read_requests(run_dir: Path) -> StackRequests:
    """The requests the SLIs, RTO and cost are judged on: every one but those of a labelled
    set (the edge's attack mix), which the edge section judges by class instead (an attack
    refused is a success of the WAF, not an answer a user got)."""
    try:
        table = read_request_table(run_dir, [*ARRAY_COLUMNS, "stack", "degraded", "label"])
        unlabelled = pc.equal(pc.cast(table.column("label"), pa.string()), "")
        return StackRequests.from_table(table.filter(unlabelled).drop_columns(["label"]))
    except ValueError as exc:  # a damaged file: its error names it, else name the folder
        message = str(exc)
        raise MeasurementError(message if str(run_dir) in message
                               else f"{run_dir}: {message}") from None


def _read_suite(path: Path) -> Suite:
    if not path.is_file():
        raise MeasurementError(f"{path}: missing; the run folder cannot be judged without it")
    try:
        return Suite.model_validate(json.loads(path.read_text()))
    except json.JSONDecodeError as exc:
        raise MeasurementError(f"{path}: not valid JSON: {exc}") from None
    except ValidationError as exc:
        field, message = validation_message(exc)
        raise MeasurementError(f"{path}: {field}: {message}") from None


def _read_journal(path: Path) -> Journal:
    if not path.is_file():
        return Journal("missing", None)
    try:
        raw = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return Journal("unreadable", None)
    if not isinstance(raw, dict):
        return Journal("unreadable", None)
    deviated = raw.get("deviated")
    rollbacks = raw.get("rollbacks")
    return Journal(str(raw.get("status", "unknown")),
                   deviated if isinstance(deviated, bool) else None,
                   tuple(str(run.get("status")) for run in rollbacks if isinstance(run, dict))
                   if isinstance(rollbacks, list) else (),
                   _release_parts(raw.get("run")))


def _release_parts(runs: object) -> tuple[dict[str, Any], ...]:
    if not isinstance(runs, list):
        return ()
    outputs = [run.get("output") for run in runs if isinstance(run, dict)]
    return tuple(output for output in outputs if isinstance(output, dict)
                 and ("release" in output or "rollback" in output))
