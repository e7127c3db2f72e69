"""Region outage and freeze on the real local platform: the edge fails over, restore heals."""

from __future__ import annotations

import psutil

from gameday.faults.checks import tcp_state
from gameday.faults.region import actions, probes
from gameday.platforms.local.platform import LocalPlatform
from tests.faults.edge_client import until_served_only_by


def test_kill_region_takes_every_replica_down_and_the_edge_fails_over(
        local_platform: LocalPlatform, configuration: dict[str, str]) -> None:
    before = local_platform.members(region="region-a", component="api")
    assert until_served_only_by(local_platform, "region-a") >= 0

    done = actions.kill_region("region-a", configuration=configuration)
    try:
        assert {m["name"] for m in done["members"]} == {m.name for m in before}
        assert not any(psutil.pid_exists(m.pid) for m in before if m.pid)
        assert all(tcp_state(m.address, m.port) == "refused" for m in before)
        assert probes.region_serving("region-a", configuration=configuration)["serving"] is False
        until_served_only_by(local_platform, "region-b")
        # held down: the restart policy does not bring the region back by itself
        assert {m.state for m in local_platform.members(region="region-a")} == {"held-down"}
    finally:
        actions.restore_region("region-a", configuration=configuration)

    assert probes.region_serving("region-a", configuration=configuration)["healthy"] == 2
    until_served_only_by(local_platform, "region-a", timeout_s=15)


def test_freeze_region_stops_answers_until_restore(
        local_platform: LocalPlatform, configuration: dict[str, str]) -> None:
    done = actions.freeze_region("region-a", configuration=configuration)
    try:
        assert done["mode"] == "SIGSTOP"
        frozen = local_platform.members(region="region-a")
        assert all(psutil.Process(m.pid).status() == psutil.STATUS_STOPPED
                   for m in frozen if m.pid)
        until_served_only_by(local_platform, "region-b", timeout_s=15)
    finally:
        actions.restore_region("region-a", configuration=configuration)
    until_served_only_by(local_platform, "region-a", timeout_s=15)


def test_endpoint_healthy_probe_asks_the_global_edge(configuration: dict[str, str]) -> None:
    assert probes.endpoint_healthy("tabular", configuration=configuration) is True
