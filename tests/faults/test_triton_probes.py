"""The Triton probes against a real Triton server: the queue-time probe reads the server's
own summary, the batching probe sees the dynamic batcher batch concurrent requests and not
sequential ones, and a region with no server, or one whose metrics do not answer, fails.

No local platform is stood up: a stand-in that only says where the real server is (as
``tests/faults/serving/fleet.py`` does for its servers) is what ``platform_for`` opens."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gameday.errors import FaultError
from gameday.faults.triton.probes import batching_at_least, queue_time_within
from gameday.platforms import PLATFORMS
from gameday.platforms.base import Member, MemberState
from tests.targets.triton.triton_testing import TritonServer, infer, triton_server

PORT = 28350  # no other test holds it while this module runs
PLATFORM_NAME = "triton-probe-servers"
ROW = [42.0, 13, 0.2, 3.0, 400, 0, 2]


def _member(name: str, region: str, http_port: int) -> Member:
    return Member(name=name, region=region, stack="triton", component="server",
                  address="127.0.0.1", port=http_port, pid=None, state=MemberState.HEALTHY,
                  ports={"http": http_port, "grpc": http_port + 1, "metrics": http_port + 2})


class _Servers:
    """The Platform interface over servers already running: it only says where they are."""

    name = PLATFORM_NAME

    def __init__(self, members: list[Member]) -> None:
        self.listed = members

    def members(self, *, region: str | None = None, stack: str | None = None,
                component: str | None = None) -> list[Member]:
        return [m for m in self.listed if region in (None, m.region)
                and stack in (None, m.stack) and component in (None, m.component)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    with triton_server(tmp_path_factory.mktemp("triton-probes"), port=PORT) as running:
        yield running


@pytest.fixture
def servers(server: TritonServer, monkeypatch: pytest.MonkeyPatch) -> _Servers:
    listed = _Servers([_member("triton-server-a1", "region-a", PORT)])
    monkeypatch.setitem(PLATFORMS, PLATFORM_NAME, lambda home: listed)
    return listed


@pytest.fixture
def configuration(servers: _Servers) -> dict[str, Any]:
    """What an experiment passes to its providers (replaces the package's, which would
    stand the local platform up)."""
    return {"gameday_platform": PLATFORM_NAME}


def _send(url: str, requests: int) -> None:
    with httpx.Client(trust_env=False) as client:
        for _ in range(requests):
            assert infer(url, [ROW], client=client).status_code == 200


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_queue_time_probe_reads_the_servers_own_p99(
        server: TritonServer, configuration: dict[str, Any]) -> None:
    _send(server.url, 20)
    held = queue_time_within("region-a", threshold_s=0.5, configuration=configuration)
    assert held["within_slo"] is True and held["servers"] == 1 and held["failed"] == {}
    queue_s = held["queue_s"]["triton-server-a1"]
    # a lone request waits out the batcher's 2 ms max queue delay for company
    assert 0 < queue_s < 0.5 and held["queue_percentile_s"] == queue_s
    breached = queue_time_within("region-a", threshold_s=queue_s / 2,
                                 configuration=configuration)
    assert breached["within_slo"] is False


def test_a_percentile_triton_does_not_keep_is_refused(configuration: dict[str, Any]) -> None:
    with pytest.raises(FaultError, match="percentile must be one of 50, 99"):
        queue_time_within("region-a", percentile=95, configuration=configuration)


def test_a_region_without_a_server_or_whose_metrics_do_not_answer_does_not_hold(
        servers: _Servers, configuration: dict[str, Any]) -> None:
    assert queue_time_within("region-b", configuration=configuration)["within_slo"] is False
    servers.listed.append(_member("triton-server-b1", "region-b", _dead_port() - 2))
    result = queue_time_within("region-b", configuration=configuration)
    assert result["within_slo"] is False and list(result["failed"]) == ["triton-server-b1"]
    assert batching_at_least("region-b", min_batch=1, window_s=0.1,
                             configuration=configuration)["batching"] is False


def test_concurrent_requests_in_the_window_are_batched(
        server: TritonServer, configuration: dict[str, Any]) -> None:
    senders = [threading.Thread(target=_send, args=(server.url, 60)) for _ in range(12)]
    for sender in senders:
        sender.start()
    result = batching_at_least("region-a", min_batch=1.5, window_s=0.5,
                               configuration=configuration)
    for sender in senders:
        sender.join()
    assert result["executions"] > 0 and result["inferences"] >= result["executions"]
    assert result["batch_size"] > 1.5 and result["batching"] is True
    assert result["batch_size_by_server"]["triton-server-a1"] == result["batch_size"]


def test_sequential_requests_run_one_at_a_time_and_an_idle_window_has_no_batching(
        server: TritonServer, configuration: dict[str, Any]) -> None:
    sender = threading.Thread(target=_send, args=(server.url, 80))
    sender.start()
    result = batching_at_least("region-a", min_batch=2, window_s=0.3,
                               configuration=configuration)
    sender.join()
    assert result["batch_size"] == 1.0 and result["batching"] is False
    idle = batching_at_least("region-a", min_batch=1, window_s=0.2, configuration=configuration)
    assert idle["executions"] == 0 and idle["batch_size"] is None and idle["batching"] is False
