"""Where each scenario of the run stands, from the event log as it is written (and, from the
operator trigger, which one the run waits on), and where the run stands: warm-up, load,
its end."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from gameday.config import Suite
from gameday.operator_log import OPERATOR_CONDITION
from gameday.records import EventKind

__all__ = ["ScenarioState", "ScenarioStates"]


@dataclass(frozen=True, slots=True)
class ScenarioState:
    name: str
    # queued | waiting | injected | fault | rolling-back | rolled-back | ended | aborted | not-run
    state: str
    since_s: float | None = None  # when it entered that state
    fault_start_s: float | None = None
    fault_end_s: float | None = None
    detail: str = ""  # the journal's status, who aborted it, why it did not run


@dataclass
class ScenarioStates:
    scenarios: dict[str, ScenarioState]
    load_start_s: float | None = None
    warmup_end_s: float | None = None
    load_end_s: float | None = None  # when the primary load's schedule ends (from its start)
    stopping: str = ""  # why the run is stopping, once it logged it
    ended: bool = False
    _planned_s: float = 0.0  # warm-up + duration of the primary load
    _warmup_s: float = 0.0

    @classmethod
    def of(cls, suite: Suite) -> ScenarioStates:
        primary = suite.primary_load
        return cls({s.name: ScenarioState(s.name, "queued") for s in suite.scenarios},
                   _planned_s=primary.warmup_s + primary.duration_s,
                   _warmup_s=primary.warmup_s)

    def add(self, event: dict[str, Any]) -> None:
        """Take one line of events.jsonl into account (as a dict)."""
        kind, t_s = event.get("kind"), float(event.get("t_s", 0.0))
        detail = event.get("detail") or {}
        if kind == EventKind.LOAD_START and self.load_start_s is None:
            self.load_start_s = t_s
            self.warmup_end_s = t_s + self._warmup_s
            self.load_end_s = t_s + self._planned_s
        elif kind == EventKind.WARMUP_END and self.warmup_end_s is None:
            self.warmup_end_s = t_s
        elif kind == EventKind.INTERRUPTED and not self.stopping:
            self.stopping = str(detail.get("reason", "interrupted"))
        elif kind == EventKind.RUN_END:
            self.ended = True
        self._scenario_event(str(kind), str(event.get("scenario", "")), t_s, detail)

    def _scenario_event(self, kind: str, name: str, t_s: float, detail: dict[str, Any]) -> None:
        state = self.scenarios.get(name)
        if state is None:
            return
        if kind == EventKind.SCENARIO_START:
            state = replace(state, state="injected", since_s=t_s)
        elif kind == EventKind.FAULT_START:
            state = replace(state, state="fault", since_s=t_s, fault_start_s=t_s)
        elif kind == EventKind.FAULT_END:
            state = replace(state, state="rolled-back", since_s=t_s, fault_end_s=t_s)
        elif kind == EventKind.SCENARIO_END and state.state != "aborted":
            state = replace(state, state="ended", since_s=t_s,
                            detail=str(detail.get("status", "")))
        elif kind == EventKind.SCENARIO_ABORTED:
            who = "rolled back by the operator" if detail.get("condition") == OPERATOR_CONDITION \
                else f"by stop condition {detail.get('condition') or '?'}"
            state = replace(state, state="aborted", since_s=t_s, detail=who)
        elif kind == EventKind.SCENARIO_NOT_RUN:
            state = replace(state, state="not-run", since_s=t_s,
                            detail=str(detail.get("reason", "")))
        self.scenarios[name] = state

    def rolling_back(self, name: str, t_s: float) -> None:
        """The operator asked for ``name``'s rollback at ``t_s`` (operator.jsonl): until its
        fault window closes it is rolling back."""
        state = self.scenarios.get(name)
        if state is not None and state.state in ("injected", "fault"):
            self.scenarios[name] = replace(state, state="rolling-back", since_s=t_s)

    def with_waiting(self, waiting: str | None) -> ScenarioStates:
        """A copy, with ``waiting`` (queued, the run waiting on the operator) marked so."""
        copy = replace(self, scenarios=dict(self.scenarios))
        if waiting is not None and waiting in copy.scenarios \
                and copy.scenarios[waiting].state == "queued":
            copy.scenarios[waiting] = replace(copy.scenarios[waiting], state="waiting")
        return copy

    @property
    def current(self) -> ScenarioState | None:
        """The scenario running now, else the one waiting, else None."""
        for wanted in (("injected", "fault", "rolling-back", "rolled-back"), ("waiting",)):
            for state in self.scenarios.values():
                if state.state in wanted:
                    return state
        return None
