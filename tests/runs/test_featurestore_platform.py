"""The feature store on the local platform: real ``feast serve`` and materializer members per
region beside the api. Region-a's store held down: its answers stay 200, scored with the
default features and marked ``features-down``, counted; restored: fresh again. Region-a's
materializer frozen past the ttl: its answers turn ``features-stale`` while region-b's stay
fresh and young; thawed: fresh again."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import platform_up
from gameday.faults.replica import actions
from gameday.platforms.base import Member
from gameday.platforms.local.platform import LocalPlatform
from tests.runs.test_plain_chaos_cli import REPO, plain_chaos_run
from tests.targets.tabular.feast_testing import need_feast

TTL_S = 8
INTERVAL_S = 2
BODY = {"amount": 42.5, "hour": 14, "merchant_risk": 0.2, "distance_km": 3.0,
        "card_age_days": 400, "foreign": False, "tx_last_24h": 2, "card_id": 17}


@pytest.fixture(scope="module")
def store_platform(trained_artifacts: Any,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    need_feast()
    settings = {"tabular": {"feature_store": True, "feature_ttl_s": TTL_S,
                            "materialize_interval_s": INTERVAL_S, "feature_timeout_ms": 200}}
    with platform_up(tmp_path_factory.mktemp("gameday-home"), replicas=1,
                     settings=settings) as platform:
        yield platform


@pytest.fixture(scope="module")
def configuration(store_platform: LocalPlatform) -> dict[str, str]:
    return {"gameday_home": str(store_platform.home.root), "gameday_platform": "local"}


def _api(platform: LocalPlatform, region: str) -> Member:
    (member,) = platform.members(region=region, stack="tabular", component="api")
    return member


def _predict(member: Member) -> httpx.Response:
    response = httpx.post(f"{member.url}/predict", json=BODY, timeout=5)
    assert response.status_code == 200, response.text
    return response


def _until(what: str, timeout_s: float, check: Callable[[], bool]) -> None:
    deadline_s = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline_s:
            raise AssertionError(f"not within {timeout_s:g} s: {what}")
        time.sleep(0.25)


def _lookups(member: Member, outcome: str) -> float:
    text = httpx.get(f"{member.url}/metrics", timeout=5).text
    found = re.search(rf'^tabular_feature_lookups_total{{outcome="{outcome}"}} (\S+)$', text,
                      re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_both_regions_score_fresh_features_from_their_own_store(
        store_platform: LocalPlatform) -> None:
    for region in ("region-a", "region-b"):
        answer = _predict(_api(store_platform, region))
        assert "X-Degraded" not in answer.headers, (region, dict(answer.headers))
        assert 0 <= float(answer.headers["X-Feature-Age-S"]) < TTL_S
    assert len(store_platform.members(stack="tabular", component="features")) == 2


def test_the_store_down_answers_degraded_and_marked_then_fresh_after_restore(
        store_platform: LocalPlatform, configuration: dict[str, str]) -> None:
    member, other = _api(store_platform, "region-a"), _api(store_platform, "region-b")
    before = _lookups(member, "down")
    held = actions.hold_component("region-a", "tabular", "features", freeze=False,
                                  configuration=configuration)
    try:
        assert held["held"]
        for _ in range(5):
            answer = _predict(member)
            assert answer.headers["X-Degraded"] == "features-down"
            assert answer.headers["X-Model-Version"]
        assert _lookups(member, "down") == before + 5
        assert "X-Degraded" not in _predict(other).headers  # region-b's store is its own
    finally:
        actions.restore_component("region-a", "tabular", "features", timeout_s=90,
                                  configuration=configuration)
    _until("region-a scores fresh features again", 30,
           lambda: "X-Degraded" not in _predict(member).headers)


def test_a_frozen_materializer_turns_its_region_stale_while_the_other_stays_fresh(
        store_platform: LocalPlatform, configuration: dict[str, str]) -> None:
    member, other = _api(store_platform, "region-a"), _api(store_platform, "region-b")
    actions.hold_component("region-a", "tabular", "materializer", freeze=True,
                           configuration=configuration)
    try:
        _until("region-a's features go stale", TTL_S + 4 * INTERVAL_S + 10,
               lambda: _predict(member).headers.get("X-Degraded") == "features-stale")
        stale = _predict(member)
        assert float(stale.headers["X-Feature-Age-S"]) > TTL_S
        fresh = _predict(other)
        assert "X-Degraded" not in fresh.headers
        assert float(fresh.headers["X-Feature-Age-S"]) < TTL_S
    finally:
        actions.restore_component("region-a", "tabular", "materializer", timeout_s=60,
                                  configuration=configuration)
    _until("region-a scores fresh features after the thaw", 4 * INTERVAL_S + 10,
           lambda: "X-Degraded" not in _predict(member).headers)


FEATURE_EXPERIMENTS = sorted((REPO / "experiments").glob("tabular-feature-*.json"))


@pytest.mark.parametrize("experiment", FEATURE_EXPERIMENTS,
                         ids=[p.stem for p in FEATURE_EXPERIMENTS])
def test_each_feature_store_experiment_runs_under_plain_chaos(
        store_platform: LocalPlatform, experiment: Path, tmp_path: Path) -> None:
    plain_chaos_run(store_platform, experiment, tmp_path)
