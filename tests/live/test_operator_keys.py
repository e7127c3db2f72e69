"""The operator's keys, fed by a fake key source to the real OperatorTrigger and OperatorLog:
what each key does, what goes to operator.jsonl (actions that took effect, with their time;
refused keys only say why on the screen), note editing, and the session loop drawing the
dashboard to a console that is not a terminal.

The StopSignals here is never installed, and every key comes from the main thread: a stop
request is only noted (no signal is sent), which is all these tests look at. The abort
through a real chaoslib experiment is tested in tests/test_triggers.py, in a child process.
"""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

from rich.console import Console

from gameday.config import AvailabilitySlo, LoadProfile, Scenario, Suite
from gameday.interrupts import NOWHERE, StopSignals
from gameday.live.operator import QUIT_REASON, OperatorKeys
from gameday.live.session import LiveSession
from gameday.operator_log import OperatorLog, read_operator_log
from gameday.records import EventKind, EventLog
from gameday.triggers import OPERATOR_STOP, OperatorTrigger, Schedule


class FakeKeys:
    """Keys as a terminal would give them: a chunk per read, "" when none is typed."""

    def __init__(self, *chunks: str) -> None:
        self.chunks = list(chunks)
        self.lock = threading.Lock()

    def type(self, *chunks: str) -> None:
        with self.lock:
            self.chunks.extend(chunks)

    def read(self, timeout_s: float) -> str:
        with self.lock:
            if self.chunks:
                return self.chunks.pop(0)
        time.sleep(min(timeout_s, 0.02))
        return ""


def _operator(tmp_path: Path, scenarios: tuple[str, ...] = ("outage", "kill")
              ) -> tuple[OperatorKeys, OperatorTrigger, StopSignals]:
    stops = StopSignals()
    trigger = OperatorTrigger(stops, scenarios)
    return OperatorKeys(trigger, OperatorLog(tmp_path)), trigger, stops


def _actions(tmp_path: Path) -> list[tuple[str, str, str]]:
    return [(a.action, a.scenario, a.text) for a in read_operator_log(tmp_path) or []]


def test_inject_releases_the_scenario_the_run_waits_on(tmp_path: Path) -> None:
    keys, trigger, _ = _operator(tmp_path)
    schedule = Schedule(warmup_end_s=time.time(), load_end_s=time.time() + 30)
    released: list[bool] = []
    waiter = threading.Thread(target=lambda: released.append(
        trigger.wait_for_next(Scenario(name="outage", experiment=Path("x")), schedule)))
    waiter.start()
    deadline = time.monotonic() + 5
    while trigger.waiting != "outage":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    keys.handle("i")
    waiter.join(timeout=5)
    assert released == [True] and trigger.running == "outage"
    assert keys.message == "injecting outage"
    keys.handle("i")  # while it runs: refused, and not an action
    assert keys.message.startswith("nothing done: outage is running")
    assert _actions(tmp_path) == [("inject", "outage", "")]


def test_an_inject_in_the_warm_up_starts_the_first_scenario_once_it_ends(
        tmp_path: Path) -> None:
    keys, trigger, _ = _operator(tmp_path)
    keys.handle("i")
    keys.handle("i")
    assert keys.message == "nothing done: outage is already due to start"
    schedule = Schedule(warmup_end_s=time.time(), load_end_s=time.time() + 30)
    assert trigger.wait_for_next(Scenario(name="outage", experiment=Path("x")), schedule)
    assert _actions(tmp_path) == [("inject", "outage", "")]


def test_a_scenario_not_injected_before_the_load_ends_is_not_run(tmp_path: Path) -> None:
    keys, trigger, _ = _operator(tmp_path)
    schedule = Schedule(warmup_end_s=time.time(), load_end_s=time.time() + 0.3)
    started_s = time.monotonic()
    assert not trigger.wait_for_next(Scenario(name="outage", experiment=Path("x")), schedule)
    assert time.monotonic() - started_s < 2
    keys.handle("i")
    assert keys.message == "nothing done: the load has ended: no scenario starts any more"
    assert _actions(tmp_path) == []


def test_roll_back_with_nothing_running_does_nothing(tmp_path: Path) -> None:
    keys, _, stops = _operator(tmp_path)
    keys.handle("r")
    assert keys.message == "nothing done: no scenario is running"
    assert stops.aborting is None and _actions(tmp_path) == []


