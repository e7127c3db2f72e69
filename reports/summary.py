"""Everything a run's reports show, computed once from its folder; ``summary.json`` is its
machine-readable form (schema ``gameday.summary/1``, written by ``reports.summary_json``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from gameday.config import AvailabilitySlo, RtoSlo, Suite
from gameday.errors import MeasurementError
from gameday.measure import (
    BucketSli,
    DatabaseFigures,
    EdgeInterval,
    FaultWindow,
    GeneratorHealth,
    RequestArrays,
    Rto,
    RunSlis,
    SloResult,
    aggregate_slis,
    bucket_slis,
    edge_intervals,
    evaluate_slos,
    fault_windows,
    first_marked_down_s,
    generator_health,
    load_start_s,
    measure_database,
    scenario_rtos,
    warmup_end_s,
)
from gameday.measure.autoscaler_log import load_steps, offered_rates
from gameday.measure.autoscaling import AutoscalingFigures, autoscaling_figures, objectives_of
from gameday.measure.canary import first_canary_failure_s
from gameday.measure.coldstart import ColdStartFigures, cold_start_figures
from gameday.measure.cost import CostFigures, cost_figures
from gameday.measure.degraded import DegradedFigures, StoreLag, degraded_figures, store_lags
from gameday.measure.rag import RagFigures, rag_figures
from gameday.measure.release import ReleaseOutcome, release_outcomes
from gameday.measure.score import RunScore, ScenarioFacts, run_score
from gameday.measure.served import StackRequests
from gameday.measure.triton import TritonFigures, triton_figures
from gameday.measure.versions import VersionWindow, version_windows
from gameday.measure.waf import WafVerdicts, waf_verdicts
from gameday.measure.waf_log import EdgeRequests, read_waf_log
from gameday.records import Event, EventKind
from reports.baseline import BaselineResult
from reports.game_day import GameDay, game_day
from reports.incidents import Incidents, Interruption, RollbackFailure, find_incidents
from reports.run_folder import Journal, RunFolder
from reports.summary_json import SCHEMA, summary_document
from reports.verdict import Decision, decide

__all__ = ["MAX_CHART_BUCKETS", "SCHEMA", "ScenarioOutcome", "Summary", "iso_utc", "summarize"]

MAX_CHART_BUCKETS = 1500
RAG_BUCKET_S = 5.0  # a few answers a second: a 1 s mean or p99 of them would be noise
TRITON_BUCKET_S = 2.0  # the servers are scraped every second: two intervals a member a bucket
COST_BUCKET_S = 5.0  # Prometheus steps of 1 s: a 1 s bucket's CPU would be one interval's


@dataclass(frozen=True, slots=True)
class ScenarioOutcome:
    name: str
    target_region: str
    window: FaultWindow | None  # None: the fault never started
    journal: Journal
    rto: Rto | None
    started_s: float | None = None  # scenario_start: the experiment began
    ended_s: float | None = None  # scenario_end: the experiment returned
    deviated: bool | None = None  # the steady-state hypothesis after the method; None: unknown
    rollback_failure: RollbackFailure | None = None
    edge_down_s: float | None = None  # the edge marked a target-region server down, after start
    canary_failed_s: float | None = None  # a canary to the target region failed, after start

    @property
    def duration_s(self) -> float | None:
        """The experiment's run time, else its fault window's (None: it never ran)."""
        if self.started_s is not None and self.ended_s is not None:
            return max(0.0, self.ended_s - self.started_s)
        if self.window is not None and self.window.end_s is not None:
            return self.window.end_s - self.window.start_s
        return None


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
    incidents: Incidents
    edge: tuple[EdgeInterval, ...] | None = None  # None: the edge's view was not recorded
    database: DatabaseFigures | None = None  # None: not a database run
    rag: RagFigures | None = None  # None: the suite has no rag stack
    triton: TritonFigures | None = None  # None: no triton stack, or its servers unrecorded
    # per fault window, which model versions answered; None: no answer named a version
    versions: tuple[VersionWindow, ...] | None = None
    # what each model release scenario did (canary, blue-green, rollback); () when none ran
    releases: tuple[ReleaseOutcome, ...] = ()
    degraded: tuple[DegradedFigures, ...] = ()  # stacks other than rag (its own figures)
    store_lags: tuple[StoreLag, ...] = ()  # the feature store's regions, when it ran
    # model servers whose process started during the run; None: cold starts were not watched
    cold_starts: tuple[ColdStartFigures, ...] | None = None
    # resources and cost: always there, with the series it lacks named when metrics are missing
    cost: CostFigures | None = None
    # per upward load step, how the autoscaler answered; None: no autoscaling and no steps
    autoscaling: AutoscalingFigures | None = None
    # the resilience score (gameday.measure.score); None: not scored (no request)
    score: RunScore | None = None
    # a game day's hypothesis, operator actions and notes; None: a run without an operator
    game_day: GameDay | None = None
    # the run judged against a baseline run; None: no --baseline
    baseline: BaselineResult | None = None

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
    def interruption(self) -> Interruption | None:
        return self.incidents.interruption

    @property
    def started_at(self) -> str | None:
        return iso_utc(self.started_at_s)

    @property
    def ended_at(self) -> str | None:
        return iso_utc(self.ended_at_s)

    @property
    def duration_s(self) -> float | None:
        if self.started_at_s is None or self.ended_at_s is None:
            return None
        return max(0.0, self.ended_at_s - self.started_at_s)

    def to_json(self) -> dict[str, Any]:
        """The summary.json document: plain JSON types, None where a figure does not exist."""
        return summary_document(self)


def _waf_verdicts(folder: RunFolder) -> WafVerdicts | None:
    """The WAF's verdicts when a waf SLO asks for them (they read every request file again)."""
    if not any(slo.kind == "waf" for slo in folder.suite.slos):
        return None
    waf = folder.suite.edge.waf
    try:
        return waf_verdicts(EdgeRequests.read(folder.path), read_waf_log(folder.path),
                            mode=waf.mode, threshold=waf.inbound_anomaly_threshold)
    except ValueError as exc:
        raise MeasurementError(str(exc)) from None


