"""The database part of ``summary.json``: a run-wide ``database`` section (failover mode,
facts, measurement errors, split brain over the whole run, the audit) and a ``database``
section in each scenario (RPO, write RTO, split brain, replication lag, role changes).

Every key is always there; a figure that could not be measured is null with ``error``
saying why. Times are epoch seconds like the rest of the document, except ``*since_fault_s``.
"""

from __future__ import annotations

from typing import Any

from gameday.measure import DatabaseFigures, RoleChange, ScenarioDatabase, SplitBrain

__all__ = ["MAX_LISTED_SEQS", "database_json", "scenario_database_json"]

MAX_LISTED_SEQS = 100  # lost_seqs / unknown_seqs list the first ones; the counts are exact


def database_json(figures: DatabaseFigures | None) -> dict[str, Any] | None:
    if figures is None:
        return None
    audit = figures.audit
    return {
        "failover": figures.failover,
        "replication": figures.replication_mode,
        "synchronous_commit": figures.synchronous_commit,
        "patroni_ttl_s": figures.patroni_ttl_s,
        "facts": list(figures.facts),
        "errors": list(figures.errors),
        "writes": len(figures.writes),
        "sample_interval_s": figures.sample_interval_s,
        "sample_max_age_s": figures.sample_max_age_s,
        "split_brain": _split_brain(figures.split_brain, "" if figures.split_brain else
                                    "no db.jsonl samples"),
        "audit": None if audit is None else {
            "t_s": audit.t_s, "node": audit.node, "region": audit.region,
            "table": audit.table, "present": len(audit.present), "error": audit.error or None},
    }


def scenario_database_json(figures: DatabaseFigures | None,
                           scenario: str) -> dict[str, Any] | None:
    each = None if figures is None else figures.scenario(scenario)
    if figures is None or each is None:
        return None
    start_s = each.window.start_s if each.window else None
    return {
        "failover": figures.failover,
        "replication": figures.replication_mode,
        "primary_before": each.primary_before,
        "new_primary": each.new_primary,
        "new_primary_region": each.new_primary_region or None,
        "failed_over": each.failed_over,
        "rpo": _rpo(each),
        "write_rto": _write_rto(each),
        "split_brain": _split_brain(each.split_brain, each.split_brain_error),
        "replication_lag": {
            "max_lag_bytes": each.replication.max_lag_bytes,
            "max_replay_lag_s": each.replication.max_replay_lag_s,
            "lag_bytes_at_fault": each.replication.lag_bytes_at_fault,
            "replay_lag_s_at_fault": each.replication.replay_lag_s_at_fault},
        "roles": [_role(change, start_s) for change in each.roles],
        "promotions": [{"t_s": p.t_s, "node": p.node, "region": p.region, "took_s": p.took_s}
                       for p in each.promotions],
    }


def _rpo(each: ScenarioDatabase) -> dict[str, Any]:
    rpo = each.rpo
    if rpo is None:
        return {"measured": False, "error": each.rpo_error, "lost": None, "lost_seqs": [],
                "unknown": None, "unknown_seqs": [], "acknowledged": None, "present": None,
                "rpo_s": None, "oldest_lost_ack_s": None, "lost_after_fault": None}
    return {"measured": True, "error": None, "lost": rpo.lost_count,
            "lost_seqs": list(rpo.lost[:MAX_LISTED_SEQS]), "unknown": len(rpo.unknown),
            "unknown_seqs": list(rpo.unknown[:MAX_LISTED_SEQS]),
            "acknowledged": rpo.acknowledged, "present": rpo.present, "rpo_s": rpo.rpo_s,
            "oldest_lost_ack_s": rpo.oldest_lost_ack_s,
            "lost_after_fault": rpo.lost_after_fault}


def _write_rto(each: ScenarioDatabase) -> dict[str, Any]:
    rto = each.write_rto
    return {"measured": rto is not None and rto.write_rto_s is not None,
            "error": each.write_rto_error or None,
            "write_rto_s": None if rto is None else rto.write_rto_s,
            "detect_s": None if rto is None else rto.detect_s,
            "promote_s": None if rto is None else rto.promote_s,
            "failed_writes": None if rto is None else rto.failed_writes,
            "new_primary": each.new_primary}


def _split_brain(brain: SplitBrain | None, error: str) -> dict[str, Any]:
    if brain is None:
        return {"measured": False, "error": error, "happened": None, "windows": [],
                "seconds": None, "unobserved_s": None}
    return {"measured": True, "error": None, "happened": brain.happened,
            "windows": [{"start_s": w.start_s, "end_s": w.end_s, "duration_s": w.duration_s,
                         "nodes": list(w.nodes)} for w in brain.windows],
            "seconds": brain.seconds, "unobserved_s": brain.unobserved_s}


def _role(change: RoleChange, start_s: float | None) -> dict[str, Any]:
    return {"t_s": change.t_s,
            "since_fault_s": None if start_s is None else change.t_s - start_s,
            "node": change.node, "region": change.region, "state": change.state,
            "role": change.role, "timeline": change.timeline,
            "previous_state": change.previous_state, "previous_role": change.previous_role}
