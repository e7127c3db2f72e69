"""SIGINT to ``gameday run`` alone (also one started with SIGINT ignored, as a CI script's
background job is), and to its whole process group as a terminal's Ctrl-C sends it, at every
phase of a run on a platform someone else stood up: the run stops within a
bound, rolls every fault back, exits 2, logs ``interrupted`` with the phase, leaves the
platform up and clean, and its folder rebuilds with ``gameday report``.

Before the fix a Ctrl-C to the group stopped the load generator (same group) while the run
carried on and passed or blamed the system under test; a SIGINT to the process during the
fault was swallowed by chaoslib. "Within 2 s" is checked as a bound with margin (this machine
is shared and noisy): the figure is printed.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from gameday.platforms.local.platform import LocalPlatform
from gameday.records import EventKind, read_events
from tests.runs.run_helpers import (
    RunFolder,
    gameday_argv,
    left_on_a_shared_platform,
    send,
    start_gameday,
    stopped_within,
    toxics,
    wait_for_event,
    write_suite,
)

STOP_BOUND_S = 10.0  # the target is 2 s; the margin is for a loaded 2-core machine
# When to send, as (event to wait for, then how long to wait): the load runs 2 s warm-up +
# 10 s; the scenario starts 2 s after the warm-up and its fault lasts 4 s.
PHASES = {
    "warm-up": (EventKind.LOAD_START, 0.3),
    "fault": (EventKind.FAULT_START, 0.5),
    "after-fault": (EventKind.SCENARIO_END, 0.5),
    "report": (EventKind.RUN_END, 0.0),
}

HOW = {"process": "process", "group": "process group (Ctrl-C)",
       "process-sigign": "process, started with SIGINT ignored (a background job)"}


def _suite(tmp_path: Path, experiment: str = "edge-latency") -> Path:
    return write_suite(tmp_path / "suite.yaml", experiment=experiment, duration_s=10,
                       offset_s=2, fault_duration_s=4, rate_per_s=20)


def _interrupt_at(platform: LocalPlatform, tmp_path: Path, phase: str, how: str,
                  experiment: str = "edge-latency") -> tuple[int, str, float, RunFolder]:
    runs = tmp_path / "runs"
    process = start_gameday("run", str(_suite(tmp_path, experiment)), "--runs-dir", str(runs),
                            home=platform.home.root, sigint_ignored=how == "process-sigign")
    kind, delay_s = PHASES[phase]
    try:
        wait_for_event(runs, kind, timeout_s=90, interval_s=0.02)
        time.sleep(delay_s)
        if phase == "fault":
            assert toxics(platform) or platform.faults_in_force(), "no fault in force"
        assert process.poll() is None, "the run ended before the signal"
    finally:
        sent_s = send(process, how)
    code, output, stop_s = stopped_within(process, sent_s)
    print(f"{phase} / SIGINT to the {HOW[how]}: exit {code} {stop_s:.2f} s after the signal")
    return code, output, stop_s, RunFolder.only_one_in(runs)


def _case(phase: str, how: str) -> object:
    """The default run covers every signal while a fault is in force and every phase with a
    plain SIGINT to the process; the rest of the matrix (about 15 s a case) runs with
    `make test-e2e`. The report phase is a race by construction (the signal is sent when
    run_end is seen, and the report takes ~0.4 s): it flaked once in 6 full runs, so it runs
    with `make test-e2e` and the random-point soak only."""
    default = phase != "report" and (phase == "fault" or how == "process")
    return pytest.param(phase, how, id=f"{phase}-{how}",
                        marks=() if default else pytest.mark.e2e)


@pytest.mark.parametrize(("phase", "how"), [_case(p, h) for p in PHASES for h in HOW])
def test_sigint_at_each_phase_stops_rolls_back_and_exits_2(
        local_platform: LocalPlatform, tmp_path: Path, phase: str, how: str) -> None:
    code, output, stop_s, run = _interrupt_at(local_platform, tmp_path, phase, how)

    assert code == 2, output
    assert "Traceback" not in output
    assert stop_s < STOP_BOUND_S
    assert not [e.detail for e in run.events if e.kind == EventKind.ROLLBACK_FAILED]
    (interrupted,) = [e for e in run.events if e.kind == EventKind.INTERRUPTED]
    # sent on run_end: it lands in the report build or in the clean-up's last steps
    expected = ("report", "clean-up") if phase == "report" else (phase,)
    assert interrupted.detail["phase"] in expected and interrupted.detail["reason"] == "SIGINT"
    assert left_on_a_shared_platform(local_platform, run.path) == []
    assert local_platform.is_up()
    load_end = [e for e in run.events if e.kind == EventKind.LOAD_END]
    if phase in ("warm-up", "fault", "after-fault"):
        # the harness stopped its generator itself (its own group: the Ctrl-C missed it)
        assert [e.detail["stopped_by"] for e in load_end] == ["SIGTERM"]
    rebuilt = subprocess.run(gameday_argv("report", str(run.path)), capture_output=True,
                             text=True, timeout=120)
    assert rebuilt.returncode == 2, rebuilt.stdout + rebuilt.stderr
    assert run.summary["verdict"] == "error" and "interrupted" in run.summary["reason"]
    assert (run.path / "report.html").is_file() and (run.path / "junit.xml").is_file()


@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP"])
def test_sigterm_or_sighup_during_a_region_outage_restores_the_region(
        local_platform: LocalPlatform, tmp_path: Path, how: str) -> None:
    """SIGHUP is what a dropped SSH session sends a plain ``gameday run``."""
    runs = tmp_path / "runs"
    process = start_gameday("run", str(_suite(tmp_path, "region-outage")), "--runs-dir",
                            str(runs), home=local_platform.home.root)
    try:
        wait_for_event(runs, EventKind.FAULT_START, timeout_s=90)
        assert any(m.state == "held-down" for m in local_platform.members(region="region-a"))
    finally:
        sent_s = send(process, how)
    code, output, stop_s = stopped_within(process, sent_s)
    print(f"region outage / {how}: exit {code} {stop_s:.2f} s after the signal "
          "(the rollback waits for region-a to be healthy again)")
    run = RunFolder.only_one_in(runs)
    assert code == 2, output
    assert [e.detail["phase"] for e in run.events if e.kind == EventKind.INTERRUPTED] == ["fault"]
    assert left_on_a_shared_platform(local_platform, run.path) == []
    assert [e.detail["rollbacks"] for e in read_events(run.path)
            if e.kind == EventKind.FAULT_END] == [["succeeded"]]
