"""Game-day mode as an operator drives it, in a real terminal: ``gameday gameday`` in a tmux
pane (160x48) on the local platform, keys sent with ``tmux send-keys``: inject the first
scenario (a region outage held for minutes), add a note, roll back now, quit.

Then the run folder must hold every action in order with its time, the outage's fault
window must be closed by the rollback the operator asked for (long before its own pause
would have ended it), nothing may be left injected (the platform's own view and ``gameday
status``), the report must have its Game day section, and the pane must have shown the
dashboard. And a pane that goes away mid-fault (a dropped SSH link: SIGHUP) must still roll
the fault back and write the report. About 80 s on top of the module's platform stand-up.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
import yaml

from gameday.operator_log import OPERATOR_CONDITION, read_operator_log
from gameday.platforms.local.platform import LocalPlatform
from gameday.records import EventKind, read_events
from tests.runs.run_helpers import (
    GAMEDAY,
    REPO,
    RunFolder,
    left_on_a_shared_platform,
    run_gameday,
)

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

HYPOTHESIS = "the edge fails over to region-b within 5 s and nothing is lost"
NOTE = "region-b took the load; p99 up but within bound"
PANEL_TITLES = ("Traffic", "Regions", "Error budget", "Scenarios", "Database", "Operator",
                "Keys")
FAULT_FOR_S = 300  # far longer than the test: only the operator's rollback can end it


def _suite(path: Path) -> Path:
    suite = yaml.safe_load((REPO / "suites" / "smoke.yaml").read_text())
    suite["name"] = "test-gameday-mode"
    suite["load"].update(rate_per_s=30, warmup_s=3, duration_s=90, lag_bound_s=0.05)
    suite["scenarios"] = [
        {"name": "region-outage", "experiment": str(REPO / "experiments/region-outage.json"),
         "target_region": "region-a", "configuration": {"fault_duration_s": FAULT_FOR_S}},
        {"name": "replica-kill", "experiment": str(REPO / "experiments/replica-kill.json"),
         "target_region": "region-a"}]
    suite["slos"] = [{"kind": "availability", "objective": 0.9, "scope": "outside_faults"}]
    suite["gameday"] = {"hypothesis": HYPOTHESIS}
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return path


class Pane:
    """One tmux session on a server of its own (its socket in tmp_path)."""

    def __init__(self, socket: Path, name: str = "gd") -> None:
        self.socket, self.name = socket, name

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-S", str(self.socket), *args], capture_output=True,
                              text=True, timeout=30, check=True)
        return done.stdout

    def start(self, command: str) -> None:
        self.tmux("new-session", "-d", "-s", self.name, "-x", "160", "-y", "48", command)
        self.tmux("set-option", "-t", self.name, "remain-on-exit", "on")

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", self.name, *(("-l",) if literal else ()), *keys)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def wait_for(self, text: str, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.3)
        raise AssertionError(f"{text!r} never showed in the pane:\n{self.screen()}")

    def kill(self) -> None:
        subprocess.run(["tmux", "-S", str(self.socket), "kill-server"], capture_output=True,
                       timeout=30)


def _event_after(runs: Path, kind: str, scenario: str, timeout_s: float) -> float:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for folder in runs.iterdir():
            for event in read_events(folder):
                if event.kind == kind and event.scenario == scenario:
                    return event.t_s
        time.sleep(0.2)
    raise AssertionError(f"no {kind} of {scenario} within {timeout_s} s")


def _start(platform: LocalPlatform, tmp_path: Path) -> tuple[Pane, Path, Path]:
    runs, exit_file = tmp_path / "runs", tmp_path / "exit-code"
    command = (f"cd {REPO} && env GAMEDAY_HOME={platform.home.root} {GAMEDAY} gameday "
               f"{_suite(tmp_path / 'suite.yaml')} --runs-dir {runs}; echo $? > {exit_file}")
    pane = Pane(tmp_path / "tmux.sock")
    pane.start(command)
    return pane, runs, exit_file


def test_an_operator_injects_notes_rolls_back_and_quits_through_tmux(
        local_platform: LocalPlatform, tmp_path: Path) -> None:
    pane, runs, exit_file = _start(local_platform, tmp_path)
    try:
        shown = pane.wait_for("WAITING: i injects it", timeout_s=60)
        pane.keys("i")
        fault_start_s = _event_after(runs, EventKind.FAULT_START, "region-outage", 60)
        time.sleep(3)  # the edge fails over meanwhile
        pane.keys("n")
        pane.keys(NOTE, literal=True)
        pane.keys("Enter")
        pane.wait_for("note saved", timeout_s=10)
        pane.keys("r")
        fault_end_s = _event_after(runs, EventKind.FAULT_END, "region-outage", 60)
        during = pane.wait_for("rolled back by the operator", timeout_s=60)
        pane.keys("q")
        deadline = time.monotonic() + 90
        while not exit_file.exists():
            assert time.monotonic() < deadline, f"gameday never ended:\n{pane.screen()}"
            time.sleep(0.5)
        after = pane.screen()
    finally:
        pane.kill()

    print(shown, during, after, sep="\n----\n")
    for title in PANEL_TITLES:
        assert title in shown, title
    assert "region-outage" in during and HYPOTHESIS[:40] in during
    run = RunFolder.only_one_in(runs)

    # the operator's actions, in order, each with its time
    actions = read_operator_log(run.path)
    assert actions is not None
    assert [a.action for a in actions] == ["hypothesis", "inject", "note", "roll_back", "quit"]
    assert actions[0].text == HYPOTHESIS
    assert actions[1].scenario == actions[3].scenario == "region-outage"
    assert actions[2].text == NOTE
    times = [a.t_s for a in actions]
    assert times == sorted(times)
    assert actions[1].t_s <= fault_start_s <= actions[3].t_s <= fault_end_s

    # the fault window closed by the operator's rollback, not by the fault's own pause
    assert fault_end_s - fault_start_s < FAULT_FOR_S / 3
    (aborted,) = [e for e in run.events if e.kind == EventKind.SCENARIO_ABORTED]
    assert aborted.scenario == "region-outage"
    assert aborted.detail["condition"] == OPERATOR_CONDITION
    assert aborted.detail["journal_status"] == "interrupted"
    journal = json.loads((run.path / "journal-region-outage.json").read_text())
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]
    assert not [e for e in run.events if e.kind == EventKind.ROLLBACK_FAILED]
    (interrupted,) = [e for e in run.events if e.kind == EventKind.INTERRUPTED]
    assert interrupted.detail["reason"] == "operator: quit"
    assert not [e for e in run.events if e.scenario == "replica-kill"]

    # nothing left injected, by the platform's own check and by `gameday status`
    assert left_on_a_shared_platform(local_platform, run.path) == []
    status = run_gameday("status", "--json", home=local_platform.home.root)
    assert json.loads(status.stdout)["faults"] == [], status.stdout
    assert exit_file.read_text().strip() == "2"  # q stops the run as Ctrl-C does

    # the report and the summary
    html = (run.path / "report.html").read_text()
    assert 'id="game-day"' in html and HYPOTHESIS in html and NOTE in html
    assert 'id="rolled-back-region-outage"' in html
    day = run.summary["game_day"]
    assert [a["action"] for a in day["actions"]] == ["inject", "note", "roll_back", "quit"]
    assert day["notes"] == [NOTE] and day["not_started"] == ["replica-kill"]
    assert [r["scenario"] for r in day["rolled_back_by_operator"]] == ["region-outage"]


def test_a_terminal_that_hangs_up_mid_fault_leaves_nothing_injected(
        local_platform: LocalPlatform, tmp_path: Path) -> None:
    """An SSH link that drops: the pane goes away with the outage in force (SIGHUP to the
    foreground job, and the keys' terminal gone); the run rolls back, stops and writes its
    report with nobody watching."""
    pane, runs, _ = _start(local_platform, tmp_path)
    try:
        pane.wait_for("WAITING: i injects it", timeout_s=60)
        pane.keys("i")
        _event_after(runs, EventKind.FAULT_START, "region-outage", 60)
        assert local_platform.faults_in_force()
        # the kernel's SIGHUP to the foreground job, then the terminal itself goes away
        (gameday,) = psutil.Process(int(pane.tmux("display", "-p", "-t", pane.name,
                                                  "#{pane_pid}"))).children()
        gameday.send_signal(signal.SIGHUP)
        time.sleep(0.5)
    finally:
        pane.kill()
    _event_after(runs, EventKind.FAULT_END, "region-outage", 60)
    run = RunFolder.only_one_in(runs)
    deadline = time.monotonic() + 90
    while not (run.path / "summary.json").exists():
        assert time.monotonic() < deadline, "no report after the hang-up"
        time.sleep(0.5)
    (interrupted,) = [e for e in run.events if e.kind == EventKind.INTERRUPTED]
    # the run's own handler takes SIGHUP as it takes SIGTERM, and says which it was
    assert interrupted.detail["reason"] == "SIGHUP"
    journal = json.loads((run.path / "journal-region-outage.json").read_text())
    assert journal["status"] == "interrupted"
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]
    assert left_on_a_shared_platform(local_platform, run.path) == []
    assert run.summary["verdict"] == "error" and "interrupted" in run.summary["reason"]
