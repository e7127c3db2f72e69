"""Network faults on the real local platform: nftables isolation and link latency."""

from __future__ import annotations

import time

import httpx
import pytest

from gameday.errors import FaultError
from gameday.faults.network import actions
from gameday.platforms.local import nft
from gameday.platforms.local.platform import LocalPlatform
from tests.faults.edge_client import SAMPLE, until_served_only_by

pytestmark = pytest.mark.nft


@pytest.fixture
def nft_ready() -> None:
    usable, reason = nft.nft_usable()
    if not usable:
        pytest.skip(f"nftables unusable here: {reason}")


@pytest.mark.parametrize("direction", ["both", "ingress", "egress"])
def test_isolation_blocks_the_region_block_and_the_edge_fails_over(
        nft_ready: None, local_platform: LocalPlatform, configuration: dict[str, str],
        direction: str) -> None:
    done = actions.isolate_region("region-a", direction, configuration=configuration)
    try:
        assert done["method"] == "nftables"
        assert done["table"] in nft.list_tables()
        replica = local_platform.members(region="region-a", component="api")[0]
        # the processes keep running: only the network fails
        assert replica.state != "held-down" and replica.pid
        assert nft.connect_blocked("127.0.0.1", replica.address, replica.port)
        until_served_only_by(local_platform, "region-b", timeout_s=15)
    finally:
        actions.heal_region("region-a", configuration=configuration)

    assert not nft.list_tables()
    assert not nft.connect_blocked("127.0.0.1", replica.address, replica.port)
    until_served_only_by(local_platform, "region-a", timeout_s=15)


def test_isolation_rejects_an_unknown_direction(configuration: dict[str, str]) -> None:
    with pytest.raises(FaultError, match="direction"):
        actions.isolate_region("region-a", "sideways", configuration=configuration)


def test_link_latency_slows_the_edge_path_and_removal_restores_it(
        local_platform: LocalPlatform, configuration: dict[str, str]) -> None:
    url = local_platform.edge_url("tabular") + "/predict"

    def median_latency_s() -> float:
        samples = []
        with httpx.Client(timeout=5) as client:
            for _ in range(9):
                started = time.perf_counter()
                assert client.post(url, json=SAMPLE).status_code == 200
                samples.append(time.perf_counter() - started)
        return sorted(samples)[len(samples) // 2]

    baseline_s = median_latency_s()
    done = actions.add_link_latency("region-a", latency_ms=150, jitter_ms=0,
                                    configuration=configuration)
    try:
        assert done["round_trip_after_s"] >= 0.15
        assert median_latency_s() >= baseline_s + 0.14
    finally:
        removed = actions.remove_link_latency("region-a", configuration=configuration)
    assert removed["toxics_removed"] == 2
    assert median_latency_s() < 0.1


def test_isolation_falls_back_to_the_fault_proxys_timeout_toxic_when_asked(
        local_platform: LocalPlatform, configuration: dict[str, str]) -> None:
    done = actions.isolate_region("region-a", method="toxic", configuration=configuration)
    try:
        assert done["method"] == "fault-proxy timeout toxic"
        assert not nft.list_tables()  # the kernel path was not used
        replica = local_platform.members(region="region-a", component="api")[0]
        assert replica.state == "healthy"  # only the links are cut
        until_served_only_by(local_platform, "region-b", timeout_s=15)
    finally:
        healed = actions.heal_region("region-a", configuration=configuration)
    assert healed["toxics_removed"] == 4  # two streams on two links
    assert local_platform.faults_in_force() == []
    until_served_only_by(local_platform, "region-a", timeout_s=15)


def test_isolation_with_nftables_required_refuses_the_fallback(
        configuration: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LocalPlatform, "isolation_available",
                        lambda self: (False, "nft: Operation not permitted"))
    with pytest.raises(FaultError, match="nftables asked for but nft: Operation not permitted"):
        actions.isolate_region("region-a", method="nftables", configuration=configuration)
