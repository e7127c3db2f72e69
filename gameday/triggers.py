"""When each scenario of a run starts: at its offset after the warm-up (``AtOffsets``, the
default), or when an operator says so (``OperatorTrigger``, game-day mode).

A trigger is one method, ``wait_for_next(scenario, schedule)``: it blocks the run's main
thread until the scenario is to start (True) or can no longer start (False: the run logs
``scenario_not_run`` for it and every one after it, with the trigger's ``name`` and
``not_run_reason``: a scenario the schedule left no time for is a suite that could not test
what it asks, an operator's scenario never injected is the operator's choice). It runs in
the run's ``before-fault`` phase, where a stop raises ``KeyboardInterrupt`` anywhere, so it
waits in short sleeps that a signal interrupts; the load keeps running meanwhile.

A trigger that also lets someone abort the running scenario is an ``AbortWindow``: the run
opens the window once chaoslib's stop policy is in place and closes it when the experiment
has returned, before it takes the abort back (``StopSignals.clear_abort``). The window is
what keeps an abort from landing where the run cannot take it: an abort in ``before-fault``
would raise outside chaoslib, with no stop request to say why.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from gameday.config import Scenario
from gameday.interrupts import StopSignals
from gameday.operator_log import OPERATOR_TRIGGER

__all__ = ["OPERATOR_STOP", "AbortWindow", "AtOffsets", "OperatorTrigger", "Refused",
           "Schedule", "Trigger", "sleep_until"]

OPERATOR_STOP = "operator"  # StopRequest.kind of the operator's quit
_POLL_S = 0.2


@dataclass(frozen=True, slots=True)
class Schedule:
    """The primary load's timing (epoch s): its warm-up end and the end of its schedule."""

    warmup_end_s: float
    load_end_s: float


class Trigger(Protocol):
    name: str  # in ``scenario_not_run``'s detail ``trigger``: "offsets" or "operator"
    not_run_reason: str  # why a scenario it said False for was not run

    def wait_for_next(self, scenario: Scenario, schedule: Schedule) -> bool:
        """Block until ``scenario`` is to start (True) or cannot start any more (False)."""
        ...


@runtime_checkable
class AbortWindow(Protocol):
    def open_window(self, scenario: str, still_open: Callable[[], bool]) -> None:
        """The run's experiment for ``scenario`` can take an abort while ``still_open()``."""
        ...

    def close_window(self) -> bool:
        """The experiment returned: no abort from now on. True when this window aborted it."""
        ...


def sleep_until(t_s: float) -> None:
    while (left := t_s - time.time()) > 0:
        time.sleep(min(left, _POLL_S))


class AtOffsets:
    """Each scenario at warm-up end + its ``offset_s``, or at once when the one before it ran
    past that (said, with how late); not at all once the primary load's schedule has ended,
    as a fault with no load to measure it is no scenario."""

    name = "offsets"
    not_run_reason = ("the load's schedule ended before its offset came round: the scenarios "
                      "before it overran their slots")

    def __init__(self, progress: Callable[[str], None],
                 clock: Callable[[], float] = time.time) -> None:
        self.progress = progress
        self._clock = clock

    def wait_for_next(self, scenario: Scenario, schedule: Schedule) -> bool:
        start_s = schedule.warmup_end_s + scenario.offset_s
        now_s = self._clock()
        if now_s >= schedule.load_end_s:
            return False
        if now_s > start_s:
            self.progress(f"scenario {scenario.name}: starts {now_s - start_s:.1f} s late, "
                          f"at +{now_s - schedule.warmup_end_s:.1f} s: the scenario before it "
                          "ran past its offset")
            return True
        self.progress(f"scenario {scenario.name}: starts in {start_s - now_s:.1f} s")
        sleep_until(start_s)
        return True


@dataclass(frozen=True, slots=True)
class Refused:
    """A key that did nothing, and why (for the dashboard)."""

    why: str


class OperatorTrigger:
    """Game-day mode: the operator starts each scenario (``inject``), rolls the running one
    back (``roll_back``) or stops the run (``quit``), from any thread; the run calls
    ``wait_for_next`` and the window methods from its main thread.

    ``inject`` is taken while no scenario runs: during the warm-up it starts the first one
    when the warm-up ends. A scenario still waiting when the primary load's schedule ends is
    not run. ``roll_back`` goes through ``StopSignals.abort`` only inside the window the run
    opened, so chaoslib ends the experiment as interrupted and plays its rollbacks; ``quit``
    is a stop request, as a Ctrl-C is (every fault rolled back, the load stopped, the report
    written, exit 2).
    """

    name = OPERATOR_TRIGGER
    not_run_reason = "the load's schedule ended before the operator injected it"

    def __init__(self, stops: StopSignals, scenarios: Sequence[str],
                 clock: Callable[[], float] = time.time) -> None:
        self._stops = stops
        self._scenarios = tuple(scenarios)
        self._clock = clock
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._next = 0  # index of the next scenario to start
        self._running: str | None = None  # between its release and its experiment's return
        self._window: Callable[[], bool] | None = None
        self._aborted = False
        self._ended = False  # the load ended with scenarios left: none starts any more
        self.waiting: str | None = None  # the scenario the run waits on now

    # -- the operator's side (any thread) ---------------------------------------------------
    @property
    def next_scenario(self) -> str | None:
        return self._scenarios[self._next] if self._next < len(self._scenarios) else None

    @property
    def running(self) -> str | None:
        return self._running

    def inject(self) -> str | Refused:
        """Start the next scenario: its name, or why not."""
        with self._lock:
            if self._running is not None:
                return Refused(f"{self._running} is running: roll it back (r) or let it end")
            if self._ended:
                return Refused("the load has ended: no scenario starts any more")
            if self._released.is_set():
                return Refused(f"{self.next_scenario} is already due to start")
            name = self.next_scenario
            if name is None:
                return Refused("every scenario has been injected")
            self._released.set()
            return name

    def roll_back(self, reason: str) -> str | Refused:
        """Abort the running scenario (its rollbacks played): its name, or why not."""
        with self._lock:
            if self._running is None:
                return Refused("no scenario is running")
            if self._window is None or not self._window():
                return Refused(f"{self._running} is not in its fault (starting, or already "
                               "rolling back)")
            if self._aborted or not self._stops.abort(reason):
                return Refused(f"{self._running} is already being stopped")
            self._aborted = True  # the signal is sent before the window can close
            return self._running

    def quit(self, reason: str) -> None:
        self._stops.request(reason, OPERATOR_STOP)

    # -- the run's side (main thread) -------------------------------------------------------
    def wait_for_next(self, scenario: Scenario, schedule: Schedule) -> bool:
        with self._lock:
            self._running, self.waiting = None, scenario.name
        try:
            while not self._released.wait(_POLL_S):
                if self._clock() >= schedule.load_end_s:
                    with self._lock:
                        self._ended = True
                    return False
            with self._lock:
                self._released.clear()
                self._next += 1
                self._running = scenario.name
            return True
        finally:
            self.waiting = None

    def open_window(self, scenario: str, still_open: Callable[[], bool]) -> None:
        with self._lock:
            self._window, self._aborted = still_open, False

    def close_window(self) -> bool:
        with self._lock:
            aborted, self._window, self._aborted = self._aborted, None, False
            self._running = None
            return aborted
