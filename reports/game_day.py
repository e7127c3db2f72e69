"""A game day's own record (``gameday gameday``): its hypothesis, the operator's actions and
notes in time order beside what the harness did in response (a scenario starting, its fault
in force, its fault window closed, an abort, a scenario not run, the interruption), the
scenarios the operator rolled back and those never run. None for a run without an operator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from gameday.config import Suite
from gameday.operator_log import OperatorAction
from gameday.records import Event, EventKind
from reports.incidents import Abort, Incidents, NotRun

__all__ = ["GameDay", "TimelineEntry", "game_day"]

# what the harness did, as the timeline says it
_HARNESS = {EventKind.SCENARIO_START: "scenario started",
            EventKind.FAULT_START: "fault in force",
            EventKind.FAULT_END: "fault window closed (rollback returned)",
            EventKind.SCENARIO_END: "scenario ended",
            EventKind.SCENARIO_ABORTED: "scenario aborted",
            EventKind.SCENARIO_NOT_RUN: "scenario not run",
            EventKind.INTERRUPTED: "run stopping"}


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    t_s: float
    who: Literal["operator", "harness"]
    what: str  # the operator's action (inject, note, roll_back, quit) or the harness's step
    scenario: str
    text: str  # a note, a reason, a journal status


@dataclass(frozen=True, slots=True)
class GameDay:
    hypothesis: str  # "" when the operator stated none
    timeline: tuple[TimelineEntry, ...]
    rolled_back: tuple[Abort, ...]  # by the operator
    not_run: tuple[NotRun, ...]
    not_started: tuple[str, ...]  # neither run nor logged as not run: the run stopped first

    @property
    def actions(self) -> tuple[TimelineEntry, ...]:
        return tuple(entry for entry in self.timeline if entry.who == "operator")

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(entry.text for entry in self.actions if entry.what == "note")


def game_day(operator: Sequence[OperatorAction] | None, events: Sequence[Event], suite: Suite,
             incidents: Incidents) -> GameDay | None:
    if operator is None:
        return None
    stated = [action.text for action in operator if action.action == "hypothesis"]
    entries = [TimelineEntry(a.t_s, "operator", a.action, a.scenario, a.text)
               for a in operator if a.action != "hypothesis"]
    entries += [TimelineEntry(e.t_s, "harness", _HARNESS[e.kind], e.scenario, _text(e.detail))
                for e in events if e.kind in _HARNESS]
    started = {e.scenario for e in events if e.kind == EventKind.SCENARIO_START}
    logged_not_run = {n.scenario for n in incidents.not_run}
    return GameDay(
        hypothesis=stated[0] if stated else suite.gameday.hypothesis,
        timeline=tuple(sorted(entries, key=lambda entry: entry.t_s)),
        rolled_back=incidents.rolled_back,
        not_run=incidents.not_run,
        not_started=tuple(s.name for s in suite.scenarios
                          if s.name not in started and s.name not in logged_not_run))


def _text(detail: dict[str, Any]) -> str:
    for key in ("reason", "status"):
        if detail.get(key):
            return str(detail[key])
    return ""
