"""Orchestrates one suite run: stand-up, load, scenarios at their offsets (or when a trigger
says: ``gameday.triggers``), collection, verdict.

Every step writes into the run folder as it happens (``gameday.records``), so whatever stops the
run — an SLO breach, a harness failure, Ctrl-C — the folder holds what happened, every injected
fault is rolled back, the load is stopped and a (partial) report can be written.

How a run ends, as the event log says it (the report builder reads these):

- SIGINT or SIGTERM at any phase, or a load generator stopped before the end of its schedule:
  ``interrupted`` (reason, phase), then ``RunInterrupted`` — exit 2;
- a load generator that crashed, a fault that was not injected, any other harness failure:
  ``harness_error``, then a ``GamedayError`` — exit 2;
- a rollback that failed, or left a fault the harness had to undo: ``rollback_failed``
  (still_injected, message), then a ``FaultError`` — exit 2;
- a steady-state hypothesis that deviated: ``scenario_end`` with ``deviated: true`` (the report
  fails that scenario, exit 1) and the run goes on;
- a scenario aborted (a stop condition, or the operator's rollback: condition ``operator``):
  ``scenario_aborted``, its rollbacks played, and the run goes on;
- a scenario whose trigger had not come when the primary load's schedule ended:
  ``scenario_not_run`` for it and each one after it (detail ``reason`` and ``trigger``), and
  the run goes on to its end.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaoslib.types import Experiment, Journal

from gameday import safeguards
from gameday.autoscaler import Autoscaler, start_autoscalers
from gameday.config import LoadProfile, Scenario, Suite
from gameday.dbrecords import WRITES_GENERATOR
from gameday.dbrun import DatabaseRun, run_key_of
from gameday.edgewatch import EdgeWatch, save_waf_log, settle_bound_s
from gameday.errors import GamedayError, LoadError, PlatformError
from gameday.experiment import FaultWindowRecorder, run_scenario
from gameday.hpawatch import HpaWatch
from gameday.interrupts import NOWHERE, StopSignals
from gameday.load.plan import LoadPlan
from gameday.load.process import LoadEnd, LoadProcess
from gameday.load.writer import WritePlan
from gameday.metrics import save_snapshot
from gameday.modelwatches import start_model_watches
from gameday.operator_log import OPERATOR_CONDITION
from gameday.platforms import open_platform
from gameday.platforms.base import (
    EdgeEntry,
    EdgeObserver,
    MetricsSource,
    Platform,
    Progress,
    StackRequest,
)
from gameday.poller import Poller
from gameday.preflight import Checked, check_suite
from gameday.records import EVENTS_FILE, EventKind, EventLog
from gameday.rollbacks import RollbackAudit
from gameday.triggers import AbortWindow, AtOffsets, Schedule, Trigger, sleep_until

__all__ = ["HarnessCrash", "RunInterrupted", "RunOutcome", "new_run_dir", "run_suite"]

_LOAD_START_LEAD_S = 2.0
_WORKERS_START_LEAD_S = 5.0  # a Locust master and its workers take ~3.5 s to join
_LOAD_END_MARGIN_S = 120.0
# a load's target -> the edge entry its requests go to
_ENTRIES: dict[str, EdgeEntry] = {"edge": "edge", "edge-no-waf": "edge-no-waf"}


class RunInterrupted(GamedayError):
    """SIGINT or SIGTERM arrived during the run, or its load stopped before its schedule's end."""


class HarnessCrash(GamedayError):
    """A bug in the harness stopped the run; the run folder and clean-up still happened."""


@dataclass(frozen=True)
class RunOutcome:
    run_dir: Path
    owned_platform: bool


