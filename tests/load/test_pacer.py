"""The open-model pacer, run as the real generator child against a real local server."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from gameday.load import LoadPlan, LoadProcess, schedule
from gameday.load.plan import RateStep
from gameday.records import Event, EventKind, RequestRecord, read_events, read_requests

if TYPE_CHECKING:
    from conftest import FakeTabular

# Windows start half a send gap before a send (every 10 ms from t0), so no send sits on an edge.
STALL_AT_S, STALL_S = 0.795, 0.3  # after t0
FAIL_AT_S, FAIL_S = 1.495, 0.3


@dataclass
class ScriptedRun:
    plan: LoadPlan
    t0_s: float
    records: list[RequestRecord]
    events: list[Event]
    server: FakeTabular


@pytest.fixture(scope="module")
def scripted_run(start_fake_tabular: Callable[[], FakeTabular],
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScriptedRun]:
    """100 req/s for 2.5 s through a /tabular prefix, 4 connections; the server stalls for
    300 ms at t0 + 0.8 s and answers 503 from t0 + 1.5 s to t0 + 1.8 s. The lag bound is
    50 ms so that a busy shared machine does not look like the stall."""
    server = start_fake_tabular()
    run_dir = tmp_path_factory.mktemp("scripted")
    plan = LoadPlan(base_url=f"{server.url}/tabular", arrival="constant", rate_per_s=100,
                    duration_s=2.0, warmup_s=0.5, timeout_s=1.0, concurrency=4,
                    lag_bound_s=0.05, start_at_s=time.time() + 4.0)
    with LoadProcess.start(plan, run_dir) as generator:
        t0_s = generator.wait_started(timeout_s=30)
        server.stall(t0_s + STALL_AT_S, t0_s + STALL_AT_S + STALL_S)
        server.fail(t0_s + FAIL_AT_S, t0_s + FAIL_AT_S + FAIL_S)
        assert generator.wait(timeout_s=30) == 0, generator.log_tail()
    yield ScriptedRun(plan, t0_s, read_requests(run_dir), read_events(run_dir), server)


def _events(run: ScriptedRun, kind: str) -> list[Event]:
    return [event for event in run.events if event.kind == kind]


def test_every_scheduled_send_becomes_one_record_at_its_scheduled_time(
        scripted_run: ScriptedRun) -> None:
    expected = schedule(scripted_run.plan, t0_s=scripted_run.t0_s)
    scheduled = np.array([r.scheduled_s for r in scripted_run.records])
    assert scheduled.size == expected.size == 250
    assert np.allclose(scheduled, expected, rtol=0, atol=1e-5)  # CSV keeps microseconds


def test_requests_go_to_the_endpoint_under_the_base_url_prefix(scripted_run: ScriptedRun) -> None:
    assert set(scripted_run.server.paths) == {"/tabular/predict"}


def test_a_server_stall_counts_from_the_scheduled_time_not_from_the_late_send(
        scripted_run: ScriptedRun) -> None:
    stall_end_s = scripted_run.t0_s + STALL_AT_S + STALL_S
    during = [r for r in scripted_run.records
              if scripted_run.t0_s + STALL_AT_S <= r.scheduled_s < stall_end_s]
    assert len(during) == 30
    for record in during:  # 4 connections: most of these were sent late, after the stall
        assert record.ok
        assert record.latency_s >= stall_end_s - record.scheduled_s - 1e-3
    assert during[0].latency_s >= STALL_S - 0.005 - 1e-3  # sent 5 ms into the stall
    assert max(r.send_lag_s for r in during) > 0.1  # queued behind the stalled connections


def test_a_503_answer_is_recorded_as_a_5xx_failure(scripted_run: ScriptedRun) -> None:
    fail_at_s = scripted_run.t0_s + FAIL_AT_S
    inside = [r for r in scripted_run.records
              if fail_at_s + 0.02 <= r.scheduled_s < fail_at_s + FAIL_S - 0.02]
    assert inside and all((r.status, r.ok, r.error_kind) == (503, False, "http_5xx")
                          for r in inside)
    outside = [r for r in scripted_run.records
               if not fail_at_s - 0.02 <= r.scheduled_s < fail_at_s + FAIL_S + 0.02]
    assert all(r.ok and r.status == 200 and r.error_kind == "" for r in outside)


def test_the_serving_region_comes_from_the_answer_header(scripted_run: ScriptedRun) -> None:
    assert {r.region for r in scripted_run.records} == {"region-a"}
    assert {(r.stack, r.endpoint) for r in scripted_run.records} == {("tabular", "predict")}


def test_lifecycle_events_mark_start_warmup_and_end_with_totals(scripted_run: ScriptedRun) -> None:
    (start,), (warmup,), (end,) = (_events(scripted_run, kind) for kind in (
        EventKind.LOAD_START, EventKind.WARMUP_END, EventKind.LOAD_END))
    assert start.t_s == scripted_run.t0_s == scripted_run.plan.start_at_s
    assert start.detail["rebased"] is False and start.detail["target_rate_per_s"] == 100
    assert warmup.t_s == pytest.approx(scripted_run.t0_s + 0.5)
    assert end.t_s >= max(r.end_s for r in scripted_run.records)  # after the last answer
    assert end.detail["sent"] == end.detail["recorded"] == 250
    assert end.detail["ok"] == sum(r.ok for r in scripted_run.records)
    assert end.detail["late"] >= 15 and end.detail["lag_p99_s"] > 0.1


def test_a_generator_held_back_by_its_connections_flags_itself_once(
        scripted_run: ScriptedRun) -> None:
    (saturated,) = _events(scripted_run, EventKind.GENERATOR_SATURATED)
    stall_at_s = scripted_run.t0_s + STALL_AT_S
    assert stall_at_s < saturated.t_s < stall_at_s + STALL_S + 0.2
    assert saturated.detail["late_fraction"] > 0.01


def test_a_stall_longer_than_the_timeout_is_recorded_as_timeouts(
        fake_tabular: FakeTabular, tmp_path: Path, quick_plan: Callable[..., LoadPlan],
        run_generator: Callable[..., tuple[list[RequestRecord], list[Event]]]) -> None:
    fake_tabular.stall(time.time(), time.time() + 60)
    records, _ = run_generator(quick_plan(fake_tabular.url, timeout_s=0.3), tmp_path)
    assert len(records) == 10
    for record in records:
        assert (record.status, record.ok, record.error_kind) == (0, False, "timeout")
        assert 0.25 < record.latency_s < 2.0


def test_a_refused_connection_is_recorded_as_a_connection_failure(
        refused_url: str, tmp_path: Path, quick_plan: Callable[..., LoadPlan],
        run_generator: Callable[..., tuple[list[RequestRecord], list[Event]]]) -> None:
    records, _ = run_generator(quick_plan(refused_url), tmp_path)
    assert len(records) == 10
    assert {(r.status, r.ok, r.error_kind) for r in records} == {(0, False, "connection")}


def test_a_generator_ready_after_its_start_time_rebases_and_says_so(
        fake_tabular: FakeTabular, tmp_path: Path, quick_plan: Callable[..., LoadPlan],
        run_generator: Callable[..., tuple[list[RequestRecord], list[Event]]]) -> None:
    plan = quick_plan(fake_tabular.url, start_at_s=time.time() - 5.0)
    records, events = run_generator(plan, tmp_path)
    (start,) = [e for e in events if e.kind == EventKind.LOAD_START]
    assert start.detail["rebased"] is True and start.detail["late_start_s"] > 5.0
    assert records[0].scheduled_s == pytest.approx(start.t_s, abs=1e-5)
    assert all(r.ok for r in records)


def test_sigterm_mid_run_drains_flushes_logs_load_end_and_exits_zero(
        fake_tabular: FakeTabular, tmp_path: Path, quick_plan: Callable[..., LoadPlan]) -> None:
    plan = quick_plan(fake_tabular.url, rate_per_s=50, duration_s=30)
    with LoadProcess.start(plan, tmp_path) as generator:
        generator.wait_started(timeout_s=30)
        time.sleep(1.0)
        stopped_at_s = time.time()
        assert generator.stop() == 0
    (end,) = [e for e in read_events(tmp_path) if e.kind == EventKind.LOAD_END]
    records = read_requests(tmp_path)
    assert end.detail["stopped_by"] == "SIGTERM"
    assert end.t_s - stopped_at_s < plan.timeout_s + 1.0
    assert 30 <= len(records) == end.detail["recorded"] <= 150
    assert all(r.ok for r in records)


def test_a_non_loopback_target_is_refused_with_exit_code_2(tmp_path: Path) -> None:
    plan = LoadPlan(base_url="http://127.0.0.1:9").to_dict()
    plan["base_url"] = "http://192.0.2.10:8080/tabular"
    plan_path = tmp_path / "plan.json"
    plan_path.write_text(json.dumps(plan))
    done = subprocess.run([sys.executable, "-m", "gameday.load", "--plan", str(plan_path),
                           "--run-dir", str(tmp_path)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert "not loopback" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "requests-gen0.csv").exists()


def test_a_surge_sends_at_each_steps_rate_and_load_start_says_when_each_step_was_due(
        fake_tabular: FakeTabular, tmp_path: Path, quick_plan: Callable[..., LoadPlan],
        run_generator: Callable[..., tuple[list[RequestRecord], list[Event]]]) -> None:
    plan = quick_plan(fake_tabular.url, rate_per_s=20, warmup_s=0.2, duration_s=1.0,
                      steps=(RateStep(0.3, 100), RateStep(0.6, 20)))
    records, events = run_generator(plan, tmp_path)
    (start,) = [e for e in events if e.kind == EventKind.LOAD_START]
    expected = schedule(plan, t0_s=start.t_s)
    assert expected.size == 10 + 30 + 8  # [0, 0.5) at 20, [0.5, 0.8) at 100, [0.8, 1.2) at 20
    assert np.allclose([r.scheduled_s for r in records], expected, rtol=0, atol=1e-5)
    assert start.detail["steps"] == [
        {"at_s": pytest.approx(start.t_s + 0.5), "rate_per_s": 100.0},
        {"at_s": pytest.approx(start.t_s + 0.8), "rate_per_s": 20.0}]
    assert all(r.ok for r in records)


def test_a_send_that_waits_longer_than_the_timeout_for_a_sender_is_given_up_as_a_timeout(
        fake_tabular: FakeTabular, tmp_path: Path, quick_plan: Callable[..., LoadPlan],
        run_generator: Callable[..., tuple[list[RequestRecord], list[Event]]]) -> None:
    """One connection, a server that holds every request: each send waits for the one before
    it (which times out after 0.3 s); those queued longer than 0.3 s are given up."""
    fake_tabular.stall(time.time(), time.time() + 60)
    plan = quick_plan(fake_tabular.url, rate_per_s=20, duration_s=1.0, timeout_s=0.3,
                      concurrency=1)
    records, events = run_generator(plan, tmp_path)
    (end,) = [e for e in events if e.kind == EventKind.LOAD_END]
    assert len(records) == 20 == end.detail["sent"] + end.detail["gave_up"]
    assert end.detail["gave_up"] >= 5 and end.detail["sent"] >= 2
    given_up = [r for r in records if r.start_s == r.end_s]
    assert len(given_up) == end.detail["gave_up"]
    for record in records:
        assert (record.status, record.ok, record.error_kind) == (0, False, "timeout")
    for record in given_up:  # a user's own timeout fires timeout_s after the scheduled time
        assert record.latency_s == pytest.approx(0.3, abs=1e-5)
