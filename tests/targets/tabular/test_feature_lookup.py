"""The online feature lookup against a real ``feast serve`` on a repo the build step made:
fresh values are the cards' own, an old row is stale, an unknown card missing, a dead or
silent server down; and a replica scoring with the store marks what it could not use."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from targets.tabular.featurestore.build import CARD_SEED
from targets.tabular.featurestore.cards import make_cards
from targets.tabular.featurestore.lookup import (
    CardFeatures,
    FeatureLookup,
    FeatureOutcome,
    parse_online_features,
)
from targets.tabular.featurestore.repo import CARD_COUNT, FeatureRepo
from targets.tabular.home import ModelHome
from targets.tabular.loader import ModelLoader
from targets.tabular.service import default_features
from tests.targets.tabular.feast_testing import build_repos, feature_server, need_feast
from tests.targets.tabular.tabular_testing import running_replica

CARD = 17
ORDINARY = {"amount": 42.5, "hour": 14, "merchant_risk": 0.2, "distance_km": 3.0,
            "card_age_days": 400, "foreign": False, "tx_last_24h": 2}


@pytest.fixture(scope="module")
def feast_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    need_feast()
    artifacts = tmp_path_factory.mktemp("feature-artifacts")
    line = build_repos(artifacts)
    assert f"{CARD_COUNT} cards applied and materialised" in line, line
    assert "up to date" in build_repos(artifacts)
    with feature_server(FeatureRepo.of(artifacts, "region-a").serving_root,
                        artifacts / "feast-serve.log") as url:
        yield url


def _fetch(url: str, card_id: int, ttl_s: float = 3600, timeout_s: float = 2.0) -> CardFeatures:
    async def once() -> CardFeatures:
        lookup = FeatureLookup(url, timeout_s, ttl_s)
        try:
            return await lookup.fetch(card_id)
        finally:
            await lookup.aclose()
    return asyncio.run(once())


def test_a_fresh_lookup_returns_the_cards_own_features(feast_url: str) -> None:
    cards = make_cards(CARD_SEED)
    found = _fetch(feast_url, CARD)
    assert found.outcome is FeatureOutcome.FRESH
    assert found.values == {"card_age_days": int(cards.card_age_days[CARD - 1]),
                            "tx_last_24h": int(cards.tx_last_24h[CARD - 1])}
    assert found.age_s is not None and 0 <= found.age_s < 600


def test_a_row_older_than_the_ttl_is_stale_and_gives_no_values(feast_url: str) -> None:
    found = _fetch(feast_url, CARD, ttl_s=0.001)
    assert found.outcome is FeatureOutcome.STALE and found.values is None
    assert found.age_s is not None and found.age_s > 0.001


def test_a_card_the_store_does_not_hold_is_missing(feast_url: str) -> None:
    assert _fetch(feast_url, CARD_COUNT + 1).outcome is FeatureOutcome.MISSING


def test_a_closed_port_is_down(free_port: int) -> None:
    assert _fetch(f"http://127.0.0.1:{free_port}", CARD).outcome is FeatureOutcome.DOWN


def test_a_server_that_never_answers_is_down_after_the_timeout() -> None:
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        assert _fetch(url, CARD, timeout_s=0.2).outcome is FeatureOutcome.DOWN


def test_a_status_outside_max_age_is_stale_whatever_the_age(feast_url: str) -> None:
    answer: dict[str, Any] = httpx.post(f"{feast_url}/get-online-features", json={
        "features": ["card_stats:card_age_days", "card_stats:tx_last_24h"],
        "entities": {"card_id": [CARD]}}).json()
    index = answer["metadata"]["feature_names"].index("tx_last_24h")
    answer["results"][index]["statuses"][0] = "OUTSIDE_MAX_AGE"
    assert parse_online_features(answer, 3600, 0.0).outcome is FeatureOutcome.STALE


def test_an_answer_without_the_features_counts_as_down() -> None:
    assert parse_online_features({"results": []}, 3600, 0.0).outcome is FeatureOutcome.DOWN


def test_the_default_features_are_the_training_medians(model_home: ModelHome) -> None:
    model = ModelLoader(model_home.tracking_uri, model_home.root).load("models:/fraud@champion")
    defaults = default_features(model.profile)
    assert model.profile is not None
    names = [f.name for f in model.profile.features]
    for name, value in defaults.items():
        column = sorted(model.profile.reference[names.index(name)])
        assert column[len(column) // 2 - 1] <= value <= column[len(column) // 2]


def _predict(url: str, body: dict[str, Any]) -> httpx.Response:
    response = httpx.post(f"{url}/predict", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response


def test_a_replica_scores_with_the_store_and_marks_what_it_could_not_use(
        feast_url: str, model_home: ModelHome, tmp_path: Path, free_port: int) -> None:
    cards = make_cards(CARD_SEED)
    stored = {**ORDINARY, "card_age_days": int(cards.card_age_days[CARD - 1]),
              "tx_last_24h": int(cards.tx_last_24h[CARD - 1])}
    with running_replica(model_home, tmp_path / "up.log", GAMEDAY_FEATURE_URL=feast_url,
                         GAMEDAY_FEATURE_TIMEOUT_MS="2000") as url:
        fresh = _predict(url, {**ORDINARY, "card_id": CARD})
        own = _predict(url, stored)  # no card: the request's own features
        assert "X-Degraded" not in fresh.headers
        assert float(fresh.headers["X-Feature-Age-S"]) >= 0
        assert fresh.json()["fraud_score"] == own.json()["fraud_score"]
        missing = _predict(url, {**ORDINARY, "card_id": CARD_COUNT + 1})
        assert missing.headers["X-Degraded"] == "features-missing"
        metrics = httpx.get(f"{url}/metrics").text
        assert 'tabular_feature_lookups_total{outcome="fresh"} 1.0' in metrics
        assert 'tabular_feature_lookups_total{outcome="missing"} 1.0' in metrics
        assert "tabular_feature_lookup_seconds_count 2.0" in metrics
    dead = f"http://127.0.0.1:{free_port}"
    with running_replica(model_home, tmp_path / "down.log", GAMEDAY_FEATURE_URL=dead) as url:
        down = _predict(url, {**ORDINARY, "card_id": CARD})
        assert down.headers["X-Degraded"] == "features-down"
        assert "X-Feature-Age-S" not in down.headers
        assert down.headers["X-Model-Version"] == "1"
        medians = _predict(url, {**ORDINARY, **_defaults(model_home)})
        assert down.json()["fraud_score"] == medians.json()["fraud_score"]
        assert 'tabular_feature_lookups_total{outcome="down"} 1.0' in httpx.get(
            f"{url}/metrics").text


def _defaults(home: ModelHome) -> dict[str, int]:
    model = ModelLoader(home.tracking_uri, home.root).load("models:/fraud@champion")
    return default_features(model.profile)
