"""What the game-day dashboard shows at an instant, from the run folder alone (``RunView``).

A request counts when it *ended* (as an operator's dashboard sees it), among those recorded
by then: the generator flushes its records every 0.5 s, so the windows end ``SETTLE_S``
before now. Requests/s and errors/s over the last ``RATE_WINDOW_S``; p99 (latency from the
scheduled send) and the share served per region over the last ``P99_WINDOW_S``; the burn
rate over ``BURN_WINDOWS_S`` against the suite's first availability objective (bad: failed,
or slower than the objective's latency bound; burn = bad share / (1 − target)), as
``gameday.measure.budget`` defines it. Replication lag from ``replication.jsonl`` (the
primary's ``pg_stat_replication``), else from ``db.jsonl`` (the writable node's WAL position
less the standby's), "no database" when the run has neither.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gameday.config import AvailabilitySlo, Suite
from gameday.dbrecords import DB_FILE, REPLICATION_FILE
from gameday.live.scenarios import ScenarioStates
from gameday.live.tail import JsonlTail, RequestTail
from gameday.measure.budget import BudgetObjective, objectives_of
from gameday.openslo import OpenSlo
from gameday.operator_log import OPERATOR_FILE, OperatorAction
from gameday.records import EVENTS_FILE

__all__ = ["BURN_WINDOWS_S", "P99_WINDOW_S", "RATE_WINDOW_S", "SETTLE_S", "Burn",
           "LiveFigures", "Replication", "RunView", "Traffic", "first_availability"]

SETTLE_S = 1.0
RATE_WINDOW_S = 5.0
P99_WINDOW_S = 10.0
BURN_WINDOWS_S = (60.0, 5.0)
HISTORY_S = 60
_ACTIONS_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Traffic:
    requests_per_s: float
    errors_per_s: float
    p99_s: float | None  # None: no request ended in the window
    share: Mapping[str, float]  # region ("" = no answer) -> share of the window's requests
    per_s: tuple[int, ...]  # requests ended in each of the last HISTORY_S seconds, oldest first
    errors_by_s: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Burn:
    objective: str
    target: float
    rates: tuple[tuple[float, float | None], ...]  # (window_s, burn rate or None: no requests)


@dataclass(frozen=True, slots=True)
class Replication:
    lag_bytes: int | None
    lag_s: float | None
    standby: str
    at_s: float


@dataclass(frozen=True, slots=True)
class LiveFigures:
    now_s: float
    traffic: Traffic
    burn: Burn | None  # None: the suite has no availability objective
    database: bool  # the run records a database
    replication: Replication | None
    states: ScenarioStates
    actions: tuple[OperatorAction, ...] = ()  # the operator's last actions (operator.jsonl)
    rows_read: int = 0  # request records read so far (all of them, not only those kept)


def first_availability(suite: Suite) -> BudgetObjective | None:
    """The suite's first availability objective (short form, else OpenSLO), or None."""
    for kind in (AvailabilitySlo, OpenSlo):
        for slo in suite.slos:
            if isinstance(slo, kind):
                return objectives_of(slo)[0]
    return None


@dataclass
class _Database:
    run_dir: Path
    replication: JsonlTail = field(init=False)
    nodes: JsonlTail = field(init=False)
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)  # node -> its last sample
    last_replication: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.replication = JsonlTail(self.run_dir / REPLICATION_FILE)
        self.nodes = JsonlTail(self.run_dir / DB_FILE)

    @property
    def present(self) -> bool:
        return self.replication.path.exists() or self.nodes.path.exists()

    def update(self) -> Replication | None:
        for sample in self.replication.read():
            self.last_replication = sample
        for sample in self.nodes.read():
            self.latest[str(sample.get("node", ""))] = sample
        if self.last_replication is not None:
            row = self.last_replication
            primary_lsn, replay_lsn = row.get("primary_lsn"), row.get("replay_lsn")
            lag = None if primary_lsn is None or replay_lsn is None \
                else max(0, int(primary_lsn) - int(replay_lsn))
            return Replication(lag, row.get("replay_lag_s"), str(row.get("standby", "")),
                               float(row.get("t_s", 0.0)))
        primaries = [s for s in self.latest.values() if s.get("writable") and s.get("lsn")]
        standbys = [s for s in self.latest.values() if s.get("in_recovery") and s.get("lsn")]
        if not primaries or not standbys:
            return None
        primary = max(primaries, key=lambda s: float(s.get("t_s", 0.0)))
        standby = max(standbys, key=lambda s: int(s["lsn"]))
        return Replication(max(0, int(primary["lsn"]) - int(standby["lsn"])), None,
                           str(standby.get("node", "")), float(primary.get("t_s", 0.0)))


