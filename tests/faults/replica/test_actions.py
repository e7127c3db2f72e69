"""Replica kill: the process dies, the supervisor's restart policy brings it back."""

from __future__ import annotations

import psutil

from gameday.faults.replica import actions, probes
from gameday.platforms.local.platform import LocalPlatform


def test_killed_replica_is_restarted_by_the_platform(
        local_platform: LocalPlatform, configuration: dict[str, str]) -> None:
    before = {m.name: m.pid for m in local_platform.members(region="region-a", component="api")}

    done = actions.kill_replica("region-a", "tabular", 1, configuration=configuration)
    assert done["member"] == "tabular-api-a1"
    assert not psutil.pid_exists(done["pid"]) or \
        psutil.Process(done["pid"]).status() == psutil.STATUS_ZOMBIE

    actions.wait_replicas_healthy("region-a", configuration=configuration)
    after = {m.name: m.pid for m in local_platform.members(region="region-a", component="api")}
    assert after["tabular-api-a1"] != before["tabular-api-a1"]
    assert after["tabular-api-a2"] == before["tabular-api-a2"]
    assert probes.healthy_replicas("region-a", configuration=configuration) == 2
