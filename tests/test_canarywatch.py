"""The serving canary against a real Triton server: it answers while the model serves, and a
stalled backend (readiness still green) fails it at the canary's timeout."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gameday.canaries import read_canary_samples
from gameday.canarywatch import CanaryWatch
from gameday.modelprobe import model_probe
from gameday.platforms.base import Member, MemberState
from gameday.stacks import load_stack
from tests.targets.triton.triton_testing import HOST, TritonServer, triton_server

PORT = 28390
NAME = "triton-server-a1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    with triton_server(tmp_path_factory.mktemp("canary"), port=PORT) as running:
        yield running


def _members() -> list[Member]:
    return [Member(name=NAME, region="region-a", stack="triton", component="server",
                   address=HOST, port=PORT, pid=None, state=MemberState.HEALTHY,
                   ports={"http": PORT})]


def _watch(run_dir: Path, members: object = _members) -> CanaryWatch:
    probe = model_probe(load_stack("triton"))
    assert probe is not None
    return CanaryWatch(NAME, members, probe, run_dir, timeout_s=0.5)  # type: ignore[arg-type]


def test_a_serving_model_passes_its_canary(server: TritonServer, tmp_path: Path) -> None:
    watch = _watch(tmp_path)
    sample = watch.poll_once()
    watch.stop()
    assert sample is not None and sample.ok and sample.status == 200
    assert sample.region == "region-a" and 0 < sample.latency_s < 0.5
    assert read_canary_samples(tmp_path) == [sample]


def test_a_stalled_backend_fails_its_canary_while_its_readiness_stays_green(
        server: TritonServer, tmp_path: Path) -> None:
    watch = _watch(tmp_path)
    stall = server.control / "stall"
    stall.touch()
    try:
        sample = watch.poll_once()
        ready = httpx.get(f"{server.url}/v2/models/fraud/ready", timeout=2).status_code
    finally:
        stall.unlink()
    assert ready == 200  # the lying health: the model says it is ready
    assert sample is not None and not sample.ok and sample.status == 0
    assert sample.latency_s >= 0.5  # failed when it gave up, at its timeout
    deadline_s = time.monotonic() + 10  # the stalled executions drain once the stall lifts
    while not (after := watch.poll_once()) or not after.ok:
        assert time.monotonic() < deadline_s, "the canary did not pass again after the stall"
    watch.stop()


def test_a_member_not_listed_is_skipped(tmp_path: Path) -> None:
    watch = _watch(tmp_path, members=list)
    assert watch.poll_once() is None
    watch.stop()
    assert read_canary_samples(tmp_path) == []
