"""The lying-health breach: with a *shallow* edge health check, a broken model in region-a
keeps taking traffic (its /health is green), so requests keep failing for as long as the
fault lasts; the deep check (tests/faults/model/test_actions.py) fails over instead."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import platform_up
from gameday.edge_options import EdgeOptions
from gameday.faults.model import actions
from gameday.platforms.local.platform import LocalPlatform
from tests.faults.edge_client import served_by, until_served_only_by


@pytest.fixture(scope="module")
def shallow_platform(trained_artifacts: Path,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with platform_up(tmp_path_factory.mktemp("shallow-home"),
                     edge=EdgeOptions(health_check="shallow")) as platform:
        yield platform


def test_a_shallow_edge_check_keeps_routing_to_a_region_whose_model_is_broken(
        shallow_platform: LocalPlatform) -> None:
    configuration = shallow_platform.experiment_configuration()
    actions.break_model("region-a", configuration=configuration)
    try:
        failed = 0
        for _ in range(6):  # 3 s: well past what the deep check takes to fail over
            seen = served_by(shallow_platform, requests=10)
            failed += sum(n for outcome, n in seen.items() if outcome.startswith("status 5"))
            time.sleep(0.5)
    finally:
        actions.restore_model("region-a", configuration=configuration)
    # every few requests hit region-a again once a shallow check brings it back
    assert failed >= 6, f"only {failed} of 60 failed: the edge noticed the broken model"
    # the edge takes region-a back once its checks pass again (rise x inter)
    until_served_only_by(shallow_platform, "region-a", timeout_s=15)
