"""Everything a run's reports show, computed once from its folder; ``summary.json`` is its
machine-readable form (schema ``gameday.summary/1``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from gameday.config import Suite
from gameday.measure import (
    BucketSli,
    FaultWindow,
    GeneratorHealth,
    RequestArrays,
    Rto,
    RunSlis,
    SloResult,
    aggregate_slis,
    bucket_slis,
    evaluate_slos,
    fault_windows,
    generator_health,
    load_start_s,
    scenario_rtos,
    warmup_end_s,
)
from gameday.records import Event, EventKind
from reports.run_folder import Journal, RunFolder
from reports.verdict import Decision, decide

__all__ = ["MAX_CHART_BUCKETS", "SCHEMA", "ScenarioOutcome", "Summary", "summarize"]

SCHEMA = "gameday.summary/1"
MAX_CHART_BUCKETS = 1500


@dataclass(frozen=True, slots=True)
class ScenarioOutcome:
    name: str
    target_region: str
    window: FaultWindow | None  # None: the fault never started
    journal: Journal
    rto: Rto | None


@dataclass(frozen=True, slots=True)
class Summary:
    """The verdict and every figure behind it; ``exit_code`` is what ``gameday`` exits with."""

    run_id: str
    suite: Suite
    decision: Decision
    started_at_s: float | None
    ended_at_s: float | None
    load_start_s: float | None  # origin of the report's time axis
    warmup_end_s: float | None
    data_end_s: float | None  # last scheduled send: where an open fault window stops
    health: GeneratorHealth
    scenarios: tuple[ScenarioOutcome, ...]
    slis: RunSlis
    chart_bucket_s: float  # the suite's bucket, widened on long runs to keep the page small
    buckets: tuple[BucketSli, ...]
    slos: tuple[SloResult, ...]

    @property
    def verdict(self) -> str:
        return self.decision.verdict

    @property
    def exit_code(self) -> int:
        return self.decision.exit_code

    @property
    def reason(self) -> str:
        return self.decision.reason

    @property
    def started_at(self) -> str | None:
        return _iso_utc(self.started_at_s)

    @property
    def ended_at(self) -> str | None:
        return _iso_utc(self.ended_at_s)

    def to_json(self) -> dict[str, Any]:
        """The summary.json document: plain JSON types, None where a figure does not exist."""
        document = {
            "schema": SCHEMA,
            "run_id": self.run_id,
            "suite": self.suite.name,
            "platform": self.suite.platform,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "reason": self.reason,
            "load": _load_json(self.health),
            "timeline": {"load_start_s": self.load_start_s, "warmup_end_s": self.warmup_end_s,
                         "data_end_s": self.data_end_s},
            "scenarios": [_scenario_json(outcome) for outcome in self.scenarios],
            "slis": {
                "overall": asdict(self.slis.overall),
                "by_region": {region: asdict(agg) for region, agg in self.slis.by_region.items()},
                "outside_faults": asdict(self.slis.outside_faults),
                "during_faults": asdict(self.slis.during_faults),
            },
            "slos": [asdict(result) for result in self.slos],
        }
        cleaned: dict[str, Any] = _finite(document)
        return cleaned


def summarize(folder: RunFolder) -> Summary:
    suite, requests, events = folder.suite, folder.requests, folder.events
    first_s = float(requests.scheduled_s[0]) if len(requests) else None
    windows = fault_windows(events)
    warmup_s = warmup_end_s(events, first_s, suite.load.warmup_s)
    health = generator_health(requests, suite.load, events)
    chart_bucket_s = _chart_bucket_s(requests, suite.measurement.bucket_s)
    slos = tuple(evaluate_slos(suite, requests, events))
    decision = decide(
        harness_errors=[str(e.detail.get("message", "harness error (no message)"))
                        for e in events if e.kind == EventKind.HARNESS_ERROR],
        interrupted=any(e.kind == EventKind.INTERRUPTED for e in events),
        requests=len(requests), health=health, slos=slos)
    return Summary(
        run_id=folder.path.name,
        suite=suite,
        decision=decision,
        started_at_s=_event_s(events, EventKind.RUN_START, first_s),
        ended_at_s=_event_s(events, EventKind.RUN_END, _last_s(folder)),
        load_start_s=load_start_s(events, first_s),
        warmup_end_s=warmup_s,
        data_end_s=float(requests.scheduled_s[-1]) if len(requests) else None,
        health=health,
        scenarios=_outcomes(suite, windows, scenario_rtos(requests, windows, suite),
                            folder.journals),
        slis=aggregate_slis(requests, windows, warmup_end_s=warmup_s),
        chart_bucket_s=chart_bucket_s,
        buckets=tuple(bucket_slis(requests, bucket_s=chart_bucket_s)),
        slos=slos,
    )


def _outcomes(suite: Suite, windows: list[FaultWindow], rtos: Mapping[str, Rto],
              journals: Mapping[str, Journal]) -> tuple[ScenarioOutcome, ...]:
    first_window: dict[str, FaultWindow] = {}
    for each in windows:
        first_window.setdefault(each.scenario, each)
    outcomes = []
    for scenario in suite.scenarios:
        window = first_window.get(scenario.name)
        outcomes.append(ScenarioOutcome(
            name=scenario.name,
            target_region=(window.target_region if window else "") or scenario.target_region,
            window=window,
            journal=journals.get(scenario.name, Journal("missing", None)),
            rto=rtos.get(scenario.name),
        ))
    return tuple(outcomes)


def _chart_bucket_s(requests: RequestArrays, bucket_s: float) -> float:
    """A whole multiple of the suite's bucket, so that no chart has more than
    MAX_CHART_BUCKETS points however long the run."""
    if len(requests) < 2:
        return bucket_s
    span_s = float(requests.scheduled_s[-1] - requests.scheduled_s[0])
    return bucket_s * max(1, math.ceil(span_s / (bucket_s * MAX_CHART_BUCKETS)))


def _event_s(events: tuple[Event, ...], kind: str, fallback_s: float | None) -> float | None:
    return next((event.t_s for event in events if event.kind == kind), fallback_s)


def _last_s(folder: RunFolder) -> float | None:
    candidates = [event.t_s for event in folder.events]
    if len(folder.requests):
        candidates.append(float(folder.requests.end_s.max()))
    return max(candidates) if candidates else None


def _iso_utc(t_s: float | None) -> str | None:
    if t_s is None:
        return None
    moment = datetime.fromtimestamp(t_s, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


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


def _scenario_json(outcome: ScenarioOutcome) -> dict[str, Any]:
    rto = outcome.rto
    return {
        "name": outcome.name,
        "target_region": outcome.target_region,
        "fault_start_s": outcome.window.start_s if outcome.window else None,
        "fault_end_s": outcome.window.end_s if outcome.window else None,
        "journal_status": outcome.journal.status,
        "journal_deviated": outcome.journal.deviated,
        "rto": asdict(rto) if rto else {"rto_s": None, "detect_s": None, "failover_s": None,
                                        "recovered": False, "resolution_s": None},
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
