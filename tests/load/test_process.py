"""The parent's handle on the generator child: start, started, wait, stop, parent death, its
own process group, how it ended and the watch for an early end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import pytest

from gameday.errors import LoadError
from gameday.load import LoadPlan, LoadProcess
from gameday.load.process import LoadEnd
from gameday.records import EventKind, read_events

if TYPE_CHECKING:
    from collections.abc import Callable

    from conftest import FakeTabular


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_child_started_from_a_thread_outlives_the_thread_and_stops_with_the_context(
        fake_tabular: FakeTabular, tmp_path: Path, quick_plan: Callable[..., LoadPlan]) -> None:
    start_at_s = time.time() + 4.0
    plan = quick_plan(fake_tabular.url, duration_s=30, start_at_s=start_at_s)
    started: list[LoadProcess] = []
    thread = threading.Thread(target=lambda: started.append(LoadProcess.start(plan, tmp_path)))
    thread.start()
    thread.join()  # the orchestrator runs experiments in threads that come and go
    with started[0] as generator:
        assert generator.wait_started(timeout_s=30) == start_at_s
        time.sleep(0.5)
        assert generator.alive
    assert not generator.alive and generator.returncode == 0
    assert [e.kind for e in read_events(tmp_path)][-1] == EventKind.LOAD_END


def test_wait_started_reports_why_a_child_failed_to_start(tmp_path: Path) -> None:
    plan = LoadPlan(base_url="http://127.0.0.1:9", stack="rag", endpoint="summarise")
    with LoadProcess.start(plan, tmp_path) as generator, \
            pytest.raises(LoadError,
                          match=r"exited with code 2.*no load payload for rag/summarise"):
        generator.wait_started(timeout_s=30)


def test_wait_gives_up_with_a_load_error_while_the_child_still_runs(
        fake_tabular: FakeTabular, tmp_path: Path, quick_plan: Callable[..., LoadPlan]) -> None:
    with LoadProcess.start(quick_plan(fake_tabular.url, duration_s=30), tmp_path) as generator:
        with pytest.raises(LoadError, match="still running"):
            generator.wait(timeout_s=0.2)
        assert generator.alive


def test_the_child_stops_cleanly_when_its_parent_is_killed(fake_tabular: FakeTabular,
                                                           tmp_path: Path) -> None:
    parent_code = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from gameday.load import LoadPlan, LoadProcess
        plan = LoadPlan(base_url={fake_tabular.url!r}, arrival="constant", rate_per_s=20,
                        duration_s=60, warmup_s=0)
        generator = LoadProcess.start(plan, Path({str(tmp_path)!r}))
        generator.wait_started(timeout_s=30)
        print(generator.pid, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE,
                              text=True)
    child_pid = 0
    try:
        assert parent.stdout is not None
        child_pid = int(parent.stdout.readline())
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline_s = time.monotonic() + 10
        while not _gone(child_pid) and time.monotonic() < deadline_s:
            time.sleep(0.1)
        assert _gone(child_pid)
    finally:
        parent.kill()
        parent.wait()
        if child_pid and not _gone(child_pid):  # leave no generator behind on failure
            psutil.Process(child_pid).kill()
    (end,) = [e for e in read_events(tmp_path) if e.kind == EventKind.LOAD_END]
    assert end.detail["stopped_by"] == "parent died"


def test_the_child_runs_in_a_process_group_of_its_own_so_a_ctrl_c_misses_it(
        fake_tabular: FakeTabular, tmp_path: Path, quick_plan: Callable[..., LoadPlan]) -> None:
    with LoadProcess.start(quick_plan(fake_tabular.url, duration_s=30), tmp_path) as generator:
        generator.wait_started(timeout_s=30)
        assert os.getpgid(generator.pid) == generator.pid != os.getpgid(0)


def test_a_child_that_ran_its_schedule_ended_complete(
        fake_tabular: FakeTabular, tmp_path: Path, quick_plan: Callable[..., LoadPlan]) -> None:
    with LoadProcess.start(quick_plan(fake_tabular.url, duration_s=1), tmp_path) as generator:
        end = generator.wait_end(timeout_s=30)
    assert end.completed and end.code == 0 and end.stopped_by == ""
    assert end.describe() == "ran its whole schedule"


def _watched(generator: LoadProcess) -> tuple[threading.Event, list[LoadEnd]]:
    called, seen = threading.Event(), []

    def on_early_end(end: LoadEnd) -> None:
        seen.append(end)
        called.set()

    generator.watch(on_early_end)
    return called, seen


def test_the_watch_reports_a_child_killed_before_the_end_of_its_schedule(
        fake_tabular: FakeTabular, tmp_path: Path, quick_plan: Callable[..., LoadPlan]) -> None:
    with LoadProcess.start(quick_plan(fake_tabular.url, duration_s=30), tmp_path) as generator:
        generator.wait_started(timeout_s=30)
        called, seen = _watched(generator)
        os.kill(generator.pid, signal.SIGKILL)
        assert called.wait(timeout=5)
    (end,) = seen
    assert end.code == -signal.SIGKILL and end.detail is None and not end.completed
    assert end.describe() == ("exited with code -9 before the end of its schedule "
                              "(no load_end logged)")


def test_the_watch_reports_a_child_stopped_by_someone_else_but_not_one_we_stopped(
        fake_tabular: FakeTabular, tmp_path: Path, quick_plan: Callable[..., LoadPlan]) -> None:
    with LoadProcess.start(quick_plan(fake_tabular.url, duration_s=30), tmp_path) as generator:
        generator.wait_started(timeout_s=30)
        called, seen = _watched(generator)
        os.kill(generator.pid, signal.SIGINT)
        assert called.wait(timeout=10)
    (end,) = seen
    assert end.code == 0 and end.stopped_by == "SIGINT" and not end.completed
    assert end.describe() == "was stopped by SIGINT before the end of its schedule"

    run_dir = tmp_path / "ours"
    with LoadProcess.start(quick_plan(fake_tabular.url, duration_s=30), run_dir) as generator:
        generator.wait_started(timeout_s=30)
        called, seen = _watched(generator)
        generator.request_stop()  # ours: not an early end to report
        assert generator.wait_end(timeout_s=10).stopped_by == "SIGTERM"
    assert not called.wait(timeout=0.5) and seen == []