def summarize(folder: RunFolder) -> Summary:
    suite, requests, events = folder.suite, folder.requests, folder.events
    first_s = float(requests.scheduled_s[0]) if len(requests) else None
    windows = fault_windows(events)
    warmup_s = warmup_end_s(events, first_s, suite.primary_load.warmup_s)
    health = generator_health(requests, suite.primary_load, events)
    chart_bucket_s = _chart_bucket_s(requests, suite.measurement.bucket_s)
    database = None if folder.database is None else measure_database(folder.database, suite,
                                                                     events)
    served = StackRequests(requests, folder.request_stacks) if folder.request_stacks is not None \
        else StackRequests.one_stack(requests, suite.primary_load.stack)
    span_s = _measured_span(requests, warmup_s, load_start_s(events, first_s))
    cost = cost_figures(folder.metrics, served, suite.prices, suite.stacks, windows,
                        from_s=span_s[0], to_s=span_s[1], origin_s=span_s[2],
                        bucket_s=max(chart_bucket_s, COST_BUCKET_S))
    slos = tuple(evaluate_slos(suite, requests, events, database, folder.answers, cost,
                               _waf_verdicts(folder)))
    incidents = find_incidents(events, folder.journals)
    rtos = scenario_rtos(requests, windows, suite)
    ended_at_s = _event_s(events, EventKind.RUN_END, _last_s(folder))
    edge = None if folder.edge is None else tuple(
        edge_intervals(folder.edge, ended_at_s if ended_at_s is not None else 0.0))
    return Summary(
        run_id=folder.path.name,
        suite=suite,
        decision=decide(incidents=incidents, requests=len(requests), health=health, slos=slos,
                        baseline=folder.baseline),
        started_at_s=_event_s(events, EventKind.RUN_START, first_s),
        ended_at_s=ended_at_s,
        load_start_s=load_start_s(events, first_s),
        warmup_end_s=warmup_s,
        data_end_s=float(requests.scheduled_s[-1]) if len(requests) else None,
        health=health,
        scenarios=(outcomes := _outcomes(folder, windows, rtos, incidents, edge or ())),
        slis=aggregate_slis(requests, windows, warmup_end_s=warmup_s),
        chart_bucket_s=chart_bucket_s,
        buckets=tuple(bucket_slis(requests, bucket_s=chart_bucket_s,
                                  origin_s=load_start_s(events, first_s))),
        slos=slos,
        incidents=incidents,
        edge=edge,
        database=database,
        rag=None if folder.answers is None else rag_figures(
            folder.answers, windows, warmup_end_s=warmup_s,
            origin_s=load_start_s(events, first_s) or 0.0,
            bucket_s=max(chart_bucket_s, RAG_BUCKET_S), ingests=folder.ingests),
        triton=None if folder.triton is None else triton_figures(
            folder.triton, windows, warmup_end_s=warmup_s,
            origin_s=load_start_s(events, first_s) or 0.0,
            bucket_s=max(chart_bucket_s, TRITON_BUCKET_S)),
        versions=_versions(requests, windows, suite.measurement.latency_slo_s),
        releases=_releases(folder, windows, ended_at_s),
        degraded=_degraded(folder, served, windows),
        store_lags=store_lags(folder.metrics.of("feature_materialized_s"), windows),
        cold_starts=None if folder.cold_starts is None else cold_start_figures(
            folder.cold_starts, requests),
        cost=cost,
        autoscaling=autoscaling_figures(
            folder.autoscaler, load_steps(events, suite.primary_load.stack),
            offered_rates(events, suite.primary_load.stack), folder.metrics, served,
            suite.stacks, objectives_of(suite.slos), to_s=span_s[1], origin_s=span_s[2],
            bucket_s=max(chart_bucket_s, COST_BUCKET_S)),
        score=run_score(_score_facts(suite, requests, outcomes, incidents), slos)
        if len(requests) else None,
        game_day=game_day(folder.operator, events, suite, incidents),
        baseline=folder.baseline,
    )