def test_a_note_is_typed_edited_and_saved_with_its_time(tmp_path: Path) -> None:
    keys, _, _ = _operator(tmp_path)
    before_s = time.time()
    keys.handle("n")
    keys.handle("edge failed ovr")
    keys.handle("\x7f\x7f")  # backspace twice
    keys.handle("ver ✓")
    keys.handle("\x1b[D")  # an arrow key: an escape sequence, not Esc
    assert keys.note == "edge failed over ✓"
    keys.handle("i")  # typed into the note, not a command
    keys.handle("\r")
    assert keys.note is None and keys.message == "note saved: edge failed over ✓i"
    (note,) = read_operator_log(tmp_path) or []
    assert (note.action, note.text) == ("note", "edge failed over ✓i")
    assert before_s <= note.t_s <= time.time()


def test_esc_cancels_a_note_and_an_empty_one_is_not_saved(tmp_path: Path) -> None:
    keys, _, _ = _operator(tmp_path)
    keys.handle("nnever mind\x1b")
    assert keys.note is None and keys.message == "note cancelled"
    keys.handle("n   \n")
    assert keys.message == "empty note: not saved"
    assert _actions(tmp_path) == []


def test_quit_asks_the_run_to_stop_once(tmp_path: Path) -> None:
    keys, _, stops = _operator(tmp_path)
    keys.handle("q")
    keys.handle("q")
    assert stops.requested is not None
    assert (stops.requested.reason, stops.requested.kind) == (QUIT_REASON, OPERATOR_STOP)
    assert keys.message.startswith("already stopping")
    keys.handle("i")  # once stopping, nothing more starts
    assert keys.message.startswith("stopping:")
    assert _actions(tmp_path) == [("quit", "", QUIT_REASON)]


def test_the_session_draws_the_dashboard_and_takes_keys(tmp_path: Path) -> None:
    suite = Suite(name="live", load=LoadProfile(rate_per_s=10, duration_s=60),
                  scenarios=[Scenario(name="outage", experiment=Path("x.json"))],
                  slos=[AvailabilitySlo(kind="availability", objective=0.99)])
    EventLog(tmp_path / "events.jsonl").emit(EventKind.LOAD_START)
    stops = StopSignals()
    stops.install()  # the quit comes from the session's thread: SIGINT to the main thread,
    stops.enter("test", NOWHERE)  # which this phase notes and never raises
    trigger = OperatorTrigger(stops, ["outage"])
    fake = FakeKeys("n", "looks calm", "\r")
    screen = io.StringIO()
    console = Console(file=screen, width=120, color_system=None)
    try:
        with LiveSession(tmp_path, suite, trigger, OperatorLog(tmp_path), fake, console,
                         refresh_s=0.1) as session:
            time.sleep(0.6)
            fake.type("q")
            time.sleep(0.3)
    finally:
        stops.restore()
    assert session.failure is None and session.refreshes >= 3
    drawn = screen.getvalue()
    assert "Traffic" in drawn and "Scenarios" in drawn and "note looks calm" in drawn
    assert _actions(tmp_path) == [("note", "", "looks calm"), ("quit", "", QUIT_REASON)]
    assert stops.requested is not None and stops.requested.kind == OPERATOR_STOP


class GoneKeys:
    """A terminal that hung up: every read is an EOF."""

    def read(self, timeout_s: float) -> str:
        raise EOFError("the terminal closed")


def test_a_terminal_gone_is_a_quit(tmp_path: Path) -> None:
    suite = Suite(name="live", load=LoadProfile(rate_per_s=10, duration_s=60),
                  slos=[AvailabilitySlo(kind="availability", objective=0.99)])
    stops = StopSignals()
    stops.install()
    stops.enter("test", NOWHERE)
    trigger = OperatorTrigger(stops, [])
    try:
        with LiveSession(tmp_path, suite, trigger, OperatorLog(tmp_path), GoneKeys(),
                         Console(file=io.StringIO(), color_system=None), refresh_s=0.1):
            time.sleep(0.4)
    finally:
        stops.restore()
    assert _actions(tmp_path) == [("quit", "", "operator: the terminal closed")]
    assert stops.requested is not None and stops.requested.kind == OPERATOR_STOP
