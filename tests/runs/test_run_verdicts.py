"""What the harness itself saw changes the verdict, as the plain ``chaos`` CLI's would: a
steady-state hypothesis that deviated fails its scenario (exit 1); a rollback that failed is a
harness error that says what was still injected (exit 2); a load generator that died or was
stopped before the end of its schedule stops the run at once (exit 2), faults rolled back.

The experiments are written by the tests: real gameday providers, and a tiny provider module
of the test's (put on PYTHONPATH) for a rollback that raises.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from gameday.platforms.local.platform import LocalPlatform
from gameday.records import EventKind
from tests.runs.run_helpers import (
    REPO,
    RunFolder,
    left_on_a_shared_platform,
    run_gameday,
    start_gameday,
    stopped_within,
    toxics,
    wait_for_event,
    write_suite,
)

STOP_BOUND_S = 10.0
_AVAILABILITY_ONLY = [{"kind": "availability", "objective": 0.9, "scope": "outside_faults"}]


def _experiment(base: str, **changes: Any) -> dict[str, Any]:
    experiment: dict[str, Any] = json.loads((REPO / "experiments" / f"{base}.json").read_text())
    experiment.update(changes)
    return experiment


def _write(tmp_path: Path, name: str, experiment: dict[str, Any]) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(experiment, indent=2))
    return path


def _junit_cases(run: RunFolder) -> dict[tuple[str, str], str]:
    """(suite, case) → passed | failure | error | skipped."""
    root = ET.parse(run.path / "junit.xml").getroot()
    outcome = {}
    for suite in root.iter("testsuite"):
        for case in suite.iter("testcase"):
            kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
            outcome[(suite.get("name") or "", case.get("name") or "")] = \
                kinds[0] if kinds else "passed"
    return outcome


def test_a_deviated_hypothesis_fails_the_scenario_with_exit_1(local_platform: LocalPlatform,
                                                              tmp_path: Path) -> None:
    # "the target region answers inference" cannot hold while the target region is killed
    outage = _experiment("region-outage")
    outage["steady-state-hypothesis"] = {"title": "the target region answers inference",
                                         "probes": [{
        "type": "probe", "name": "target-region-answers-inference",
        "tolerance": {"type": "jsonpath", "path": "$.serving", "expect": True},
        "provider": {"type": "python", "module": "gameday.faults.serving.probes",
                     "func": "region_answers_inference",
                     "arguments": {"region": "${gameday_region}", "stack": "tabular",
                                   "endpoint": "predict", "require": "all"}}}]}
    suite = write_suite(tmp_path / "suite.yaml", experiment=_write(tmp_path, "deviates", outage),
                        duration_s=12, offset_s=2, fault_duration_s=2, rate_per_s=20,
                        slos=_AVAILABILITY_ONLY)
    result = run_gameday("run", str(suite), "--runs-dir", str(tmp_path / "runs"),
                         home=local_platform.home.root)

    assert result.returncode == 1, result.stdout + result.stderr
    run = RunFolder.only_one_in(tmp_path / "runs")
    end = run.event(EventKind.SCENARIO_END)
    assert end.detail["deviated"] is True and end.detail["rollbacks"] == ["succeeded"]
    assert run.summary["verdict"] == "fail" and "deviated" in run.summary["reason"]
    cases = _junit_cases(run)
    assert cases[("deviates", "steady_state")] == "failure"
    assert [case for case, outcome in cases.items() if outcome == "failure"] == \
        [("deviates", "steady_state")]
    assert left_on_a_shared_platform(local_platform, run.path) == []


_FAILING_ROLLBACK = '''
def refuse(configuration=None):
    raise RuntimeError("this rollback refuses to roll back")
'''


def test_a_failed_rollback_is_a_harness_error_that_says_what_was_still_injected(
        local_platform: LocalPlatform, tmp_path: Path) -> None:
    (tmp_path / "refusing_rollback.py").write_text(_FAILING_ROLLBACK)
    latency = _experiment("edge-latency", rollbacks=[{
        "type": "action", "name": "refuse-to-roll-back",
        "provider": {"type": "python", "module": "refusing_rollback", "func": "refuse"}}])
    suite = write_suite(tmp_path / "suite.yaml", experiment=_write(tmp_path, "stuck", latency),
                        duration_s=10, offset_s=2, fault_duration_s=2, rate_per_s=20,
                        slos=_AVAILABILITY_ONLY)
    result = run_gameday("run", str(suite), "--runs-dir", str(tmp_path / "runs"),
                         home=local_platform.home.root, python_path=tmp_path)

    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "rollback failed" in output and "Traceback" not in output
    run = RunFolder.only_one_in(tmp_path / "runs")
    failed = run.event(EventKind.ROLLBACK_FAILED)
    assert failed.scenario == "stuck"
    assert any("gameday_latency" in item for item in failed.detail["still_injected"])
    assert "refuse-to-roll-back" in failed.detail["message"]
    assert "refuses to roll back" in failed.detail["message"]
    assert run.summary["verdict"] == "error"
    assert _junit_cases(run)[("stuck", "rollback")] == "error"
    # the harness undid what the rollback left: the next run finds a clean platform
    assert left_on_a_shared_platform(local_platform, run.path) == []


def _start_with_a_long_fault(platform: LocalPlatform,
                             tmp_path: Path) -> tuple[subprocess.Popen[str], Path, int]:
    """A run in its 20 s fault; its load generator's pid."""
    suite = write_suite(tmp_path / "suite.yaml", experiment="edge-latency", duration_s=30,
                        offset_s=2, fault_duration_s=20, rate_per_s=20)
    runs = tmp_path / "runs"
    process = start_gameday("run", str(suite), "--runs-dir", str(runs), home=platform.home.root)
    try:
        wait_for_event(runs, EventKind.FAULT_START, timeout_s=90)
        generator = wait_for_event(runs, EventKind.LOAD_START, timeout_s=5).detail["pid"]
        assert toxics(platform)
    except BaseException:
        process.send_signal(signal.SIGINT)
        stopped_within(process, time.monotonic())
        raise
    return process, runs, int(generator)