def _score_facts(suite: Suite, requests: RequestArrays, outcomes: Sequence[ScenarioOutcome],
                 incidents: Incidents) -> list[ScenarioFacts]:
    """What each scenario's score is made of (gameday.measure.score)."""
    target = next((slo.objective for slo in suite.slos if isinstance(slo, AvailabilitySlo)),
                  0.99)
    rto_limit_s = next((slo.threshold_s for slo in suite.slos if isinstance(slo, RtoSlo)), None)
    origin_s = float(requests.scheduled_s[0]) if len(requests) else 0.0
    facts = []
    for outcome in outcomes:
        window, rto = outcome.window, outcome.rto
        requests_n = failed = 0
        span = "(the fault never started)"
        if window is not None:
            start_s = window.injecting_from_s or window.start_s
            end_s = max(window.end_s or float(requests.scheduled_s[-1]),
                        rto.recovered_at_s if rto and rto.recovered_at_s else 0.0)
            chosen = (requests.scheduled_s >= start_s) & (requests.scheduled_s <= end_s)
            requests_n = int(np.count_nonzero(chosen))
            bad = requests.scheduled_s[chosen & ~requests.ok]
            failed = int(bad.size)
            span = f"between +{bad.min() - origin_s:.1f} s and +{bad.max() - origin_s:.1f} s " \
                f"(sent; fault +{start_s - origin_s:.1f} s to +{end_s - origin_s:.1f} s)" \
                if bad.size else f"from +{start_s - origin_s:.1f} s to +{end_s - origin_s:.1f} s"
        abort = incidents.abort_of(outcome.name)
        facts.append(ScenarioFacts(
            name=outcome.name, rto_s=rto.rto_s if rto else None,
            recovered=bool(rto and rto.recovered), rto_objective_s=rto_limit_s,
            stability_window_s=suite.measurement.stability_window_s, requests=requests_n,
            failed=failed, target=target, window=span, deviated=outcome.deviated,
            rollback_failed="" if outcome.rollback_failure is None
            else outcome.rollback_failure.describe(),
            aborted="" if abort is None else abort.reason,
            journal=f"journal-{outcome.name}.json"))
    return facts


def _degraded(folder: RunFolder, served: StackRequests,
              windows: Sequence[FaultWindow]) -> tuple[DegradedFigures, ...]:
    if folder.request_degraded is None:
        return ()
    settings = folder.suite.stack_settings()
    store_on = [stack for stack in folder.suite.stacks
                if isinstance(options := settings.get(stack), dict)
                and options.get("feature_store")]
    return degraded_figures(served.requests, served.stack, folder.request_degraded, windows,
                            always=store_on)


