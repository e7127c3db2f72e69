"""The database figures of a run (DESIGN.md: RPO, write RTO, split brain), from the records of
``gameday.dbrecords`` and the event log: per scenario the RPO, the write RTO with its parts,
split brain, replication lag and role changes, and the facts a reader needs to judge them.

Each scenario owns a span of the run, from its start to the next scenario's (the first from
the start of the run, the last to its end), so that a write, a sample or a loss belongs to
exactly one scenario. The audit is taken once, after the run: a lost write counts for the
scenario in whose span it was acknowledged. A figure that cannot be measured is None with
the reason beside it (``*_error``), never a number that would pass an SLO.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from gameday.config import INGEST_ENDPOINT, Suite
from gameday.dbrecords import WRITE_ENDPOINT, DbAudit, DbSample, ReplicationSample
from gameday.measure.arrays import ARRAY_COLUMNS, RequestArrays
from gameday.measure.failover_facts import failover_facts
from gameday.measure.replication import (
    LagSeries,
    ReplicationFigures,
    lag_series,
    replication_figures,
)
from gameday.measure.roles import RoleChange, RoleInterval, role_changes, role_intervals
from gameday.measure.rpo import Rpo, measure_rpo
from gameday.measure.split_brain import RoleSample, SplitBrain, measure_split_brain
from gameday.measure.windows import FaultWindow, fault_windows
from gameday.measure.write_rto import WriteRto, measure_write_rto
from gameday.records import Event, EventKind, RequestRecord

__all__ = [
    "DatabaseFigures",
    "DatabaseRecords",
    "LagSeries",
    "Promotion",
    "ReplicationFigures",
    "ScenarioDatabase",
    "Writes",
    "measure_database",
]

IntArray = npt.NDArray[np.int64]
_MIN_MAX_AGE_S = 0.5  # a node's answer holds at most this long (or 3 probe intervals)


@dataclass(frozen=True, slots=True)
class Writes:
    """The numbered writer's records as columns (``seq`` row for row with ``requests``)."""

    requests: RequestArrays
    seq: IntArray

    @classmethod
    def of(cls, records: Sequence[RequestRecord]) -> Writes:
        numbered = sorted((r for r in records if r.seq is not None), key=lambda r: r.scheduled_s)
        return cls(RequestArrays.of(numbered),
                   np.array([r.seq for r in numbered], dtype=np.int64))

    @classmethod
    def from_table(cls, table: pa.Table) -> Writes:
        """From ``read_request_table`` with ``seq`` and ``endpoint``: the write rows (the
        database writer's, or the rag stack's document ingests)."""
        mask = pc.and_(pc.is_valid(table.column("seq")),
                       pc.is_in(table.column("endpoint").cast(pa.string()),
                                pa.array([WRITE_ENDPOINT, INGEST_ENDPOINT])))
        rows = table.filter(pc.fill_null(mask, False))
        return cls(RequestArrays.from_table(rows.select(list(ARRAY_COLUMNS))),
                   np.asarray(rows.column("seq").to_numpy(), dtype=np.int64))

    def __len__(self) -> int:
        return int(self.seq.size)


@dataclass(frozen=True, slots=True)
class DatabaseRecords:
    """What a database run recorded, as read from its folder."""

    writes: Writes
    samples: tuple[DbSample, ...]
    replication: tuple[ReplicationSample, ...]
    audit: DbAudit | None  # None: no audit.json


@dataclass(frozen=True, slots=True)
class Promotion:
    """A ``db_promoted`` event: the harness called pg_promote() (promote mode)."""

    t_s: float
    node: str
    region: str
    took_s: float | None