def test_a_load_generator_that_dies_stops_the_run_with_a_harness_error(
        local_platform: LocalPlatform, tmp_path: Path) -> None:
    process, runs, generator = _start_with_a_long_fault(local_platform, tmp_path)
    killed_s = time.monotonic()
    os.kill(generator, signal.SIGKILL)  # exit status -9, no load_end
    code, output, stop_s = stopped_within(process, killed_s)
    print(f"load generator SIGKILLed: the run exited {code} {stop_s:.2f} s later")

    assert code == 2, output
    assert stop_s < STOP_BOUND_S  # not after the 20 s fault
    assert "exited with code -9 before the end of its schedule" in output
    run = RunFolder.only_one_in(runs)
    errors = [e.detail["message"] for e in run.events if e.kind == EventKind.HARNESS_ERROR]
    assert errors and "exited with code -9" in errors[0]
    assert run.summary["verdict"] == "error" and "exited with code -9" in run.summary["reason"]
    assert run.event(EventKind.SCENARIO_END).detail["status"] == "interrupted"
    assert left_on_a_shared_platform(local_platform, run.path) == []


def test_a_load_generator_stopped_by_someone_else_interrupts_the_run(
        local_platform: LocalPlatform, tmp_path: Path) -> None:
    process, runs, generator = _start_with_a_long_fault(local_platform, tmp_path)
    sent_s = time.monotonic()
    os.kill(generator, signal.SIGINT)  # it stops cleanly: exit 0, load_end stopped_by SIGINT
    code, output, stop_s = stopped_within(process, sent_s)
    print(f"load generator SIGINTed: the run exited {code} {stop_s:.2f} s later")

    assert code == 2, output
    assert stop_s < STOP_BOUND_S
    run = RunFolder.only_one_in(runs)
    (interrupted,) = [e for e in run.events if e.kind == EventKind.INTERRUPTED]
    assert interrupted.detail["phase"] == "fault"
    assert "stopped by SIGINT before the end of its schedule" in interrupted.detail["reason"]
    assert left_on_a_shared_platform(local_platform, run.path) == []
