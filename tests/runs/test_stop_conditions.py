"""Stop conditions (gameday.safeguards, a Chaos Toolkit control): a fault that burns the error
budget fast, or a guard probe that fails, aborts the experiment within the condition's
window; the rollbacks are played and never cut short; the journal says why. Under the harness
the abort goes through ``StopSignals.abort`` and the run may go on; under the plain ``chaos``
CLI through chaoslib's own graceful exit.

Each experiment runs in a child process (signals and a test runner do not mix) with a tiny
provider module in tmp_path that writes request records with the real RecordWriter: good
answers until the fault's action, failed ones after it. No platform is involved.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.runs.run_helpers import REPO

_PROVIDER = '''
import threading, time
from pathlib import Path
from gameday.records import RecordWriter, RequestRecord

STATE = {"bad": False}

def mark(path, what):
    with open(path, "a") as handle:
        handle.write(f"{what} {time.time()}\\n")

def _load(run_dir, seconds):
    with RecordWriter(Path(run_dir) / "requests-gen0.csv", flush_every_s=0.1) as writer:
        end = time.time() + seconds
        while time.time() < end:
            now = time.time()
            bad = STATE["bad"]
            writer.write(RequestRecord(now, now, now + 0.002, "tabular", "predict",
                                       "" if bad else "region-a", 503 if bad else 200,
                                       not bad, "http_5xx" if bad else ""))
            time.sleep(0.01)

def start_load(run_dir, seconds):
    threading.Thread(target=_load, args=(run_dir, seconds), daemon=True).start()
    time.sleep(1.0)
    return "load"

def inject(marks):
    STATE["bad"] = True
    mark(marks, "inject")
    return "injected"

def healthy(marks):
    return not Path(str(marks) + ".unhealthy").exists()

def rollback(marks, seconds):
    mark(marks, "rollback-start")
    time.sleep(seconds)
    STATE["bad"] = False
    mark(marks, "rollback-end")
    return "rolled back"
'''

_RUNNER = '''
import json, sys, time
from pathlib import Path
from gameday import safeguards
from gameday.experiment import FaultWindowRecorder, run_scenario
from gameday.interrupts import StopSignals
from gameday.records import EventLog

work = Path(sys.argv[1])
experiment = json.loads((work / "experiment.json").read_text())
stops = StopSignals()
stops.install()
stops.enter("fault")
recorder = FaultWindowRecorder(EventLog(work / "events.jsonl"), "s", "region-a")
with safeguards.abort_with(stops.abort):
    journal = run_scenario(experiment, recorder=recorder, configuration={},
                           journal_path=work / "journal.json", stops=stops)
aborted = stops.clear_abort()
print(json.dumps({"status": journal["status"], "ended_s": time.time(),
                  "abort": aborted.reason if aborted else None,
                  "stop": stops.requested.reason if stops.requested else None,
                  "gameday_stop": journal.get("gameday_stop"),
                  "rollbacks": [r["status"] for r in journal.get("rollbacks", [])]}), flush=True)
'''

BURN = {"kind": "burn", "name": "fast-burn", "target": 0.99, "threshold": 14.4,
        "long_window_s": 2.0, "short_window_s": 0.5, "max_latency_s": None}


def _experiment(work: Path, conditions: list[dict], *, pause_s: float = 20.0) -> dict:
    provider = {"type": "python", "module": "stopcondprov"}
    marks = str(work / "marks")
    return {
        "version": "1.0.0", "title": "stop conditions", "description": "stop conditions",
        # as every gameday experiment says: chaoslib's default plays no rollback after an
        # interruption
        "runtime": {"rollbacks": {"strategy": "always"}},
        "controls": [{"name": "gameday-stop-conditions", "provider": {
            "type": "python", "module": "gameday.safeguards",
            "arguments": {"run_dir": str(work), "conditions": conditions}}}],
        "method": [
            {"type": "action", "name": "start-load",
             "provider": {**provider, "func": "start_load",
                          "arguments": {"run_dir": str(work), "seconds": 30}}},
            {"type": "action", "name": "inject", "pauses": {"after": pause_s},
             "provider": {**provider, "func": "inject", "arguments": {"marks": marks}}}],
        "rollbacks": [{"type": "action", "name": "rollback",
                       "provider": {**provider, "func": "rollback",
                                    "arguments": {"marks": marks, "seconds": 0.5}}}],
    }


def _marks(path: Path) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in path.read_text().splitlines():
        what, t_s = line.split()
        found.setdefault(what, float(t_s))
    return found


def _env(work: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(work), str(REPO)])}


def _under_the_harness(work: Path, conditions: list[dict], **options: float) -> dict:
    (work / "stopcondprov.py").write_text(_PROVIDER)
    (work / "experiment.json").write_text(json.dumps(_experiment(work, conditions,
                                                                 **options)))
    done = subprocess.run([sys.executable, "-c", _RUNNER, str(work)], env=_env(work),
                          capture_output=True, text=True, cwd=work, timeout=90)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_fast_burn_aborts_within_its_window_and_rolls_back(tmp_path: Path) -> None:
    result = _under_the_harness(tmp_path, [BURN])
    marks = _marks(tmp_path / "marks")
    assert result["status"] == "interrupted" and result["stop"] is None
    assert result["abort"].startswith("stop condition fast-burn: burn rate")
    assert result["rollbacks"] == ["succeeded"] and "rollback-end" in marks
    assert result["gameday_stop"]["condition"] == "fast-burn"
    taken_s = marks["rollback-start"] - marks["inject"]
    print(f"rollback started {taken_s:.2f} s after the fault (long window 2 s)")
    # the short window fills with bad answers in 0.5 s, the long one crosses 14.4x at once
    # (1 bad in 7 is 14.3x of a 1 % budget): well inside the 20 s the fault would have held
    assert taken_s < BURN["long_window_s"] + 2.0


def test_a_failing_guard_probe_aborts(tmp_path: Path) -> None:
    guard = {"kind": "probe", "name": "health-guard", "every_s": 0.2, "probe": {
        "type": "probe", "name": "service-healthy", "tolerance": True,
        "provider": {"type": "python", "module": "stopcondprov", "func": "healthy",
                     "arguments": {"marks": str(tmp_path / "marks")}}}}
    (tmp_path / "marks.unhealthy").write_text("")
    result = _under_the_harness(tmp_path, [guard])
    assert result["status"] == "interrupted"
    assert "guard probe 'service-healthy' missed its tolerance" in result["abort"]
    assert result["rollbacks"] == ["succeeded"]


def test_no_condition_firing_lets_the_experiment_complete(tmp_path: Path) -> None:
    calm = {**BURN, "threshold": 1000.0}  # 100 % errors is only 100x a 1 % budget
    result = _under_the_harness(tmp_path, [calm], pause_s=2.0)
    assert result["status"] == "completed" and result["abort"] is None
    assert result["gameday_stop"] is None and result["rollbacks"] == ["succeeded"]


def test_under_the_plain_chaos_cli_the_control_aborts_gracefully(tmp_path: Path) -> None:
    (tmp_path / "stopcondprov.py").write_text(_PROVIDER)
    experiment = tmp_path / "experiment.json"
    experiment.write_text(json.dumps(_experiment(tmp_path, [BURN])))
    journal = tmp_path / "journal.json"
    chaos = Path(sys.executable).parent / "chaos"
    subprocess.run([str(chaos), "--no-version-check", "--log-file", str(tmp_path / "c.log"),
                    "run", "--journal-path", str(journal), str(experiment)],
                   env=_env(tmp_path), capture_output=True, text=True, cwd=tmp_path,
                   timeout=90)
    written = json.loads(journal.read_text())
    marks = _marks(tmp_path / "marks")
    assert written["status"] == "interrupted"
    assert [r["status"] for r in written["rollbacks"]] == ["succeeded"]
    assert "rollback-end" in marks
    assert written["gameday_stop"]["condition"] == "fast-burn"
    assert marks["rollback-start"] - marks["inject"] < BURN["long_window_s"] + 2.0