def _action(raw: dict[str, Any]) -> OperatorAction:
    return OperatorAction(float(raw.get("t_s", 0.0)), raw.get("action", "note"),
                          str(raw.get("scenario", "")), str(raw.get("text", "")))


class RunView:
    """The run folder as the dashboard reads it: incrementally, once a refresh."""

    def __init__(self, run_dir: Path, suite: Suite) -> None:
        self.requests = RequestTail(run_dir, keep_s=max(BURN_WINDOWS_S) + SETTLE_S + 10)
        self.events = JsonlTail(run_dir / EVENTS_FILE)
        self.states = ScenarioStates.of(suite)
        self.objective = first_availability(suite)
        self._database = _Database(run_dir)
        self._operator = JsonlTail(run_dir / OPERATOR_FILE)
        self.actions: deque[OperatorAction] = deque(maxlen=_ACTIONS_SHOWN)

    def update(self, now_s: float, waiting: str | None = None) -> LiveFigures:
        """Read what was appended, then the figures at ``now_s``; ``waiting``: the scenario
        the run waits on the operator for, if any."""
        self.requests.update(now_s)
        for event in self.events.read():
            self.states.add(event)
        for action in [_action(raw) for raw in self._operator.read()]:
            if action.action == "roll_back":
                self.states.rolling_back(action.scenario, action.t_s)
            if action.action != "hypothesis":
                self.actions.append(action)
        return LiveFigures(now_s=now_s, traffic=self._traffic(now_s - SETTLE_S),
                           burn=self._burn(now_s - SETTLE_S), database=self._database.present,
                           replication=self._database.update(),
                           states=self.states.with_waiting(waiting),
                           actions=tuple(self.actions), rows_read=self.requests.rows_read)

    def _traffic(self, at_s: float) -> Traffic:
        tail = self.requests
        recent = (tail.end_s > at_s - P99_WINDOW_S) & (tail.end_s <= at_s)
        count = int(np.count_nonzero(recent))
        share = {tail.regions[code]: n / count
                 for code, n in enumerate(np.bincount(tail.region[recent],
                                                      minlength=len(tail.regions))) if n} \
            if count else {}
        p99 = float(np.percentile(tail.latency_s[recent], 99)) if count else None
        # second i before at_s holds what ended in (at_s - i - 1, at_s - i]
        age_s = at_s - tail.end_s
        counted = (age_s >= 0) & (age_s < HISTORY_S)
        second = np.floor(age_s[counted]).astype(np.int64)
        per_s = np.bincount(second, minlength=HISTORY_S)[::-1]
        errors = np.bincount(second[~tail.ok[counted]], minlength=HISTORY_S)[::-1]
        seconds = int(RATE_WINDOW_S)
        return Traffic(requests_per_s=float(per_s[-seconds:].sum()) / RATE_WINDOW_S,
                       errors_per_s=float(errors[-seconds:].sum()) / RATE_WINDOW_S,
                       p99_s=p99, share=share, per_s=tuple(int(n) for n in per_s),
                       errors_by_s=tuple(int(n) for n in errors))

    def _burn(self, at_s: float) -> Burn | None:
        objective = self.objective
        if objective is None:
            return None
        tail = self.requests
        good = tail.ok.copy() if objective.require_ok else np.ones(len(tail.ok), dtype=bool)
        if objective.max_latency_s is not None:
            good &= tail.latency_s <= objective.max_latency_s
        budget = 1 - objective.target
        rates = []
        for window_s in BURN_WINDOWS_S:
            chosen = (tail.end_s > at_s - window_s) & (tail.end_s <= at_s)
            count = int(np.count_nonzero(chosen))
            bad_share = 1 - np.count_nonzero(good[chosen]) / count if count else None
            rates.append((window_s, None if bad_share is None or budget <= 0
                          else bad_share / budget))
        return Burn(objective.name, objective.target, tuple(rates))
