"""The cold-start watch against real Triton servers: the server it finds running is its
baseline; a server restarted with a new process is followed phase by phase, and its process
start is checked against when the test really spawned it."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from gameday.coldstarts import read_cold_starts
from gameday.coldstartwatch import ColdStartWatch
from gameday.modelprobe import model_probe
from gameday.platforms.base import Member, MemberState
from gameday.stacks import load_stack
from tests.targets.triton.triton_testing import HOST, TritonServer, triton_server

PORT = 28380


def _member(server: TritonServer | None) -> list[Member]:
    return [Member(name="triton-server-a1", region="region-a", stack="triton",
                   component="server", address=HOST, port=PORT,
                   pid=None if server is None else server.pid, state=MemberState.HEALTHY,
                   ports={"http": PORT, "grpc": PORT + 1, "metrics": PORT + 2})]


def _poll_until_written(watch: ColdStartWatch, timeout_s: float) -> list[object]:
    deadline_s = time.monotonic() + timeout_s
    while time.monotonic() < deadline_s:
        if written := watch.poll_once():
            return list(written)
        time.sleep(0.05)
    return []


def _pid_serving(data: Path) -> int | None:
    """The tritonserver process whose repository is under ``data`` (the platform's view)."""
    for process in psutil.process_iter(["pid", "name", "cmdline"]):
        if process.info["name"] == "tritonserver" and \
                str(data) in " ".join(process.info["cmdline"] or ()):
            return int(process.info["pid"])
    return None


def test_a_restarted_server_is_followed_from_its_process_start_to_its_first_inference(
        tmp_path: Path) -> None:
    probe = model_probe(load_stack("triton"))
    assert probe is not None
    data: list[Path] = [tmp_path / "first"]
    watch = ColdStartWatch(lambda: [replace(m, pid=_pid_serving(data[0]))
                                    for m in _member(None)],
                           probe, tmp_path, members_every_s=0.0)
    with triton_server(data[0], port=PORT):
        watch.poll_once()  # the baseline: the server already running is no cold start
        assert watch.poll_once() == [] and read_cold_starts(tmp_path) == []
    data[0] = tmp_path / "second"
    watch.start()  # polls in its thread while the second server starts
    with triton_server(data[0], port=PORT) as second:
        deadline_s = time.monotonic() + 30
        while not read_cold_starts(tmp_path) and time.monotonic() < deadline_s:
            time.sleep(0.1)
    watch.stop()
    (start,) = read_cold_starts(tmp_path)
    assert start.pid == second.pid and not start.gave_up
    # ground truth: the process started just after the test spawned it (10 ms clock ticks)
    assert second.spawned_s - 0.02 <= start.process_start_s <= second.spawned_s + 0.5
    assert start.live_s is not None and start.model_ready_s is not None
    assert start.first_inference_s is not None and start.first_inference_latency_s is not None
    # observed while it started: the server took a while to come up, then each phase in order
    assert start.process_start_s + 0.1 < start.live_s <= start.model_ready_s \
        <= start.first_inference_s
    assert 0 < start.first_inference_latency_s < 2.0


def test_a_start_still_followed_when_the_watch_stops_is_written_as_given_up(
        tmp_path: Path) -> None:
    probe = model_probe(load_stack("triton"))
    assert probe is not None
    pids = iter([None])  # no process at first, then one that never answers
    watch = ColdStartWatch(
        lambda: [replace(m, pid=next(pids, 999_999_999)) for m in _member(None)],
        probe, tmp_path, members_every_s=0.0)
    watch.poll_once()
    watch.poll_once()
    watch.stop()
    (start,) = read_cold_starts(tmp_path)
    assert start.gave_up and start.live_s is None and start.first_inference_s is None
    assert start.pid == 999_999_999


@pytest.mark.parametrize("stack", ["tabular", "rag"])
def test_stacks_without_a_model_repository_have_no_cold_start_probe(stack: str) -> None:
    assert model_probe(load_stack(stack)) is None
