"""A synthetic database run whose truth is known by construction, written with the real
writers (RecordWriter, JsonLines, write_audit, EventLog, suite.json from a real Suite).

The story (seconds since load start ``T0_S``): 1000 numbered writes, one every 10 ms, each
acknowledged 5 ms after its send. The primary pg-a (region-a) crashes at ``FAULT_S`` = 5 s;
the writes sent from 5.0 to 5.8 s fail; the standby pg-b (region-b) takes writes from its
probe sample at ``PROMOTED_S`` = 5.32 s; the writes from 5.8 s on are acknowledged by
region-b. The audit of pg-b misses ``LOST`` and holds ``UNKNOWN`` (sent, never acknowledged).
Variants: pg-a stays writable until ``OLD_PRIMARY_WRITABLE_UNTIL_S`` (split brain), no audit,
an audit that failed, Patroni mode.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from gameday.config import (
    DatabaseOptions,
    LoadProfile,
    RpoSlo,
    Scenario,
    SplitBrainSlo,
    Suite,
    WriteRtoSlo,
)
from gameday.dbrecords import (
    DB_FILE,
    REPLICATION_FILE,
    DbAudit,
    DbSample,
    JsonLines,
    ReplicationSample,
    write_audit,
)
from gameday.measure import DatabaseRecords, Writes
from gameday.records import Event, EventKind, EventLog, RecordWriter, RequestRecord

T0_S = 1_764_061_200.0
SCENARIO = "primary-crash"
WRITES = 1000
SPACING_S = 0.010
ACK_AFTER_S = 0.005
FAULT_S = 5.0
FAULT_END_S = 8.0
FIRST_NEW_ACK_SEND_S = 5.8  # sends from here on are acknowledged by the new primary
PROBE_EVERY_S = 0.1
PROBE_B_OFFSET_S = 0.02  # the probe asks pg-b just after pg-a
PROMOTED_S = 5.32  # pg-b's first sample taking writes (probe 53 + offset), 0.42 s after pg-a's
# last answer: sooner than an answer holds (0.5 s), so a silent pg-a must not count as writable
OLD_PRIMARY_WRITABLE_UNTIL_S = 7.0  # split-brain variant: pg-a's first read-only sample
LOST = (488, 490, 495)
UNKNOWN = (500,)
LAG_BYTES = 8192
LAG_SPIKE_BYTES = 65536  # the probe at 3.0 s
REPLAY_LAG_S = 0.002


@dataclass(frozen=True)
class Variant:
    split_brain: bool = False
    audit: str = "ok"  # ok | missing | error
    failover: str = "promote"  # promote | patroni
    max_lost: int = 3
    max_seconds: float = 0.2
    write_rto_threshold_s: float = 1.0
    degraded_from_s: float | None = None  # a first action (a slowed link) before the kill


def suite(variant: Variant = Variant()) -> Suite:
    return Suite(
        name="db-failover", stacks=["rag"],
        load=LoadProfile(target="database", stack="rag", endpoint="write", arrival="constant",
                         rate_per_s=1 / SPACING_S, duration_s=WRITES * SPACING_S, warmup_s=0.5),
        database=DatabaseOptions(failover=variant.failover),  # type: ignore[arg-type]
        scenarios=[Scenario(name=SCENARIO, experiment=Path("experiments/db.json"),
                            offset_s=4.0, target_region="region-a")],
        slos=[RpoSlo(kind="rpo", max_lost=variant.max_lost, max_seconds=variant.max_seconds),
              WriteRtoSlo(kind="write_rto", threshold_s=variant.write_rto_threshold_s),
              SplitBrainSlo(kind="split_brain")])


def writes() -> list[RequestRecord]:
    records = []
    for seq in range(WRITES):
        sent_s = T0_S + seq * SPACING_S
        offset_s = seq * SPACING_S
        failed = FAULT_S <= offset_s < FIRST_NEW_ACK_SEND_S - 1e-9
        region = "region-a" if offset_s < FAULT_S else "region-b"
        records.append(RequestRecord(
            scheduled_s=sent_s, start_s=sent_s, end_s=sent_s + ACK_AFTER_S, stack="rag",
            endpoint="write", region="" if failed else region, status=0, ok=not failed,
            error_kind="connection" if failed else "", seq=seq))
    return records


def ack_s(seq: int) -> float:
    return T0_S + seq * SPACING_S + ACK_AFTER_S


def acknowledged_seqs() -> list[int]:
    return [r.seq for r in writes() if r.ok and r.seq is not None]


def samples(variant: Variant = Variant()) -> list[DbSample]:
    rows = []
    for probe in range(round(WRITES * SPACING_S / PROBE_EVERY_S)):
        offset_s = probe * PROBE_EVERY_S
        rows.append(_pg_a(T0_S + offset_s, offset_s, variant))
        b_s = offset_s + PROBE_B_OFFSET_S
        promoted = b_s >= PROMOTED_S - 1e-9
        rows.append(DbSample(T0_S + b_s, "pg-b", "region-b", up=True, writable=promoted,
                             in_recovery=not promoted, lsn=1000 * probe,
                             timeline=2 if promoted else 1,
                             role="leader" if promoted else "replica"))
    return rows


def _pg_a(t_s: float, offset_s: float, variant: Variant) -> DbSample:
    if offset_s < FAULT_S - 1e-9:
        return DbSample(t_s, "pg-a", "region-a", up=True, writable=True, in_recovery=False,
                        lsn=1000 * round(offset_s * 10), timeline=1, role="leader")
    if variant.split_brain:  # cut off from its clients' peers, not from the probe
        writable = offset_s < OLD_PRIMARY_WRITABLE_UNTIL_S - 1e-9
        return DbSample(t_s, "pg-a", "region-a", up=True, writable=writable,
                        in_recovery=False, timeline=1, role="leader" if writable else "demoted")
    return DbSample(t_s, "pg-a", "region-a", up=False, writable=False,
                    error="connection refused")


def replication() -> list[ReplicationSample]:
    rows = []
    for probe in range(round(FAULT_S / PROBE_EVERY_S)):
        offset_s = probe * PROBE_EVERY_S
        lag = LAG_SPIKE_BYTES if probe == 30 else LAG_BYTES
        primary_lsn = 100_000 + 1000 * probe
        rows.append(ReplicationSample(T0_S + offset_s + 0.01, "pg-a", "pg-b", "streaming",
                                      "async", replay_lsn=primary_lsn - lag,
                                      primary_lsn=primary_lsn, replay_lag_s=REPLAY_LAG_S))
    return rows


def audit(variant: Variant = Variant()) -> DbAudit | None:
    if variant.audit == "missing":
        return None
    if variant.audit == "error":
        return DbAudit(T0_S + 10.5, "pg-b", "region-b", "gameday_writes",
                       error="connection refused")
    present = sorted({*acknowledged_seqs(), *UNKNOWN} - set(LOST))
    return DbAudit(T0_S + 10.5, "pg-b", "region-b", "gameday_writes", tuple(present))


def write_database_run(run_dir: Path, variant: Variant = Variant()) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    the_suite = suite(variant)
    (run_dir / "suite.json").write_text(json.dumps(the_suite.model_dump(mode="json")))
    with RecordWriter(run_dir / "requests-writes.csv") as writer:
        for record in writes():
            writer.write(record)
    JsonLines(run_dir / DB_FILE).append(samples(variant))
    JsonLines(run_dir / REPLICATION_FILE).append(replication())
    the_audit = audit(variant)
    if the_audit is not None:
        write_audit(run_dir, the_audit)
    log = EventLog(run_dir / "events.jsonl")
    for event in events(variant):
        log.emit(event.kind, event.scenario, t_s=event.t_s, **event.detail)
    (run_dir / f"journal-{SCENARIO}.json").write_text(json.dumps(
        {"status": "completed", "deviated": False, "rollbacks": [{"status": "succeeded"}]}))
    return run_dir


def events(variant: Variant = Variant()) -> list[Event]:
    def at(offset_s: float, kind: str, scenario: str = "", **detail: object) -> Event:
        return Event(T0_S + offset_s, kind, scenario, dict(detail))

    log = [at(-1.0, EventKind.RUN_START), at(0.0, EventKind.LOAD_START),
           at(0.5, EventKind.WARMUP_END), at(4.5, EventKind.SCENARIO_START, SCENARIO),
           at(FAULT_S if variant.degraded_from_s is None else variant.degraded_from_s,
              EventKind.FAULT_START, SCENARIO, target_region="region-a")]
    if variant.degraded_from_s is not None:
        log += [at(variant.degraded_from_s, EventKind.FAULT_ACTION, SCENARIO,
                   action="slow-replication", output={"fault": "db-replication-latency"}),
                at(FAULT_S, EventKind.FAULT_ACTION, SCENARIO, action="kill-primary",
                   output={"fault": "db-primary-kill-node", "primary_lost_s": T0_S + FAULT_S})]
    if variant.failover == "promote":
        log.append(at(5.30, EventKind.DB_PROMOTED, SCENARIO, node="pg-b", region="region-b",
                      reason="primary failed every probe for 0.3 s", took_s=0.04))
    the_audit = audit(variant)
    log += [at(FAULT_END_S, EventKind.FAULT_END, SCENARIO, target_region="region-a",
               rollbacks=["succeeded"]),
            at(8.5, EventKind.SCENARIO_END, SCENARIO, status="completed", deviated=False,
               rollbacks=["succeeded"]),
            at(WRITES * SPACING_S, EventKind.LOAD_END),
            at(10.5, EventKind.DB_AUDIT, node="pg-b",
               present=None if the_audit is None else len(the_audit.present),
               error="" if the_audit is not None else "audit never ran"),
            at(11.0, EventKind.RUN_END)]
    return log


def records(variant: Variant = Variant()) -> DatabaseRecords:
    """The same run as plain data, without a folder."""
    return DatabaseRecords(Writes.of(writes()), tuple(samples(variant)), tuple(replication()),
                           audit(variant))
