"""Chaos Toolkit experiments: load and validate them, run one as a scenario, log its fault window.

The fault window comes from chaoslib's own lifecycle events (``RunEventHandler``): it opens
when the method's first action returned and closes when the rollbacks returned.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

from chaoslib.exceptions import ChaosException
from chaoslib.experiment import ensure_experiment_is_valid, run_experiment
from chaoslib.run import RunEventHandler
from chaoslib.types import Activity, Experiment, Journal, Run

from gameday.config import read_document
from gameday.errors import ConfigError
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
        self._lock = threading.Lock()

    def start_method(self, experiment: Experiment) -> None:
        self.phase = "method"

    def method_completed(self, experiment: Experiment, state: Any) -> None:
        self.phase = "after-method"

    def start_rollbacks(self, experiment: Experiment) -> None:
        self.phase = "rollbacks"

    def start_activity(self, activity: Activity) -> None:
        if self.phase == "method" and activity.get("type") == "action" \
                and self.action_started_s is None:
            self.action_started_s = time.time()

    def activity_completed(self, activity: Activity, run: Run) -> None:
        if self.phase != "method" or activity.get("type") != "action":
            return
        with self._lock:
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
                             rollbacks=[r.get("status") for r in journal.get("rollbacks", [])])


def _short(value: Any) -> Any:
    text = json.dumps(value, default=str)
    return value if len(text) < 2000 else text[:2000]


def run_scenario(experiment: Experiment, *, recorder: FaultWindowRecorder,
                 configuration: dict[str, Any], journal_path: Path) -> Journal:
    """Run one experiment with our recorder; the journal is saved even when it was interrupted.

    chaoslib's own log goes to ``<journal>.log`` beside the journal, not to the console.
    """
    chaos_log = logging.getLogger("chaostoolkit")
    handler = logging.FileHandler(journal_path.with_suffix(".log"))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    previous = chaos_log.level, chaos_log.propagate
    chaos_log.addHandler(handler)
    chaos_log.setLevel(logging.DEBUG)
    chaos_log.propagate = False
    try:
        journal: Journal = run_experiment(
            experiment, settings=_SETTINGS, experiment_vars=(configuration, {}),
            event_handlers=[recorder])
    finally:
        chaos_log.removeHandler(handler)
        handler.close()
        chaos_log.setLevel(previous[0])
        chaos_log.propagate = previous[1]
    journal_path.write_text(json.dumps(journal, indent=2, default=str))
    return journal
