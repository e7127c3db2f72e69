"""What the run's own log and journals say went wrong beside the system under test: harness
errors, an interruption, rollbacks that failed (a fault may still be injected), and
steady-state hypotheses that deviated after the method.

The contract with the orchestrator (``gameday.run``) is in ``gameday.records.EventKind``:

- ``interrupted`` (detail ``reason``, maybe ``phase``), or a ``load_end`` whose ``stopped_by``
  names a stop (the load generator was stopped before the end of its schedule), or a log that
  starts a run and never ends it (the harness was killed): the run is interrupted;
- ``rollback_failed`` (detail ``still_injected``, ``message``), or a failed rollback status in
  ``scenario_end`` / ``fault_end`` detail ``rollbacks`` or in the journal: a harness error;
- ``scenario_end`` detail ``deviated: true``, or the journal's ``deviated``: the scenario fails;
- ``scenario_aborted``: a stop condition aborted the scenario (``aborted``), or, with
  condition ``operator``, the operator of a game day rolled it back (``rolled_back``);
- ``scenario_not_run`` (detail ``reason``, ``trigger``): the scenario's trigger never came
  (``not_run``); ``trigger`` ``offsets`` when the scenarios before it overran the schedule,
  ``operator`` (or absent: game days were the only source before) when the operator never
  injected it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gameday.operator_log import OPERATOR_CONDITION, OPERATOR_TRIGGER
from gameday.records import Event, EventKind
from reports.run_folder import Journal

__all__ = ["Abort", "Incidents", "Interruption", "NotRun", "RollbackFailure", "find_incidents"]

_ROLLBACK_OK = "succeeded"  # chaoslib's status of a rollback activity that ran to the end


@dataclass(frozen=True, slots=True)
class Interruption:
    reason: str  # what stopped the run, in words
    phase: str  # where the run was ("" when the log does not say)
    load_stopped_by: str  # what stopped the load generator early ("" if it ran its schedule)

    def describe(self) -> str:
        """For the verdict's reason: ``interrupted: <what> [during <phase>] ...``."""
        return f"interrupted: {self.what()}"

    def what(self) -> str:
        parts = [self.reason]
        if self.phase:
            parts.append(f"during {self.phase}")
        if self.load_stopped_by and self.load_stopped_by not in self.reason:
            parts.append(f"(the load generator was stopped by {self.load_stopped_by} before "
                         "the end of its schedule)")
        return " ".join(parts) + "; the figures cover only part of the run"


@dataclass(frozen=True, slots=True)
class Abort:
    """A scenario a stop condition aborted, or the operator rolled back (its fault rolled
    back, the run went on)."""

    scenario: str
    condition: str
    reason: str
    at_s: float | None

    @property
    def by_operator(self) -> bool:
        return self.condition == OPERATOR_CONDITION

    def describe(self) -> str:
        if self.by_operator:
            return f"the operator rolled scenario {self.scenario} back ({self.reason})"
        return f"scenario {self.scenario} aborted: {self.reason}; its fault was rolled back"


@dataclass(frozen=True, slots=True)
class NotRun:
    """A scenario whose trigger never came before the load ended: the operator's choice in
    a game day, a schedule its scenarios overran in a scheduled run."""

    scenario: str
    reason: str
    trigger: str = OPERATOR_TRIGGER

    @property
    def by_schedule(self) -> bool:
        return self.trigger != OPERATOR_TRIGGER

    def describe(self) -> str:
        return f"scenario {self.scenario} was not run ({self.reason})"


@dataclass(frozen=True, slots=True)
class RollbackFailure:
    scenario: str
    still_injected: tuple[str, ...]  # () when the log does not say what
    message: str

    def describe(self) -> str:
        injected = (", ".join(self.still_injected) if self.still_injected
                    else "unknown (the log does not say; check with `gameday status`)")
        why = f" ({self.message})" if self.message else ""
        return f"rollback failed in {self.scenario}{why}: still injected: {injected}"