def new_run_dir(runs_root: Path, suite_name: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = runs_root / f"{stamp}-{suite_name}"
    suffix = 1
    while run_dir.exists():
        suffix += 1
        run_dir = runs_root / f"{stamp}-{suite_name}-{suffix}"
    run_dir.mkdir(parents=True)
    return run_dir


def run_suite(suite: Suite, run_dir: Path, *, progress: Progress, home: Path,
              trigger: Trigger | None = None, stops: StopSignals | None = None) -> RunOutcome:
    """Run ``suite`` into ``run_dir`` on the platform at ``home``. Raises RunInterrupted or
    another GamedayError after cleaning up; the caller builds the report either way.

    ``trigger`` says when each scenario starts (default: at its offset); ``stops`` is the
    run's stop handler when the caller needs to hold it too (an operator's console), else
    the run makes its own. Either way it is installed here and stays installed.

    Everything the suite names is checked first (``check_suite``), before anything starts.
    SIGINT/SIGTERM are handled from then on, and stay handled after this returns: the report
    the caller builds next is the run's last phase, and a signal during it logs
    ``interrupted`` (phase ``report``) and exits 2 at once.
    """
    checked = check_suite(suite)
    platform = open_platform(suite.platform, home)
    stops = stops or StopSignals()
    stops.install()
    run = _Run(checked, platform, run_dir, progress, stops, trigger or AtOffsets(progress))
    try:
        run.execute()
    finally:
        stops.after_run(_ReportPhase(run_dir, interrupted=run.interrupted_logged))
    late = stops.requested
    if late is not None and not run.interrupted_logged:
        # a stop that came during the clean-up, after the run had decided how it ended: the
        # run still received it, so it is interrupted (seen: SIGINT just after run_end gave
        # exit 0 in a clean-clone CI run)
        run.events.emit(EventKind.INTERRUPTED, reason=late.reason, phase=late.phase or "clean-up")
        raise RunInterrupted(f"{late.reason} during the clean-up")
    return RunOutcome(run_dir=run_dir, owned_platform=run.owned)


class _ReportPhase:
    """After the run: a signal while the caller builds the report ends the process with 2."""

    def __init__(self, run_dir: Path, *, interrupted: bool) -> None:
        self.run_dir = run_dir
        self.interrupted = interrupted

    def __call__(self, reason: str) -> None:
        if not self.interrupted:
            self.interrupted = True
            # a log of its own: the run's EventLog lock may be held where the signal landed
            EventLog(self.run_dir / EVENTS_FILE).emit(EventKind.INTERRUPTED, reason=reason,
                                                      phase="report")
        os.write(sys.stderr.fileno(), f"\ninterrupted ({reason}) while writing the report; "
                 f"rebuild it with: gameday report {self.run_dir}\n".encode())
        raise SystemExit(2)


class _Run:
    """One run's state as it goes: what it owns, what runs, how it ends."""

    def __init__(self, checked: Checked, platform: Platform, run_dir: Path,
                 progress: Progress, stops: StopSignals, trigger: Trigger) -> None:
        self.suite = checked.suite
        self.trigger = trigger
        self.experiments = checked.experiments
        self.platform = platform
        self.run_dir = run_dir
        self.progress = progress
        self.stops = stops
        self.events = EventLog(run_dir / EVENTS_FILE)
        self.owned = False
        self.loads: list[LoadProcess] = []
        self.edge: EdgeWatch | None = None
        self.model_watches: list[Poller] = []  # the Triton metrics, cold starts
        self.autoscalers: list[Autoscaler | HpaWatch] = []
        self.database: DatabaseRun | None = None
        self.scenario = ""
        self.started_s = time.time()
        self.interrupted_logged = False
        self.by_operator = False  # the scenario just run was rolled back by the operator
        self.rollbacks = RollbackAudit(platform, self.events)

    # -- the run --------------------------------------------------------------------------
    def execute(self) -> None:
        (self.run_dir / "suite.json").write_text(self.suite.model_dump_json(indent=2))
        self.events.emit(EventKind.RUN_START, suite=self.suite.name, platform=self.platform.name)
        failure: Exception | None = None
        try:
            try:
                self._stand_up()
                self._load_and_scenarios()
            finally:
                self.stops.enter("clean-up", NOWHERE)
        except KeyboardInterrupt:
            pass  # the stop request says why
        except Exception as exc:
            failure = exc
        error = self._ending(failure)  # logged before the clean-up, which may take a while
        problems = self._clean_up()
        if error is None and self.stops.requested is not None:
            error = self._ending(None)  # a signal during the clean-up
        for problem in problems:
            self.events.emit(EventKind.HARNESS_ERROR, message=f"clean-up: {problem}")
            self.progress(f"clean-up problem: {problem}")
        self.events.emit(EventKind.RUN_END)
        if self.rollbacks.failure is not None:
            raise self.rollbacks.failure
        if error is not None:
            raise error
        if problems:
            raise PlatformError(f"clean-up: {problems[0]}")

    def _stand_up(self) -> None:
        self.stops.enter("stand-up")
        if self.platform.is_up():
            self.progress("platform already up: using it (faults reset first)")
            for undone in self.platform.reset_faults():
                self.progress(f"  {undone}")
            return
        self.progress(f"standing up the {self.platform.name} platform")
        self.owned = True  # before up(): a stand-up cut short is torn down too
        self.platform.up(StackRequest(stacks=tuple(self.suite.stacks),
                                      replicas=self.suite.replicas,
                                      edge=self.suite.edge,
                                      settings=self.suite.stack_settings()),
                         progress=self.progress, tie_to_caller=True)

    def _load_and_scenarios(self) -> None:
        self.stops.enter("warm-up")
        self._watch_database()
        loads = self._start_loads()
        t0_s = min(load.wait_started(timeout_s=60) for load in loads)
        self._watch_edge()
        self.model_watches = start_model_watches(self.suite, self.platform, self.run_dir)
        self.autoscalers = start_autoscalers(self.suite.autoscaling, self.platform,
                                             self.run_dir)
        for profile in self.suite.load:
            self.progress(f"load {profile.generator}: {profile.rate_per_s:g} req/s "
                          f"{profile.arrival} for {profile.warmup_s:g}+{profile.duration_s:g} s")
        primary = self.suite.primary_load
        schedule = Schedule(warmup_end_s=t0_s + primary.warmup_s,
                            load_end_s=t0_s + primary.warmup_s + primary.duration_s)
        sleep_until(schedule.warmup_end_s)
        for index, scenario in enumerate(self.suite.scenarios):
            self.stops.enter("before-fault")
            if not self.trigger.wait_for_next(scenario, schedule):
                self._not_run(self.suite.scenarios[index:])
                break
            self._run_scenario(scenario, self.experiments[scenario.name])
            self.scenario = ""
        self.stops.enter("after-fault")
        for load, profile in zip(loads, self.suite.load, strict=True):
            end = load.wait_end(timeout_s=profile.warmup_s + profile.duration_s
                                + _LOAD_END_MARGIN_S)
            self._judge_load(end)
        self._settle_edge()

    def _start_loads(self) -> list[LoadProcess]:
        """Every load profile in a generator of its own, all due at one start."""
        lead_s = _WORKERS_START_LEAD_S if any(p.workers > 1 for p in self.suite.load) \
            else _LOAD_START_LEAD_S
        start_at_s = time.time() + lead_s
        for profile in self.suite.load:
            load = LoadProcess.start(self._plan(profile, start_at_s), self.run_dir,
                                     name=self._generator_name(profile))
            self.loads.append(load)
            self.stops.on_stop(load.request_stop)  # it drains while the run rolls back
            load.watch(self._load_ended_early)
        return self.loads

    def _plan(self, profile: LoadProfile, start_at_s: float) -> LoadPlan | WritePlan:
        if profile.target == "database":
            assert self.database is not None
            return WritePlan.from_profile(profile, self.database.info, start_at_s,
                                          table=self.database.table)
        followed = [p for p in self.suite.load if p.generator == profile.follows]
        return LoadPlan.from_profile(
            profile, self.platform.edge_url(profile.stack, entry=_ENTRIES[profile.target]),
            start_at_s=start_at_s,
            run_key=run_key_of(self.run_dir), documents=self.suite.rag.documents,
            k=self.suite.rag.top_k,
            follow_rate_per_s=followed[0].rate_per_s if followed else 0.0)

    def _generator_name(self, profile: LoadProfile) -> str:
        if len(self.suite.load) > 1:
            return profile.generator
        return WRITES_GENERATOR if profile.target == "database" else "gen0"

    def _watch_database(self) -> None:
        if self.suite.ledger_load is not None:
            self.database = DatabaseRun(self.suite, self.platform, self.run_dir, self.events,
                                        self.progress)
            self.database.start()

    def _watch_edge(self) -> None:
        if isinstance(self.platform, EdgeObserver):
            self.edge = EdgeWatch(self.platform, self.run_dir, self.events)
            self.edge.start()

    def _settle_edge(self) -> None:
        """A rollback that ended with the load leaves the edge a moment to re-admit what it
        restored, so the edge view ends as the edge really is; a server it kept down is said."""
        if self.edge is None:
            return
        waited_s = settle_bound_s(self.suite.edge.health)
        down = self.edge.settle(waited_s)
        if down:
            self.events.emit(EventKind.EDGE_UNSETTLED, servers=down, waited_s=waited_s)
            self.progress(f"edge: still down {waited_s:g} s after the load ended: "
                          f"{', '.join(down)}")

    def _load_ended_early(self, end: LoadEnd) -> None:
        kind = "load-stopped" if end.code == 0 and end.stopped_by else "load-failed"
        self.stops.request(f"the load generator {end.describe()}", kind)

    def _judge_load(self, end: LoadEnd) -> None:
        if end.completed:
            return
        kind = "load-stopped" if end.code == 0 and end.stopped_by else "load-failed"
        self.stops.request(f"the load generator {end.describe()}", kind)
        self.stops.check()

    def _not_run(self, scenarios: list[Scenario]) -> None:
        for scenario in scenarios:
            self.events.emit(EventKind.SCENARIO_NOT_RUN, scenario.name,
                             reason=self.trigger.not_run_reason, trigger=self.trigger.name)
            self.progress(f"scenario {scenario.name}: not run ({self.trigger.not_run_reason})")

    # -- one scenario ---------------------------------------------------------------------
    def _run_scenario(self, scenario: Scenario, experiment: Experiment) -> None:
        self.stops.enter("fault")
        self.scenario = scenario.name
        self.events.emit(EventKind.SCENARIO_START, scenario.name,
                         experiment=str(scenario.experiment),
                         target_region=scenario.target_region)
        recorder = FaultWindowRecorder(self.events, scenario.name, scenario.target_region)
        configuration = {**self.platform.experiment_configuration(),
                         "gameday_region": scenario.target_region, **scenario.configuration}
        conditions = safeguards.resolve(self.suite, scenario)
        if conditions:
            experiment = {**experiment, "controls": [
                *(experiment.get("controls") or []),
                safeguards.control(self.run_dir, conditions)]}
            self.progress(f"scenario {scenario.name}: stop conditions "
                          f"{', '.join(c['name'] for c in conditions)}")
        window = self.trigger if isinstance(self.trigger, AbortWindow) else None
        if window is not None:
            # no interrupt may be raised until run_scenario has put chaoslib's policy in
            # place: an abort meanwhile waits for the nudger, which re-delivers it there
            self.stops.enter("fault", NOWHERE)
            window.open_window(scenario.name, lambda: recorder.phase != "rollbacks")
        try:
            with safeguards.abort_with(self.stops.abort):
                journal = run_scenario(experiment, recorder=recorder,
                                       configuration=configuration,
                                       journal_path=self.run_dir / f"journal-{scenario.name}.json",
                                       stops=self.stops)
        finally:
            # before clear_abort: an abort sent through the window has reached the handler
            self.by_operator = window.close_window() if window is not None else False
        rollbacks = [run.get("status") for run in journal.get("rollbacks") or []]
        self.events.emit(EventKind.SCENARIO_END, scenario.name, status=journal.get("status"),
                         deviated=journal.get("deviated"), rollbacks=rollbacks)
        self.progress(f"scenario {scenario.name}: {journal.get('status')}"
                      f"{' (deviated)' if journal.get('deviated') else ''}")
        self._judge_scenario(scenario, journal, recorder)

    def _judge_scenario(self, scenario: Scenario, journal: Journal,
                        recorder: FaultWindowRecorder) -> None:
        self.rollbacks.after_scenario(scenario.name, journal)  # no interrupt can cut it short
        aborted = self.stops.clear_abort()
        self.stops.enter("fault")  # a stop that came during the rollbacks is raised here
        if aborted is not None:
            stop = journal.get("gameday_stop") or {}
            condition = OPERATOR_CONDITION if self.by_operator else stop.get("condition", "")
            self.events.emit(EventKind.SCENARIO_ABORTED, scenario.name, reason=aborted.reason,
                             at_s=aborted.at_s if self.by_operator
                             else stop.get("at_s", aborted.at_s),
                             condition=condition, journal_status=journal.get("status"))
            self.progress(f"scenario {scenario.name}: ABORTED by {aborted.reason}; its fault "
                          "was rolled back")
            return
        if journal.get("status") == "interrupted":
            raise RunInterrupted(f"scenario {scenario.name} was interrupted "
                                 "(the journal's status is interrupted)")
        if recorder.fault_failed or not recorder.fault_started:
            why = recorder.fault_failed or _not_injected_why(journal)
            raise PlatformError(f"scenario {scenario.name}: the fault was not injected: {why}")

    # -- the end --------------------------------------------------------------------------
    def _ending(self, failure: Exception | None) -> GamedayError | None:
        """What the run ends with, logged: interrupted, a harness error, or None (it ran)."""
        request = self.stops.requested
        if request is not None and request.kind == "load-failed":
            # the generator crashed: nothing more was measured, and the harness is to blame
            logs = ", ".join(str(load.log_path) for load in self.loads) or str(self.run_dir)
            failure = LoadError(f"{request.reason}; see {logs}")
        elif request is not None or isinstance(failure, RunInterrupted):
            reason = request.reason if request is not None else str(failure)
            phase = request.phase if request is not None else self.stops.phase_name
            self._log_interrupted(reason, phase, failure,
                                  request.at_s if request is not None else None)
            return RunInterrupted(f"interrupted: {reason} during {phase}")
        if failure is None:
            return None
        if failure is self.rollbacks.failure:
            return failure  # logged as rollback_failed
        if not isinstance(failure, GamedayError):
            message = f"internal error: {type(failure).__name__}: {failure}"
            crash = HarnessCrash(message)
            crash.__cause__ = failure
            failure = crash
        self.events.emit(EventKind.HARNESS_ERROR, message=str(failure))
        return failure

    def _log_interrupted(self, reason: str, phase: str, failure: Exception | None,
                         requested_s: float | None) -> None:
        # logged once the phase let go (after chaoslib's rollbacks): requested_s says when
        # the stop came
        detail: dict[str, Any] = {"reason": reason, "phase": phase, "requested_s": requested_s}
        if self.scenario:
            detail["scenario"] = self.scenario
        if failure is not None and not isinstance(failure, RunInterrupted):
            detail["error"] = f"{type(failure).__name__}: {failure}"  # likely a consequence
        self.events.emit(EventKind.INTERRUPTED, **detail)
        self.interrupted_logged = True
        self.progress(f"interrupted ({reason}) during {phase}: rolling back and stopping")

    def _clean_up(self) -> list[str]:
        """Stop the watchers and the load, undo any fault still in force, tear down what this
        run stood up. Each step runs whatever the one before did; the problems, one a line."""
        problems: list[str] = []
        steps: list[tuple[str, Callable[[], object]]] = [
            ("autoscaler", self._stop_autoscalers),
            ("edge watch", self.edge.stop if self.edge else _nothing),
            *((f"{type(watch).__name__}", watch.stop) for watch in self.model_watches),
            ("load", self._stop_loads),
            ("rollback", self._undo_left_faults),
            ("metrics snapshot", self._save_metrics),
            ("WAF log", lambda: save_waf_log(self.platform, self.run_dir, self.started_s)),
            # a platform someone else stood up is left with the members it had
            ("autoscaler scale-back", _nothing if self.owned else self._scale_back),
            # after the rollbacks: the old primary is back as a standby, one primary remains
            ("database audit", self.database.audit if self.database else _nothing),
            ("database watch", self.database.stop if self.database else _nothing),
            ("tear-down", self._tear_down if self.owned else _nothing)]
        for name, step in steps:
            try:
                step()
            except Exception as exc:  # the next step must still run
                problems.append(f"{name}: {type(exc).__name__}: {exc}")
        return problems

    def _stop_loads(self) -> None:
        for load in self.loads:
            load.stop()

    def _stop_autoscalers(self) -> None:
        for scaler in self.autoscalers:
            scaler.stop()
            for problem in scaler.problems:  # each also in autoscaler.jsonl
                self.progress(f"autoscaler problem: {problem}")


    def _scale_back(self) -> None:
        for scaler in self.autoscalers:
            for line in scaler.restore_counts():
                self.progress(f"autoscaler: put back {line}")

    def _save_metrics(self) -> None:
        """The Prometheus series the report uses, into the run folder (before the tear-down
        takes Prometheus away); what could not be saved is written down there."""
        url = self.platform.prometheus_url() if isinstance(self.platform, MetricsSource) \
            else None
        index = save_snapshot(url, self.run_dir, self.started_s, time.time())
        if index["error"] or index["errors"]:
            self.progress(f"metrics: {index['error'] or '; '.join(index['errors'].values())}")

    def _undo_left_faults(self) -> None:
        for undone in self.rollbacks.at_clean_up(self.scenario):
            self.progress(f"rollback: {undone}")

    def _tear_down(self) -> None:
        self.progress("tearing the platform down")
        self.platform.down(progress=self.progress)


def _nothing() -> None:
    return None


def _not_injected_why(journal: Journal) -> str:
    status = journal.get("status")
    if status == "failed" and not journal.get("run"):
        return "the steady-state hypothesis did not hold before the method"
    return f"no method action succeeded (journal status {status})"

