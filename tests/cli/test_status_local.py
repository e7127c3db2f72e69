"""``gameday status`` against the real local platform: healthy after stand-up, exit 1 with the
region and the fault named while a region is held down, healthy again once it is restored."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from gameday.platforms.local.platform import LocalPlatform
from tests.cli.conftest import CliResult
from tests.runs.run_helpers import all_members_healthy

pytestmark = pytest.mark.e2e  # stands the platform up (HAProxy on the edge's port)


def test_status_follows_a_region_held_down_and_restored(
        local_platform: LocalPlatform, cli: Callable[..., CliResult]) -> None:
    home = str(local_platform.home.root)
    assert all_members_healthy(local_platform)
    healthy = cli("status", "--home", home, "--json")
    assert healthy.code == 0, healthy.output
    document = json.loads(healthy.stdout)
    assert document["up"] is True and document["faults"] == []
    assert {m["state"] for m in document["members"]} == {"healthy"}
    local_platform.stop_region("region-a", freeze=False)
    try:
        held = cli("status", "--home", home)
        assert held.code == 1
        assert "fault in force: region_hold" in held.output and "region-a" in held.output
    finally:
        local_platform.restore_region("region-a")
    assert all_members_healthy(local_platform, timeout_s=60)
    assert cli("status", "--home", home).code == 0
