"""Broken model: inference fails while shallow /health lies; the edge's deep check notices."""

from __future__ import annotations

import httpx

from gameday.faults.checks import http_status
from gameday.faults.model import actions
from gameday.platforms.local.platform import LocalPlatform
from tests.faults.edge_client import SAMPLE, until_served_only_by


def test_broken_model_keeps_shallow_health_green_and_the_deep_edge_fails_over(
        local_platform: LocalPlatform, configuration: dict[str, str]) -> None:
    done = actions.break_model("region-a", configuration=configuration)
    try:
        for member in local_platform.members(region="region-a", component="api"):
            assert http_status(f"{member.url}/health") == 200  # the lie
            assert http_status(f"{member.url}/ready") == 503
            answer = httpx.post(f"{member.url}/predict", json=SAMPLE, timeout=3)
            assert answer.status_code == 500
        assert done["probe_status"] and all(status != 200
                                            for status in done["probe_status"].values())
        until_served_only_by(local_platform, "region-b", timeout_s=15)
    finally:
        actions.restore_model("region-a", configuration=configuration)
    until_served_only_by(local_platform, "region-a", timeout_s=15)
