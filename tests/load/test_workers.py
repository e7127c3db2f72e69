"""One generator in several processes (Locust master and workers on this host): the workers
together send exactly the one-process schedule, a lost worker is reported, a stop reaches them.

Master ports 28500-28509 (no other test uses them); the HTTP server is the fake tabular one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from gameday.load import LoadPlan, LoadProcess, schedule
from gameday.load.process import LoadEnd
from gameday.records import Event, EventKind, read_events, read_requests

if TYPE_CHECKING:
    from conftest import FakeTabular

PORTS = {"split": 28500, "lost": 28501, "stop": 28502}


def _of(events: list[Event], kind: str, worker: int | None) -> list[Event]:
    return [e for e in events if e.kind == kind and e.detail.get("worker") == worker]


def test_two_workers_at_half_the_rate_each_send_exactly_the_one_process_schedule(
        fake_tabular: FakeTabular, tmp_path: Path, quick_plan: Callable[..., LoadPlan]) -> None:
    plan = quick_plan(fake_tabular.url, arrival="poisson", rate_per_s=200, duration_s=2.0,
                      warmup_s=0.5, workers=2)
    with LoadProcess.start(plan, tmp_path, master_port=PORTS["split"]) as generator:
        t0_s = generator.wait_started(timeout_s=30)
        end = generator.wait_end(timeout_s=30)
    assert end.completed, (end.describe(), generator.log_tail())
    expected = schedule(plan, t0_s=t0_s)
    records = read_requests(tmp_path)  # both workers' files, merged by scheduled time
    assert np.allclose([r.scheduled_s for r in records], expected, rtol=0, atol=1e-5)
    assert all(r.ok for r in records)
    events = read_events(tmp_path)
    for worker in (0, 1):
        mine = _scheduled_in(tmp_path / f"requests-gen0.w{worker}.csv")
        assert np.allclose(mine, expected[worker::2], rtol=0, atol=1e-5)
        (start,) = _of(events, EventKind.LOAD_START, worker)
        assert start.t_s == t0_s and start.detail["target_rate_per_s"] == 100
        assert start.detail["plan"]["concurrency"] == 10  # the plan's 20 connections, split
        (worker_end,) = _of(events, EventKind.LOAD_END, worker)
        assert worker_end.detail["sent"] == len(mine)
    assert end.detail is not None
    assert end.detail["sent"] == expected.size and end.detail["workers_lost"] == []


def _scheduled_in(path: Path) -> list[float]:
    """Scheduled times of one worker's request file (written as the answers came), sorted."""
    lines = path.read_text().splitlines()[1:]
    return sorted(float(line.split(",", 1)[0]) for line in lines)


def test_a_worker_killed_mid_run_is_reported_and_the_load_does_not_complete(
        fake_tabular: FakeTabular, tmp_path: Path, quick_plan: Callable[..., LoadPlan]) -> None:
    plan = quick_plan(fake_tabular.url, rate_per_s=50, duration_s=8.0, workers=2)
    called, seen = threading.Event(), []
    with LoadProcess.start(plan, tmp_path, master_port=PORTS["lost"]) as generator:
        generator.wait_started(timeout_s=30)
        generator.watch(lambda end: (seen.append(end), called.set()))
        time.sleep(1.0)
        (victim,) = _of(read_events(tmp_path), EventKind.LOAD_START, 1)
        os.kill(victim.detail["pid"], signal.SIGKILL)
        killed_at_s = time.time()
        assert called.wait(timeout=12), generator.log_tail()
    (end,) = seen
    assert isinstance(end, LoadEnd) and not end.completed and end.code == 1
    assert end.workers_lost == [1] and "lost worker(s) [1]" in end.describe()
    assert end.detail is not None and end.detail["stopped_by"] == "worker 1 lost"
    events = read_events(tmp_path)
    (master_end,) = _of(events, EventKind.LOAD_END, None)
    assert master_end.t_s - killed_at_s < 8.0  # noticed by heartbeats, not at the plan's end
    (survivor_end,) = _of(events, EventKind.LOAD_END, 0)
    assert survivor_end.detail["stopped_by"] == "worker 1 lost"  # the master stopped it too
    assert not _of(events, EventKind.LOAD_END, 1)  # the killed worker said nothing


def test_a_stop_reaches_every_worker_and_each_drains_and_reports(
        fake_tabular: FakeTabular, tmp_path: Path, quick_plan: Callable[..., LoadPlan]) -> None:
    plan = quick_plan(fake_tabular.url, rate_per_s=50, duration_s=30.0, workers=2)
    with LoadProcess.start(plan, tmp_path, master_port=PORTS["stop"]) as generator:
        generator.wait_started(timeout_s=30)
        time.sleep(0.5)
        assert generator.stop() == 0
    events = read_events(tmp_path)
    for worker in (None, 0, 1):
        (end,) = _of(events, EventKind.LOAD_END, worker)
        assert end.detail["stopped_by"] == "SIGTERM"
    assert 10 <= len(read_requests(tmp_path)) <= 200


@pytest.mark.parametrize("module", ["gameday.load.worker", "gameday.load.master"])
def test_a_master_host_that_is_not_loopback_is_refused_without_the_allow_flag(
        module: str, tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(LoadPlan(base_url="http://127.0.0.1:9", workers=2).to_json())
    flags = (["--master-host", "192.0.2.10", "--master-port", "28503"]
             if module.endswith("worker") else ["--plan", str(plan), "--bind-host", "192.0.2.10"])
    done = subprocess.run([sys.executable, "-m", module, *flags, "--run-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "not loopback" in done.stderr and "--allow-remote" in done.stderr
    assert "Traceback" not in done.stderr
