"""Chaos Toolkit experiments: load and validate them, run one as a scenario, log its fault window.

The fault window comes from chaoslib's own lifecycle events (``RunEventHandler``): it opens
when the method's first action returned and closes when the rollbacks returned. A stop (Ctrl-C,
SIGTERM) reaches chaoslib as ``KeyboardInterrupt`` only inside an activity before the
rollbacks, where chaoslib turns it into status ``interrupted`` and plays the rollbacks.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from chaoslib.activity import execute_activity
from chaoslib.exceptions import ChaosException, InterruptExecution
from chaoslib.experiment import ensure_experiment_is_valid, run_experiment
from chaoslib.run import RunEventHandler
from chaoslib.types import Activity, Experiment, Journal, Run

from gameday.config import read_document
from gameday.errors import ConfigError
from gameday.interrupts import NOWHERE, StopSignals
from gameday.records import EventKind, EventLog

__all__ = ["FaultWindowRecorder", "load_experiment", "run_scenario"]

# Roll back even when interrupted: an injected fault must never outlive the run.
_SETTINGS = {"runtime": {"rollbacks": {"strategy": "always"}},
             "controls": {}, "notifications": []}


def load_experiment(path: Path) -> Experiment:
    """Parse and validate an experiment; any problem is a ConfigError naming the file."""
    experiment = read_document(path)
    if not isinstance(experiment, dict):
        raise ConfigError("expected a Chaos Toolkit experiment (a mapping)", source=str(path))
    try:
        ensure_experiment_is_valid(experiment)
    except ChaosException as exc:
        raise ConfigError(f"invalid experiment: {exc}", source=str(path)) from None
    except Exception as exc:  # chaoslib raises bare errors for some malformed shapes
        raise ConfigError(f"invalid experiment ({type(exc).__name__}: {exc})",
                          source=str(path)) from None
    return experiment


class FaultWindowRecorder(RunEventHandler):  # type: ignore[misc]
    """Writes fault_start / fault_end events as chaoslib reports the activities finishing."""

    def __init__(self, events: EventLog, scenario: str, target_region: str) -> None:
        self.events = events
        self.scenario = scenario
        self.target_region = target_region
        self.phase = "hypothesis"
        self.fault_started = False
        self.fault_failed: str | None = None
        self.action_started_s: float | None = None
        self.rollback_started_s: float | None = None
        self._lock = threading.Lock()

    def start_method(self, experiment: Experiment) -> None:
        self.phase = "method"

    def method_completed(self, experiment: Experiment, state: Any) -> None:
        self.phase = "after-method"

    def start_rollbacks(self, experiment: Experiment) -> None:
        self.phase = "rollbacks"
        self.rollback_started_s = time.time()

    def start_activity(self, activity: Activity) -> None:
        if self.phase == "method" and activity.get("type") == "action" \
                and self.action_started_s is None:
            self.action_started_s = time.time()

    def activity_completed(self, activity: Activity, run: Run) -> None:
        if self.phase != "method" or activity.get("type") != "action":
            return
        with self._lock:
            if run.get("status") == "succeeded":
                self.events.emit(EventKind.FAULT_ACTION, self.scenario,
                                 action=activity.get("name"), output=_short(run.get("output")))
            if self.fault_started:
                return
            if run.get("status") != "succeeded":
                self.fault_failed = f"{activity.get('name')}: {run.get('exception') or run}"
                return
            self.fault_started = True
        self.events.emit(EventKind.FAULT_START, self.scenario,
                         target_region=self.target_region, action=activity.get("name"),
                         action_started_s=self.action_started_s,
                         output=_short(run.get("output")))

    def rollbacks_completed(self, experiment: Experiment, journal: Journal) -> None:
        if self.fault_started:
            self.events.emit(EventKind.FAULT_END, self.scenario,
                             target_region=self.target_region,
                             rollback_started_s=self.rollback_started_s,
                             rollbacks=[r.get("status") for r in journal.get("rollbacks", [])])


def _short(value: Any) -> Any:
    text = json.dumps(value, default=str)
    return value if len(text) < 2000 else text[:2000]


_ACTIVITY_CODE = execute_activity.__code__


def _inside_an_activity(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code is _ACTIVITY_CODE:
            return True
        frame = frame.f_back
    return False


class _ChaoslibStops(RunEventHandler):  # type: ignore[misc]
    """Where chaoslib can take a KeyboardInterrupt, and when it has taken one.

    Inside an activity (a probe, an action, an action's pause) of the hypothesis or the
    method it becomes status ``interrupted`` and the rollbacks are played. Anywhere else it
    could escape chaoslib's handling (between catching one and starting the rollbacks) or cut
    the rollbacks short, so the stop waits there and is re-delivered (``StopSignals``). An
    interrupt inside an action makes chaoslib sleep out the action's pause before it acts:
    the re-delivery ends that sleep.
    """

    def __init__(self, stops: StopSignals) -> None:
        self.stops = stops
        self.rolling_back = False

    def may_raise(self, frame: FrameType | None) -> bool:
        return not self.rolling_back and _inside_an_activity(frame)

    def started(self, experiment: Experiment, journal: Journal) -> None:
        self.stops.reinstall()  # chaoslib's exit_signals() swapped SIGTERM for its own

    def start_rollbacks(self, experiment: Experiment) -> None:
        self.rolling_back = True

    def signal_exit(self) -> None:
        self.stops.taken()

    def interrupted(self, experiment: Experiment, journal: Journal) -> None:
        self.stops.taken()


def run_scenario(experiment: Experiment, *, recorder: FaultWindowRecorder,
                 configuration: dict[str, Any], journal_path: Path,
                 stops: StopSignals) -> Journal:
    """Run one experiment with our recorder; the journal is saved even when it was interrupted.

    A stop during the run ends it as chaoslib ends an interrupted run (status
    ``interrupted``, rollbacks played); a stop during the rollbacks lets them finish. Either
    way ``stops.requested`` says so afterwards; the current phase is left with no interrupt
    allowed (the caller's next ``stops.enter`` raises a pending one). chaoslib's own log goes
    to ``<journal>.log`` beside the journal, not to the console.
    """
    chaos_log = logging.getLogger("chaostoolkit")
    handler = logging.FileHandler(journal_path.with_suffix(".log"))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    previous = chaos_log.level, chaos_log.propagate
    chaos_log.addHandler(handler)
    chaos_log.setLevel(logging.DEBUG)
    chaos_log.propagate = False
    guard = _ChaoslibStops(stops)
    phase = stops.phase_name
    try:
        stops.enter(phase, guard.may_raise, repeat=True)
        journal: Journal = run_experiment(
            experiment, settings=_SETTINGS, experiment_vars=(configuration, {}),
            event_handlers=[recorder, guard])
    except InterruptExecution:  # chaoslib's own SIGTERM handler, before ours was back
        stops.request("SIGTERM", "signal")
        stops.taken()
        raise KeyboardInterrupt("SIGTERM") from None
    finally:
        # A stop re-delivered just as chaoslib returned must not land in the caller's code at
        # a random point: the caller enters its next phase, which raises it where it can.
        stops.enter(phase, NOWHERE)
        chaos_log.removeHandler(handler)
        handler.close()
        chaos_log.setLevel(previous[0])
        chaos_log.propagate = previous[1]
    journal_path.write_text(json.dumps(journal, indent=2, default=str))
    return journal