@dataclass(frozen=True, slots=True)
class ScenarioDatabase:
    scenario: str
    window: FaultWindow | None  # None: the fault never started
    primary_before: str | None  # the node writable just before the fault started
    new_primary: str | None  # the first other node writable after the fault start
    new_primary_region: str
    failed_over: bool  # another node took over (else the old primary stayed or came back)
    rpo: Rpo | None
    rpo_error: str  # why there is no RPO ("" when there is)
    write_rto: WriteRto | None
    write_rto_error: str
    split_brain: SplitBrain | None
    split_brain_error: str
    replication: ReplicationFigures
    roles: tuple[RoleChange, ...]  # role changes in the scenario's span
    promotions: tuple[Promotion, ...]


@dataclass(frozen=True, slots=True)
class DatabaseFigures:
    failover: str  # patroni | promote | unknown (no database section in the suite)
    replication_mode: str  # async | sync | unknown
    synchronous_commit: str
    patroni_ttl_s: int | None  # patroni mode only
    facts: tuple[str, ...]  # what a reader must know to judge the figures
    errors: tuple[str, ...]  # run-wide measurement trouble, in words
    writes: Writes  # the ledger the RPO was measured on (the report draws it)
    sample_interval_s: float | None  # median time between two probes of one node
    sample_max_age_s: float  # an answer holds at most this long
    split_brain: SplitBrain | None  # over the whole run; None: no samples
    roles: tuple[RoleChange, ...]
    intervals: tuple[RoleInterval, ...]
    lag: tuple[LagSeries, ...]
    audit: DbAudit | None
    scenarios: tuple[ScenarioDatabase, ...]

    def scenario(self, name: str) -> ScenarioDatabase | None:
        return next((each for each in self.scenarios if each.scenario == name), None)


def measure_database(records: DatabaseRecords, suite: Suite,
                     events: Sequence[Event]) -> DatabaseFigures:
    options = suite.database
    samples = tuple(sorted(records.samples, key=lambda s: s.t_s))
    interval_s = _sample_interval_s(samples)
    max_age_s = max(_MIN_MAX_AGE_S, 3 * interval_s) if interval_s else _MIN_MAX_AGE_S
    roles = role_changes(samples)
    spans = _spans(suite, events)
    windows = {w.scenario: w for w in reversed(fault_windows(events))}  # the first of each
    scenarios = tuple(
        _scenario(name, windows.get(name), spans.get(name), records, samples, roles, events,
                  max_age_s, last=name == _last_started(spans))
        for name in (s.name for s in suite.scenarios))
    return DatabaseFigures(
        failover=options.failover if options else "unknown",
        replication_mode=options.replication if options else "unknown",
        synchronous_commit=options.synchronous_commit if options else "unknown",
        patroni_ttl_s=options.patroni.ttl if options and options.failover == "patroni"
        else None,
        facts=failover_facts(options),
        errors=_run_errors(records, events),
        writes=records.writes,
        sample_interval_s=interval_s,
        sample_max_age_s=max_age_s,
        split_brain=measure_split_brain(_role_samples(samples), max_age_s=max_age_s)
        if samples else None,
        roles=roles,
        intervals=role_intervals(samples, max_age_s),
        lag=lag_series(records.replication),
        audit=records.audit,
        scenarios=scenarios,
    )


