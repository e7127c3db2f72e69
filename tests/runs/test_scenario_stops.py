"""A stop reaches a Chaos Toolkit experiment wherever it runs: during the fault action, during
its pause, during the hypothesis; it ends the experiment as ``interrupted`` with its rollbacks
played, within a fraction of a second — and never cuts the rollbacks short.

The experiment runs in a child process (signals and a test runner do not mix) with a tiny
provider module written into tmp_path; no platform is involved.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.runs.run_helpers import REPO

_PROVIDER = '''
import time
from pathlib import Path

def mark(path, what):
    with open(path, "a") as handle:
        handle.write(f"{what} {time.time()}\\n")

def inject(marks, seconds):
    mark(marks, "inject-start")
    time.sleep(seconds)
    mark(marks, "inject-end")
    return "injected"

def probe(marks):
    mark(marks, "probe")
    return True

def rollback(marks, seconds):
    mark(marks, "rollback-start")
    time.sleep(seconds)
    mark(marks, "rollback-end")
    return "rolled back"
'''

_RUNNER = '''
import json, sys, time
from pathlib import Path
from gameday.experiment import FaultWindowRecorder, run_scenario
from gameday.interrupts import StopSignals
from gameday.records import EventLog

work = Path(sys.argv[1])
experiment = json.loads((work / "experiment.json").read_text())
stops = StopSignals()
stops.install()
stops.enter("fault")
events = EventLog(work / "events.jsonl")
recorder = FaultWindowRecorder(events, "s", "region-a")
print("ready", flush=True)
journal = run_scenario(experiment, recorder=recorder, configuration={},
                       journal_path=work / "journal.json", stops=stops)
request = stops.requested
print(json.dumps({"status": journal["status"], "ended_s": time.time(),
                  "stop": request.reason if request else None,
                  "rollbacks": [r["status"] for r in journal.get("rollbacks", [])]}), flush=True)
'''


def _experiment(marks: Path, *, action_s: float, pause_s: float,
                rollback_s: float) -> dict[str, object]:
    provider = {"type": "python", "module": "stopprov"}
    return {
        "version": "1.0.0", "title": "stops", "description": "stops",
        "steady-state-hypothesis": {"title": "ok", "probes": [{
            "type": "probe", "name": "probe", "tolerance": True,
            "provider": {**provider, "func": "probe", "arguments": {"marks": str(marks)}}}]},
        "method": [{"type": "action", "name": "inject", "pauses": {"after": pause_s},
                    "provider": {**provider, "func": "inject",
                                 "arguments": {"marks": str(marks), "seconds": action_s}}}],
        "rollbacks": [{"type": "action", "name": "rollback",
                       "provider": {**provider, "func": "rollback",
                                    "arguments": {"marks": str(marks), "seconds": rollback_s}}}],
    }


def _marks(path: Path) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in path.read_text().splitlines():
        what, t_s = line.split()
        found.setdefault(what, float(t_s))
    return found


def _wait_for_mark(path: Path, what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not (path.exists() and what in path.read_text()):
        assert time.monotonic() < deadline, f"no {what} mark"
        time.sleep(0.01)


def _run(tmp_path: Path, *, action_s: float, pause_s: float, rollback_s: float, at: str,
         delay_s: float, signum: int = signal.SIGINT,
         ignore_sigint: bool = False) -> tuple[dict[str, object], float, dict[str, float]]:
    marks = tmp_path / "marks"
    (tmp_path / "stopprov.py").write_text(_PROVIDER)
    (tmp_path / "experiment.json").write_text(json.dumps(
        _experiment(marks, action_s=action_s, pause_s=pause_s, rollback_s=rollback_s)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    # SIG_IGN inherited, as a background job of a non-interactive shell gets it
    preexec = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None
    child = subprocess.Popen([sys.executable, "-c", _RUNNER, str(tmp_path)], env=env,
                             stdout=subprocess.PIPE, text=True, cwd=tmp_path,
                             preexec_fn=preexec)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        _wait_for_mark(marks, at)
        time.sleep(delay_s)
        sent_s = time.time()
        child.send_signal(signum)
        output, _ = child.communicate(timeout=60)
    finally:
        child.kill()
    result = json.loads(output.strip().splitlines()[-1])
    return result, sent_s, _marks(marks)


@pytest.mark.parametrize("ignore_sigint", [False, True], ids=["default", "inherited-SIG_IGN"])
def test_sigint_in_the_pause_ends_the_experiment_at_once_with_its_rollback(
        tmp_path: Path, ignore_sigint: bool) -> None:
    result, sent_s, marks = _run(tmp_path, action_s=0.1, pause_s=30, rollback_s=0.1,
                                 at="inject-end", delay_s=0.5, ignore_sigint=ignore_sigint)
    assert result["status"] == "interrupted" and result["stop"] == "SIGINT"
    assert result["rollbacks"] == ["succeeded"]
    print(f"rollback started {marks['rollback-start'] - sent_s:.3f} s after SIGINT")
    assert marks["rollback-start"] - sent_s < 1.0


def test_sigint_in_the_action_does_not_wait_out_the_pause(tmp_path: Path) -> None:
    # chaoslib sleeps an action's pause after a KeyboardInterrupt in the action; the stop is
    # delivered again and ends that sleep
    result, sent_s, marks = _run(tmp_path, action_s=2, pause_s=30, rollback_s=0.1,
                                 at="inject-start", delay_s=0.5)
    assert result["status"] == "interrupted"
    assert "inject-end" not in marks  # the action itself was cut short
    print(f"rollback started {marks['rollback-start'] - sent_s:.3f} s after SIGINT")
    assert marks["rollback-start"] - sent_s < 1.5


def test_sigterm_is_handled_like_sigint_although_chaoslib_installs_its_own(
        tmp_path: Path) -> None:
    result, sent_s, marks = _run(tmp_path, action_s=0.1, pause_s=30, rollback_s=0.1,
                                 at="inject-end", delay_s=0.5, signum=signal.SIGTERM)
    assert result["status"] == "interrupted" and result["stop"] == "SIGTERM"
    assert result["rollbacks"] == ["succeeded"]
    assert marks["rollback-start"] - sent_s < 1.0


def test_a_stop_during_the_rollbacks_lets_them_finish(tmp_path: Path) -> None:
    result, _, marks = _run(tmp_path, action_s=0.1, pause_s=0.1, rollback_s=1.5,
                            at="rollback-start", delay_s=0.3)
    assert "rollback-end" in marks
    assert result["rollbacks"] == ["succeeded"]
    assert result["stop"] == "SIGINT"  # noted: the caller stops the run after the scenario


def test_without_a_stop_the_experiment_runs_to_the_end(tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    (tmp_path / "stopprov.py").write_text(_PROVIDER)
    (tmp_path / "experiment.json").write_text(json.dumps(
        _experiment(marks, action_s=0.1, pause_s=0.3, rollback_s=0.1)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(_RUNNER), str(tmp_path)],
                          env=env, capture_output=True, text=True, cwd=tmp_path, timeout=60)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {**result, "status": "completed", "stop": None,
                      "rollbacks": ["succeeded"]}
