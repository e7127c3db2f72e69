"""The operator trigger against the real stop machinery: a roll back through its window ends a
real Chaos Toolkit experiment as ``interrupted`` with its rollback played, and the run goes
on (no stray interrupt after it); a roll back outside the window (nothing running, or the
rollbacks already begun) does nothing; a quit while the run waits on the operator stops it
as a Ctrl-C does. The default trigger starts each scenario at its offset.

Each run is a child process (signals and a test runner do not mix) with a tiny provider
module in tmp_path; no platform is involved. The runner does what ``gameday.run`` does
around one scenario.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gameday.config import Scenario
from gameday.triggers import AtOffsets, Schedule
from tests.runs.run_helpers import REPO

_PROVIDER = '''
import time

def mark(path, what):
    with open(path, "a") as handle:
        handle.write(f"{what} {time.time()}\\n")

def inject(marks):
    mark(marks, "inject")
    return "injected"

def rollback(marks, seconds):
    mark(marks, "rollback-start")
    time.sleep(seconds)
    mark(marks, "rollback-end")
    return "rolled back"
'''

_RUNNER = '''
import json, sys, threading, time
from pathlib import Path
from gameday.config import Scenario
from gameday.experiment import FaultWindowRecorder, run_scenario
from gameday.interrupts import NOWHERE, StopSignals
from gameday.records import EventLog
from gameday.triggers import OperatorTrigger, Refused, Schedule

work, when = Path(sys.argv[1]), sys.argv[2]  # when: fault | rollbacks | waiting (quit)
marks = work / "marks"
stops = StopSignals()
stops.install()
trigger = OperatorTrigger(stops, ["s"])
said = {}

def wait_for(what):
    while not (marks.exists() and what in marks.read_text()):
        time.sleep(0.01)

def operator():
    said["early"] = repr(trigger.roll_back("operator: roll back now"))
    time.sleep(0.3)
    if when == "waiting":
        trigger.quit("operator: quit")
        return
    said["inject"] = trigger.inject()
    wait_for("inject" if when == "fault" else "rollback-start")
    time.sleep(0.3)
    said["asked_s"] = time.time()
    outcome = trigger.roll_back("operator: roll back now")
    said["roll_back"] = outcome.why if isinstance(outcome, Refused) else outcome

threading.Thread(target=operator, daemon=True).start()
try:
    stops.enter("before-fault")
    now = time.time()
    assert trigger.wait_for_next(Scenario(name="s", experiment=Path("x")),
                                 Schedule(warmup_end_s=now, load_end_s=now + 60))
    stops.enter("fault", NOWHERE)
    recorder = FaultWindowRecorder(EventLog(work / "events.jsonl"), "s", "region-a")
    trigger.open_window("s", lambda: recorder.phase != "rollbacks")
    journal = run_scenario(json.loads((work / "experiment.json").read_text()),
                           recorder=recorder, configuration={},
                           journal_path=work / "journal.json", stops=stops)
    by_operator = trigger.close_window()
    aborted = stops.clear_abort()
    stops.enter("after-fault")  # anywhere: a stray interrupt would be raised here
    time.sleep(0.6)  # or here (the nudger's period is 0.2 s)
    result = {"status": journal["status"], "by_operator": by_operator,
              "abort": aborted.reason if aborted else None,
              "rollbacks": [r["status"] for r in journal.get("rollbacks", [])]}
except KeyboardInterrupt:
    result = {"interrupted": True}
result |= {"said": said, "stop": [stops.requested.reason, stops.requested.kind]
           if stops.requested else None}
print(json.dumps(result), flush=True)
'''


def _run(tmp_path: Path, when: str, *, pause_s: float = 20.0,
         rollback_s: float = 0.2) -> tuple[dict, dict[str, float]]:
    provider = {"type": "python", "module": "triggerprov"}
    marks = str(tmp_path / "marks")
    experiment = {
        "version": "1.0.0", "title": "operator", "description": "operator",
        "runtime": {"rollbacks": {"strategy": "always"}},
        "method": [{"type": "action", "name": "inject", "pauses": {"after": pause_s},
                    "provider": {**provider, "func": "inject", "arguments": {"marks": marks}}}],
        "rollbacks": [{"type": "action", "name": "rollback", "provider": {
            **provider, "func": "rollback",
            "arguments": {"marks": marks, "seconds": rollback_s}}}]}
    (tmp_path / "triggerprov.py").write_text(_PROVIDER)
    (tmp_path / "experiment.json").write_text(json.dumps(experiment))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    done = subprocess.run([sys.executable, "-c", _RUNNER, str(tmp_path), when], env=env,
                          capture_output=True, text=True, cwd=tmp_path, timeout=90)
    assert done.returncode == 0, done.stderr[-3000:]
    found: dict[str, float] = {}
    if (tmp_path / "marks").exists():
        for line in (tmp_path / "marks").read_text().splitlines():
            what, t_s = line.split()
            found.setdefault(what, float(t_s))
    return json.loads(done.stdout.strip().splitlines()[-1]), found


def test_the_operators_roll_back_ends_the_experiment_with_its_rollback_and_the_run_goes_on(
        tmp_path: Path) -> None:
    result, marks = _run(tmp_path, "fault")
    assert result["said"]["early"] == "Refused(why='no scenario is running')"
    assert result["said"]["inject"] == "s" and result["said"]["roll_back"] == "s"
    assert result["status"] == "interrupted" and result["rollbacks"] == ["succeeded"]
    assert result["by_operator"] is True and result["abort"] == "operator: roll back now"
    assert result["stop"] is None  # an abort of the scenario, not a stop of the run
    assert "rollback-end" in marks
    taken_s = marks["rollback-start"] - result["said"]["asked_s"]
    print(f"rollback started {taken_s:.3f} s after the operator asked (pause was 20 s)")
    assert taken_s < 1.5


def test_a_roll_back_once_the_rollbacks_began_does_nothing(tmp_path: Path) -> None:
    result, marks = _run(tmp_path, "rollbacks", pause_s=0.2, rollback_s=1.5)
    assert result["said"]["roll_back"] == "s is not in its fault (starting, or already " \
        "rolling back)"
    assert result["status"] == "completed" and result["abort"] is None
    assert result["by_operator"] is False and result["rollbacks"] == ["succeeded"]
    assert "rollback-end" in marks


def test_a_quit_while_the_run_waits_on_the_operator_stops_it(tmp_path: Path) -> None:
    result, marks = _run(tmp_path, "waiting")
    assert result["interrupted"] is True
    assert result["stop"] == ["operator: quit", "operator"]
    assert marks == {}  # nothing was injected


def test_by_default_each_scenario_starts_at_its_offset_after_the_warm_up() -> None:
    said: list[str] = []
    warmup_end_s = time.time()
    started_s = time.time()
    assert AtOffsets(said.append).wait_for_next(
        Scenario(name="s", experiment=Path("x"), offset_s=0.4),
        Schedule(warmup_end_s=warmup_end_s, load_end_s=warmup_end_s + 1))
    assert 0.35 <= time.time() - started_s < 1.0
    assert said and said[0].startswith("scenario s: starts in 0.")


def test_a_scenario_whose_offset_has_passed_starts_at_once_and_says_how_late(
        monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[str] = []
    now_s = 1000.0
    trigger = AtOffsets(said.append, clock=lambda: now_s)
    monkeypatch.setattr("gameday.triggers.sleep_until", _no_sleep)
    assert trigger.wait_for_next(Scenario(name="s", experiment=Path("x"), offset_s=4),
                                 Schedule(warmup_end_s=now_s - 12.5, load_end_s=now_s + 30))
    assert said == ["scenario s: starts 8.5 s late, at +12.5 s: the scenario before it ran "
                    "past its offset"]


def _no_sleep(t_s: float) -> None:
    raise AssertionError(f"slept until {t_s}")


def test_a_scenario_whose_turn_comes_after_the_load_schedule_ended_is_not_run() -> None:
    said: list[str] = []
    now_s = 1000.0
    trigger = AtOffsets(said.append, clock=lambda: now_s)
    assert not trigger.wait_for_next(Scenario(name="s", experiment=Path("x"), offset_s=4),
                                     Schedule(warmup_end_s=now_s - 60, load_end_s=now_s))
    assert said == []  # the run logs it as not run, with its reason