def _scenario(name: str, window: FaultWindow | None, span: tuple[float, float] | None,
              records: DatabaseRecords, samples: Sequence[DbSample],
              roles: Sequence[RoleChange], events: Sequence[Event], max_age_s: float, *,
              last: bool) -> ScenarioDatabase:
    lo, hi = span if span is not None else (math.inf, math.inf)
    in_span = [s for s in samples if lo <= s.t_s < hi]
    start_s = window.start_s if window else None
    before = None if start_s is None else _primary_before(in_span, start_s)
    # RPO and write RTO count from the instant the primary was lost (a kill after a slowed
    # link: the slowing is the window's start, the kill the loss), as the action says
    loss = _from_primary_loss(window, events)
    after = None if start_s is None else next(
        (s for s in in_span if s.t_s >= start_s and s.writable
         and (before is None or s.node != before.node)), None)
    write_rto, write_rto_error = _write_rto(records.writes, in_span, loss, before, after, hi)
    rpo, rpo_error = _rpo(records, loss, (lo, hi), events, last=last)
    split_brain, split_brain_error = _split_brain(in_span, window, max_age_s)
    return ScenarioDatabase(
        scenario=name, window=window,
        primary_before=before.node if before else None,
        new_primary=after.node if after else None,
        new_primary_region=after.region if after else "",
        failed_over=after is not None,
        rpo=rpo, rpo_error=rpo_error,
        write_rto=write_rto, write_rto_error=write_rto_error,
        split_brain=split_brain, split_brain_error=split_brain_error,
        replication=replication_figures(records.replication, (lo, hi),
                                        loss.start_s if loss else None,
                                        before.node if before else None),
        roles=tuple(change for change in roles if lo <= change.t_s < hi),
        promotions=tuple(
            Promotion(e.t_s, str(e.detail.get("node", "")), str(e.detail.get("region", "")),
                      _float(e.detail.get("took_s")))
            for e in events if e.kind == EventKind.DB_PROMOTED and lo <= e.t_s < hi))


def _from_primary_loss(window: FaultWindow | None,
                       events: Sequence[Event]) -> FaultWindow | None:
    if window is None:
        return None
    for event in events:
        output = event.detail.get("output")
        if event.kind == EventKind.FAULT_ACTION and event.scenario == window.scenario \
                and isinstance(output, dict) and "primary_lost_s" in output:
            return dataclasses.replace(window, start_s=float(output["primary_lost_s"]))
    return window


def _primary_before(samples: Sequence[DbSample], start_s: float) -> DbSample | None:
    """The node whose last answer before the fault said it took writes (the latest such)."""
    last: dict[str, DbSample] = {}
    for sample in samples:
        if sample.t_s > start_s:
            break
        if sample.up:
            last[sample.node] = sample
    return max((s for s in last.values() if s.writable), key=lambda s: s.t_s, default=None)


def _write_rto(writes: Writes, samples: Sequence[DbSample], window: FaultWindow | None,
               before: DbSample | None, after: DbSample | None,
               until_s: float) -> tuple[WriteRto | None, str]:
    if window is None:
        return None, "the fault never started (no fault_start event)"
    target = after or before
    if target is None:
        return None, ("no node was seen accepting writes around the fault (no db.jsonl "
                      "samples of a writable node)")
    requests = writes.requests.select(writes.requests.end_s < until_s)
    failed = requests.end_s[(requests.end_s >= window.start_s) & ~requests.ok]
    first_failure_s = float(failed.min()) if failed.size else math.inf
    promotions = [RoleSample(s.t_s, s.node, s.writable if s.up else None) for s in samples
                  if s.node == target.node]
    if after is None:
        # No failover: the old primary stayed or came back. Its recovery starts at the first
        # failed write; acks before that are the primary still serving, and "promote" is
        # when it took writes again after that failure (none if no write ever failed).
        if failed.size:
            requests = requests.select(~(requests.ok & (requests.end_s >= window.start_s)
                                         & (requests.end_s < first_failure_s)))
        promotions = [p for p in promotions if p.t_s >= first_failure_s]
    result = measure_write_rto(requests, promotions, fault_start_s=window.start_s,
                               new_primary=target.node, new_primary_region=target.region)
    if result.write_rto_s is None:
        return result, (f"never recovered: no write acknowledged by {target.node} "
                        f"({target.region}) after the fault")
    return result, ""


