"""Did every fault go? After each scenario (and at clean-up) the platform undoes whatever is
still in force; a rollback that failed, or left something for the harness to undo, is logged
as ``rollback_failed`` saying what was still injected, and ends the run as a harness error."""

from __future__ import annotations

from typing import Any

from chaoslib.types import Journal

from gameday.errors import FaultError, GamedayError
from gameday.platforms.base import FaultView, Platform
from gameday.records import EventKind, EventLog

__all__ = ["RollbackAudit"]

_SUCCEEDED = "succeeded"  # chaoslib's status of an activity that ran to the end


class RollbackAudit:
    """Checks rollbacks against the platform; ``failure`` is the first one found."""

    def __init__(self, platform: Platform, events: EventLog) -> None:
        self.platform = platform
        self.events = events
        self.failure: FaultError | None = None

    def after_scenario(self, scenario: str, journal: Journal) -> list[str]:
        """Undo what is left; FaultError if a rollback failed or left anything. What the
        platform undid (nothing when the rollbacks did their job)."""
        failed = [_describe(run) for run in journal.get("rollbacks") or []
                  if run.get("status") != _SUCCEEDED]
        try:
            left = self.platform.reset_faults()
        except GamedayError as exc:
            raise self._failed(scenario, self._in_force(exc), [*failed, str(exc)],
                               f"scenario {scenario}: {exc}") from None
        if failed or left:
            what = "; ".join(failed) if failed else "its rollbacks succeeded"
            undone = ", ".join(left) or "nothing"
            raise self._failed(scenario, left, [f"{what}; the harness undid what was left: "
                                                f"{undone}"],
                               f"scenario {scenario}: rollback failed ({what}); still "
                               f"injected after it: {undone} (undone by the harness)")
        return left

    def at_clean_up(self, scenario: str) -> list[str]:
        """Undo whatever is still in force as the run ends (no error: it is recorded)."""
        try:
            return self.platform.reset_faults() if self.platform.is_up() else []
        except GamedayError as exc:
            self._failed(scenario, self._in_force(exc), [f"clean-up: {exc}"],
                         f"rollback at clean-up: {exc}")
            return []

    def _failed(self, scenario: str, still_injected: list[str], messages: list[str],
                summary: str) -> FaultError:
        self.events.emit(EventKind.ROLLBACK_FAILED, scenario, still_injected=still_injected,
                         message="; ".join(messages))
        if self.failure is None:
            self.failure = FaultError(summary)
        return self.failure

    def _in_force(self, error: GamedayError) -> list[str]:
        if isinstance(self.platform, FaultView):
            try:
                return self.platform.faults_in_force()
            except GamedayError:
                pass
        return [f"unknown: {error}"]


def _describe(run: dict[str, Any]) -> str:
    name = (run.get("activity") or {}).get("name", "?")
    exception = run.get("exception") or []
    last = exception[-1].strip() if isinstance(exception, list) and exception else ""
    status = run.get("status") or "did not finish"
    return f"rollback {name} {status}" + (f": {last}" if last else "")