@dataclass(frozen=True, slots=True)
class Incidents:
    harness_errors: tuple[str, ...]
    interruption: Interruption | None
    rollback_failures: tuple[RollbackFailure, ...]
    deviated: tuple[str, ...]  # scenarios whose steady-state hypothesis deviated
    aborted: tuple[Abort, ...] = ()  # scenarios a stop condition aborted
    rolled_back: tuple[Abort, ...] = ()  # scenarios the operator rolled back (game day)
    not_run: tuple[NotRun, ...] = ()

    def abort_of(self, scenario: str) -> Abort | None:
        """The stop condition's abort of ``scenario`` (not the operator's rollback)."""
        return next((a for a in self.aborted if a.scenario == scenario), None)

    def not_run_of(self, scenario: str) -> NotRun | None:
        return next((n for n in self.not_run if n.scenario == scenario), None)

    @property
    def harness_trouble(self) -> tuple[str, ...]:
        """Why the verdict is not about the system under test (worst first), or ()."""
        return (*(failure.describe() for failure in self.rollback_failures),
                *self.harness_errors,
                *([self.interruption.describe()] if self.interruption else []))

    def rollback_failure(self, scenario: str) -> RollbackFailure | None:
        return next((f for f in self.rollback_failures if f.scenario == scenario), None)


def find_incidents(events: Sequence[Event], journals: Mapping[str, Journal]) -> Incidents:
    aborts = [Abort(e.scenario, str(e.detail.get("condition") or ""),
                    str(e.detail.get("reason") or "a stop condition fired"),
                    _float(e.detail.get("at_s")))
              for e in events if e.kind == EventKind.SCENARIO_ABORTED]
    return Incidents(
        harness_errors=tuple(str(e.detail.get("message") or "harness error (no message)")
                             for e in events if e.kind == EventKind.HARNESS_ERROR),
        interruption=_interruption(events),
        rollback_failures=_rollback_failures(events, journals),
        deviated=_deviated(events, journals),
        aborted=tuple(a for a in aborts if not a.by_operator),
        rolled_back=tuple(a for a in aborts if a.by_operator),
        not_run=tuple(NotRun(e.scenario,
                             str(e.detail.get("reason") or "its trigger never came"),
                             str(e.detail.get("trigger") or OPERATOR_TRIGGER))
                      for e in events if e.kind == EventKind.SCENARIO_NOT_RUN),
    )


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _interruption(events: Sequence[Event]) -> Interruption | None:
    signalled = next((e for e in events if e.kind == EventKind.INTERRUPTED), None)
    stopped_by = next((str(e.detail["stopped_by"]) for e in events
                       if e.kind == EventKind.LOAD_END and e.detail.get("stopped_by")), "")
    if signalled is not None:
        return Interruption(str(signalled.detail.get("reason") or "interrupted"),
                            str(signalled.detail.get("phase") or ""), stopped_by)
    if stopped_by:
        return Interruption(f"the load generator was stopped by {stopped_by} before the end "
                            "of its schedule", "", stopped_by)
    kinds = {event.kind for event in events}
    if EventKind.RUN_START in kinds and EventKind.RUN_END not in kinds:
        return Interruption("the event log ends without run_end: the harness was killed or "
                            "crashed before it could finish", "", "")
    return None


def _rollback_failures(events: Sequence[Event],
                       journals: Mapping[str, Journal]) -> tuple[RollbackFailure, ...]:
    failures: dict[str, RollbackFailure] = {}
    for event in events:
        if event.kind == EventKind.ROLLBACK_FAILED:
            injected = event.detail.get("still_injected") or []
            failures[event.scenario] = RollbackFailure(
                event.scenario, tuple(str(item) for item in injected),
                str(event.detail.get("message") or ""))
    failed_statuses = [(e.scenario, _failed(e.detail.get("rollbacks"))) for e in events
                       if e.kind in (EventKind.SCENARIO_END, EventKind.FAULT_END)]
    failed_statuses += [(name, _failed(journal.rollbacks)) for name, journal in journals.items()]
    for scenario, statuses in failed_statuses:
        if statuses and scenario not in failures:
            failures[scenario] = RollbackFailure(
                scenario, (), f"rollback status {', '.join(statuses)}")
    return tuple(failures.values())


def _failed(rollbacks: Any) -> list[str]:
    """The statuses of the rollbacks that did not succeed (entries: a status or a run dict)."""
    if not isinstance(rollbacks, Iterable) or isinstance(rollbacks, str | bytes):
        return []
    statuses = [str(r.get("status")) if isinstance(r, Mapping) else str(r) for r in rollbacks]
    return [status for status in statuses if status != _ROLLBACK_OK]


def _deviated(events: Sequence[Event], journals: Mapping[str, Journal]) -> tuple[str, ...]:
    scenarios = [e.scenario for e in events
                 if e.kind == EventKind.SCENARIO_END and e.detail.get("deviated") is True]
    scenarios += [name for name, journal in journals.items() if journal.deviated is True]
    return tuple(dict.fromkeys(scenarios))
