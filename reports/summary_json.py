"""``summary.json`` (schema ``gameday.summary/1``): the summary as plain JSON types, None where
a figure does not exist (JSON has no NaN). New keys are added, never renamed."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from gameday.measure import DatabaseFigures, GeneratorHealth
from reports.database_json import database_json, scenario_database_json

if TYPE_CHECKING:
    from reports.drift import DriftSection
    from reports.edge_section import EdgeFigures
    from reports.summary import ScenarioOutcome, Summary

__all__ = ["SCHEMA", "summary_document"]

SCHEMA = "gameday.summary/1"


def summary_document(summary: Summary, edge: EdgeFigures | None = None,
                     drift: DriftSection | None = None) -> dict[str, Any]:
    """``edge``: the edge section's figures (``reports.edge_section``), under
    ``edge_figures`` (``edge`` holds the edge's server intervals, kept as it was); ``drift``:
    the input-drift section's (``reports.drift``), under ``drift``."""
    incidents = summary.incidents
    interruption = summary.interruption
    document = {
        "schema": SCHEMA,
        "run_id": summary.run_id,
        "suite": summary.suite.name,
        "platform": summary.suite.platform,
        "started_at": summary.started_at,
        "ended_at": summary.ended_at,
        "verdict": summary.verdict,
        "exit_code": summary.exit_code,
        "reason": summary.reason,
        "interrupted": None if interruption is None else asdict(interruption),
        "harness_errors": list(incidents.harness_errors),
        "rollback_failures": [asdict(failure) for failure in incidents.rollback_failures],
        "load": _load_json(summary.health),
        "timeline": {"load_start_s": summary.load_start_s,
                     "warmup_end_s": summary.warmup_end_s, "data_end_s": summary.data_end_s},
        "scenarios": [_scenario_json(outcome, summary.database)
                      for outcome in summary.scenarios],
        "slis": {
            "overall": asdict(summary.slis.overall),
            "by_region": {region: asdict(agg) for region, agg in summary.slis.by_region.items()},
            "outside_faults": asdict(summary.slis.outside_faults),
            "during_faults": asdict(summary.slis.during_faults),
        },
        "slos": [asdict(result) for result in summary.slos],
        "edge": None if summary.edge is None else [asdict(i) for i in summary.edge],
        "edge_figures": None if edge is None else asdict(edge),
        "drift": None if drift is None else asdict(drift.figures),
        "database": database_json(summary.database),
        "rag": None if summary.rag is None else asdict(summary.rag),
        "triton": None if summary.triton is None else asdict(summary.triton),
        "versions": None if summary.versions is None else [asdict(w) for w in summary.versions],
        "releases": [asdict(release) for release in summary.releases],
        "degraded": [asdict(figures) for figures in summary.degraded],
        "feature_store_lag": [{"region": lag.region, "max_by_scenario": lag.max_by_scenario,
                               "max_s": max(lag.lag_s, default=None)}
                              for lag in summary.store_lags],
        "cold_starts": None if summary.cold_starts is None
        else [asdict(start) for start in summary.cold_starts],
        "cost": None if summary.cost is None else asdict(summary.cost),
        "autoscaling": None if summary.autoscaling is None else asdict(summary.autoscaling),
        "score": None if summary.score is None else asdict(summary.score),
        "game_day": None if summary.game_day is None else _game_day_json(summary),
        "baseline": None if summary.baseline is None else summary.baseline.as_json(),
    }
    cleaned: dict[str, Any] = _finite(document)
    return cleaned


def _game_day_json(summary: Summary) -> dict[str, Any]:
    """The hypothesis, every operator action (t_s, action, scenario, text) and the harness's
    steps beside them, the scenarios rolled back by the operator and those not run."""
    day = summary.game_day
    assert day is not None
    return {"hypothesis": day.hypothesis,
            "actions": [{"t_s": e.t_s, "action": e.what, "scenario": e.scenario, "text": e.text}
                        for e in day.actions],
            "notes": list(day.notes),
            "timeline": [asdict(entry) for entry in day.timeline],
            "rolled_back_by_operator": [asdict(abort) for abort in day.rolled_back],
            "not_run": [asdict(item) for item in day.not_run],
            "not_started": list(day.not_started)}


def _load_json(health: GeneratorHealth) -> dict[str, Any]:
    return {
        "target_rate_per_s": health.target_rate_per_s,
        "scheduled_rate_per_s": health.scheduled_rate_per_s,
        "achieved_rate_per_s": health.achieved_rate_per_s,
        "requests": health.requests,
        "ok": health.ok,
        "schedule_lag_p50_s": health.lag_p50_s,
        "schedule_lag_p99_s": health.lag_p99_s,
        "schedule_lag_max_s": health.lag_max_s,
        "lag_bound_s": health.lag_bound_s,
        "late_sends": health.late_sends,
        "late_fraction": health.late_fraction,
        "saturated": health.saturated,
        "saturated_why": health.why,
        "flagged_saturated_live": health.flagged_live,
    }


def _scenario_json(outcome: ScenarioOutcome, database: DatabaseFigures | None
                   ) -> dict[str, Any]:
    rto = outcome.rto
    failure = outcome.rollback_failure
    return {
        "name": outcome.name,
        "target_region": outcome.target_region,
        "started_s": outcome.started_s,
        "ended_s": outcome.ended_s,
        "fault_start_s": outcome.window.start_s if outcome.window else None,
        "fault_end_s": outcome.window.end_s if outcome.window else None,
        "journal_status": outcome.journal.status,
        "journal_deviated": outcome.journal.deviated,
        "steady_state_deviated": outcome.deviated,
        "rollback_failure": None if failure is None else asdict(failure),
        "edge_marked_down_s": outcome.edge_down_s,
        "canary_failed_s": outcome.canary_failed_s,
        "rto": asdict(rto) if rto else {"rto_s": None, "detect_s": None, "failover_s": None,
                                        "recovered": False, "resolution_s": None},
        "database": scenario_database_json(database, outcome.name),
    }


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: those become None, everywhere in the document."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