def _rpo(records: DatabaseRecords, window: FaultWindow | None, span: tuple[float, float],
         events: Sequence[Event], *, last: bool) -> tuple[Rpo | None, str]:
    audit = records.audit
    if window is None:
        return None, "the fault never started (no fault_start event)"
    if audit is None:
        said = next((str(e.detail.get("error")) for e in events
                     if e.kind == EventKind.DB_AUDIT and e.detail.get("error")), "")
        return None, ("no audit.json: the surviving primary was never audited, so no RPO can "
                      "be stated" + (f" (the audit said: {said})" if said else ""))
    if audit.error:
        return None, f"the audit of {audit.node or 'the surviving primary'} failed: {audit.error}"
    writes = records.writes
    if len(writes) == 0:
        return None, "no numbered writes were recorded (requests-writes.csv): nothing to audit"
    end_s, ok, seq = writes.requests.end_s, writes.requests.ok, writes.seq
    lo, hi = span
    in_span = (end_s >= lo) & (end_s < hi)
    acknowledged: dict[int, float] = {}
    for number, ack_s in zip(seq[in_span & ok].tolist(), end_s[in_span & ok].tolist(),
                             strict=True):
        acknowledged[number] = min(ack_s, acknowledged.get(number, math.inf))
    mine = set(seq[in_span].tolist())
    recorded = mine if in_span.all() else set(seq.tolist())
    # a present write the writer never recorded (it died mid-write) goes to the last scenario
    present = [n for n in audit.present if n in mine or (last and n not in recorded)]
    return measure_rpo(acknowledged, present, fault_start_s=window.start_s), ""


def _split_brain(samples: Sequence[DbSample], window: FaultWindow | None,
                 max_age_s: float) -> tuple[SplitBrain | None, str]:
    if not samples:
        return None, ("no db.jsonl samples in this scenario: no node's role was observed, "
                      "so split brain was not measured")
    first_s, last_s = samples[0].t_s, samples[-1].t_s
    if window is not None and (first_s > window.start_s or last_s < (window.end_s or
                                                                     window.start_s)):
        return None, (f"the role probe's samples (from {first_s:.3f} to {last_s:.3f}) do not "
                      "cover the fault window, so split brain was not measured")
    return measure_split_brain(_role_samples(samples), max_age_s=max_age_s), ""


def _role_samples(samples: Sequence[DbSample]) -> list[RoleSample]:
    return [RoleSample(s.t_s, s.node, s.writable if s.up else None) for s in samples]


def _spans(suite: Suite, events: Sequence[Event]) -> dict[str, tuple[float, float]]:
    """Each started scenario's part of the run (see the module docstring)."""
    starts = []
    for scenario in suite.scenarios:
        started = next((e.t_s for e in events if e.scenario == scenario.name
                        and e.kind in (EventKind.SCENARIO_START, EventKind.FAULT_START)), None)
        if started is not None:
            starts.append((started, scenario.name))
    starts.sort()
    return {name: (-math.inf if index == 0 else t_s,
                   starts[index + 1][0] if index + 1 < len(starts) else math.inf)
            for index, (t_s, name) in enumerate(starts)}


def _last_started(spans: dict[str, tuple[float, float]]) -> str | None:
    return next((name for name, (_, hi) in spans.items() if hi == math.inf), None)


def _sample_interval_s(samples: Sequence[DbSample]) -> float | None:
    by_node: dict[str, list[float]] = {}
    for sample in samples:
        by_node.setdefault(sample.node, []).append(sample.t_s)
    gaps = [b - a for times in by_node.values() for a, b in itertools.pairwise(times)]
    return statistics.median(gaps) if gaps else None


def _run_errors(records: DatabaseRecords, events: Sequence[Event]) -> tuple[str, ...]:
    errors = [f"the role probe failed: {e.detail.get('message') or 'no message'}"
              for e in events if e.kind == EventKind.DB_WATCH_FAILED]
    if not records.samples:
        errors.append("no db.jsonl samples: split brain, promotion and roles were not observed")
    if records.audit is None:
        errors.append("no audit.json: the surviving primary was never audited (no RPO)")
    elif records.audit.error:
        errors.append(f"the audit failed: {records.audit.error}")
    if len(records.writes) == 0:
        errors.append("no numbered writes in requests-writes.csv")
    return tuple(errors)


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