def _measured_span(requests: RequestArrays, warmup_s: float | None,
                   origin_s: float | None) -> tuple[float, float, float]:
    """(warm-up end, last scheduled send, load start): what cost and autoscaling measure."""
    if not len(requests):
        return (0.0, 0.0, 0.0)
    first_s, last_s = float(requests.scheduled_s[0]), float(requests.scheduled_s[-1])
    start_s = origin_s if origin_s is not None else first_s
    return (warmup_s if warmup_s is not None else first_s, last_s, start_s)


def _versions(requests: RequestArrays, windows: Sequence[FaultWindow],
              latency_slo_s: float) -> tuple[VersionWindow, ...] | None:
    if not windows or not np.any(requests.model_version != ""):
        return None
    return version_windows(requests.scheduled_s, requests.end_s, requests.ok, requests.region,
                           requests.model_version, windows, latency_slo_s=latency_slo_s)


def _releases(folder: RunFolder, windows: Sequence[FaultWindow],
              ended_at_s: float | None) -> tuple[ReleaseOutcome, ...]:
    timelines = {name: journal.releases for name, journal in folder.journals.items()
                 if journal.releases}
    if not timelines:
        return ()
    last_s = float(folder.requests.end_s.max()) if len(folder.requests) else 0.0
    # a release's effects end where its rollback begins: the rollback's own reloads are no mix
    window_ends = {w.scenario: w.rollback_from_s or w.end_s or ended_at_s or last_s
                   for w in windows}
    return tuple(release_outcomes(timelines, folder.requests, window_ends,
                                  latency_slo_s=folder.suite.measurement.latency_slo_s))


def _outcomes(folder: RunFolder, windows: list[FaultWindow], rtos: Mapping[str, Rto],
              incidents: Incidents, edge: Sequence[EdgeInterval]) -> tuple[ScenarioOutcome, ...]:
    first_window: dict[str, FaultWindow] = {}
    for each in windows:
        first_window.setdefault(each.scenario, each)
    outcomes = []
    for scenario in folder.suite.scenarios:
        window = first_window.get(scenario.name)
        journal = folder.journals.get(scenario.name, Journal("missing", None))
        region = (window.target_region if window else "") or scenario.target_region
        outcomes.append(ScenarioOutcome(
            name=scenario.name,
            target_region=region,
            window=window,
            journal=journal,
            rto=rtos.get(scenario.name),
            started_s=_event_s(folder.events, EventKind.SCENARIO_START, None, scenario.name),
            ended_s=_event_s(folder.events, EventKind.SCENARIO_END, None, scenario.name),
            deviated=True if scenario.name in incidents.deviated else _deviated(
                folder.events, scenario.name, journal),
            rollback_failure=incidents.rollback_failure(scenario.name),
            edge_down_s=None if window is None else first_marked_down_s(
                edge, region, window.start_s, window.end_s),
            canary_failed_s=None if window is None else first_canary_failure_s(
                folder.canaries, region, window.start_s, window.end_s),
        ))
    return tuple(outcomes)


def _deviated(events: Sequence[Event], scenario: str, journal: Journal) -> bool | None:
    """False when the log or the journal says the hypothesis held; None when neither says."""
    said = [e.detail.get("deviated") for e in events
            if e.kind == EventKind.SCENARIO_END and e.scenario == scenario]
    if False in said or journal.deviated is False:
        return False
    return None


def _chart_bucket_s(requests: RequestArrays, bucket_s: float) -> float:
    """A whole multiple of the suite's bucket, so that no chart has more than
    MAX_CHART_BUCKETS points however long the run."""
    if len(requests) < 2:
        return bucket_s
    span_s = float(requests.scheduled_s[-1] - requests.scheduled_s[0])
    return bucket_s * max(1, math.ceil(span_s / (bucket_s * MAX_CHART_BUCKETS)))


def _event_s(events: Sequence[Event], kind: str, fallback_s: float | None,
             scenario: str | None = None) -> float | None:
    return next((event.t_s for event in events if event.kind == kind
                 and (scenario is None or event.scenario == scenario)), fallback_s)


def _last_s(folder: RunFolder) -> float | None:
    candidates = [event.t_s for event in folder.events]
    if len(folder.requests):
        candidates.append(float(folder.requests.end_s.max()))
    return max(candidates) if candidates else None


def iso_utc(t_s: float | None) -> str | None:
    """ISO 8601 in UTC with milliseconds and a ``Z``; None stays None."""
    if t_s is None:
        return None
    moment = datetime.fromtimestamp(t_s, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
