"""Opt-in soak (``pytest -m soak``): N runs (``GAMEDAY_SOAK_RUNS``, default 10) that stand
their platform up, interrupted at a random point with a random signal — SIGINT to the process,
SIGINT to its group (Ctrl-C), SIGTERM, or SIGKILL followed by ``gameday down``. Each must exit 2
(or die of the SIGKILL), leave nothing behind, and leave a folder ``gameday report`` rebuilds.
The seed is printed (``GAMEDAY_SOAK_SEED`` replays a soak).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.state import State
from gameday.records import EventKind, read_events
from tests.runs.run_helpers import (
    REPO,
    RunFolder,
    gameday_argv,
    left_of_an_owned_platform,
    send,
    start_gameday,
    stopped_within,
    wait_for_event,
    write_suite,
)

pytestmark = [pytest.mark.soak, pytest.mark.timeout(3600)]

SIGNALS = ("process", "group", "SIGTERM", "SIGKILL")
LATEST_S = 22.0  # stand-up ~10 s, load 2 + 16 s: points fall inside the run


@pytest.fixture
def soak_selected(request: pytest.FixtureRequest) -> None:
    if "soak" not in (request.config.getoption("-m") or ""):
        pytest.skip("opt-in: run with -m soak")


def _one_run(tmp_path: Path, rng: random.Random, index: int) -> dict[str, object]:
    work = tmp_path / f"run{index}"
    work.mkdir()
    home, runs = LocalHome(work / "home"), work / "runs"
    suite = write_suite(work / "suite.yaml", experiment=rng.choice(["edge-latency",
                                                                    "region-outage"]),
                        duration_s=16, offset_s=2, fault_duration_s=5, rate_per_s=20)
    how, delay_s = rng.choice(SIGNALS), rng.uniform(0.0, LATEST_S)
    process = start_gameday("run", str(suite), "--runs-dir", str(runs), home=home.root)
    try:
        wait_for_event(runs, EventKind.RUN_START, timeout_s=60, interval_s=0.02)
        time.sleep(delay_s)
        state = State.load(home)
        last = [e.kind for e in read_events(RunFolder.only_one_in(runs).path)][-1]
        finished_first = process.poll() is not None
    finally:
        sent_s = send(process, how)
    code, output, stop_s = stopped_within(process, sent_s)
    if how == "SIGKILL":
        down = subprocess.run(gameday_argv("down"), capture_output=True, text=True, cwd=REPO,
                              env={**os.environ, "GAMEDAY_HOME": str(home.root)}, timeout=120)
        assert down.returncode == 0, down.stdout + down.stderr
    run = RunFolder.only_one_in(runs)
    return {"how": how, "delay_s": delay_s, "last_event": last, "code": code,
            "stop_s": stop_s, "output": output, "finished_first": finished_first, "run": run,
            "left": left_of_an_owned_platform(home, state or State.load(home), run.path)}


def test_runs_interrupted_at_random_points_end_clean(soak_selected: None, trained_artifacts: Path,
                                                    tmp_path: Path) -> None:
    runs = int(os.environ.get("GAMEDAY_SOAK_RUNS", "10"))
    seed = int(os.environ.get("GAMEDAY_SOAK_SEED", str(random.randrange(1 << 30))))
    print(f"soak: {runs} runs, seed {seed}")
    rng = random.Random(seed)
    problems = []
    for index in range(runs):
        result = _one_run(tmp_path, rng, index)
        run = result["run"]
        assert isinstance(run, RunFolder)
        rebuilt = subprocess.run(gameday_argv("report", str(run.path)), capture_output=True,
                                 text=True, timeout=120)
        expected = -signal.SIGKILL if result["how"] == "SIGKILL" else 2
        print(f"  {index}: {result['how']:<8} after {result['delay_s']:5.1f} s "
              f"(last event {result['last_event']}): exit {result['code']} "
              f"in {result['stop_s']:.2f} s; report rebuilt: exit {rebuilt.returncode}")
        if result["finished_first"]:
            continue  # the run ended before the signal: nothing to judge
        if result["code"] != expected or "Traceback" in str(result["output"]):
            problems.append(f"run {index}: exit {result['code']}, expected {expected}:\n"
                            f"{result['output']}")
        if result["left"]:
            problems.append(f"run {index}: left behind {result['left']}")
        killed_after_the_run = result["how"] == "SIGKILL" and EventKind.RUN_END in [
            e.kind for e in read_events(run.path)]  # killed while writing the report
        if rebuilt.returncode != 2 and not (killed_after_the_run and rebuilt.returncode in (0, 1)):
            problems.append(f"run {index}: gameday report exited {rebuilt.returncode}: "
                            f"{rebuilt.stdout}{rebuilt.stderr}")
    assert problems == [], f"seed {seed}:\n" + "\n".join(problems)
