"""Ctrl-C to a run that stands the platform up itself leaves nothing behind — whether it
comes while the platform is still standing up or while a fault (an nft isolation) is in
force: no process of the platform, no nft table, no state file; exit 2; a folder that
``gameday report`` rebuilds."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from gameday.platforms.local import nft
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.state import State
from gameday.records import EventKind
from tests.runs.run_helpers import (
    RunFolder,
    gameday_argv,
    left_of_an_owned_platform,
    send,
    start_gameday,
    stopped_within,
    wait_for_event,
    write_suite,
)

STOP_BOUND_S = 20.0  # includes tearing the platform down; the figure is printed


def _wait_for_stand_up_under_way(home: LocalHome, timeout_s: float = 60) -> State:
    """The supervisor runs and is starting members (the edge not yet up)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = State.load(home)
        if state is not None and state.supervisor is not None and not state.ready \
                and any(m.pid for m in state.members):
            return state
        time.sleep(0.02)
    raise AssertionError("the stand-up never got under way")


def _rebuilds_as_interrupted(run: RunFolder) -> None:
    rebuilt = subprocess.run(gameday_argv("report", str(run.path)), capture_output=True,
                             text=True, timeout=120)
    assert rebuilt.returncode == 2, rebuilt.stdout + rebuilt.stderr
    assert run.summary["verdict"] == "error" and "interrupted" in run.summary["reason"]


@pytest.mark.parametrize("how", ["process", "group"])
def test_sigint_during_stand_up_tears_the_half_built_platform_down(
        trained_artifacts: Path, tmp_path: Path, how: str) -> None:
    home = LocalHome(tmp_path / "home")
    suite = write_suite(tmp_path / "suite.yaml", experiment="edge-latency", duration_s=10,
                        offset_s=2, fault_duration_s=4, rate_per_s=20)
    runs = tmp_path / "runs"
    process = start_gameday("run", str(suite), "--runs-dir", str(runs), home=home.root)
    state = None
    try:
        state = _wait_for_stand_up_under_way(home)
    finally:
        sent_s = send(process, how)
    code, output, stop_s = stopped_within(process, sent_s)
    print(f"stand-up / SIGINT to the {how}: exit {code} {stop_s:.2f} s after the signal")

    assert code == 2, output
    assert "Traceback" not in output
    assert stop_s < STOP_BOUND_S
    run = RunFolder.only_one_in(runs)
    (interrupted,) = [e for e in run.events if e.kind == EventKind.INTERRUPTED]
    assert interrupted.detail["phase"] == "stand-up"
    assert left_of_an_owned_platform(home, state, run.path) == []
    _rebuilds_as_interrupted(run)


def test_sigint_during_an_isolation_leaves_nothing_behind(trained_artifacts: Path,
                                                          tmp_path: Path) -> None:
    usable, why = nft.nft_usable()
    if not usable:
        pytest.skip(f"nftables is not usable here: {why}")
    assert not nft.list_tables(), "an nft table of gameday exists before the test"
    home = LocalHome(tmp_path / "home")
    suite = write_suite(tmp_path / "suite.yaml", experiment="region-isolation", duration_s=30,
                        offset_s=2, fault_duration_s=20, rate_per_s=20)
    runs = tmp_path / "runs"
    process = start_gameday("run", str(suite), "--runs-dir", str(runs), home=home.root)
    try:
        wait_for_event(runs, EventKind.FAULT_START, timeout_s=120)
        state = State.load(home)
        assert nft.list_tables(), "the isolation should be in force when Ctrl-C comes"
    finally:
        sent_s = send(process, "group")
    code, output, stop_s = stopped_within(process, sent_s)
    print(f"isolation / Ctrl-C, owned platform: exit {code} {stop_s:.2f} s after the signal")

    assert code == 2, output
    assert "Traceback" not in output
    run = RunFolder.only_one_in(runs)
    assert [e.detail["phase"] for e in run.events if e.kind == EventKind.INTERRUPTED] == ["fault"]
    assert left_of_an_owned_platform(home, state, run.path) == []
    assert run.requests  # the records written before Ctrl-C are kept
    _rebuilds_as_interrupted(run)
