"""The endpoint table: tabular /predict bodies and how answers are judged."""

from __future__ import annotations

import json

import pytest

from gameday.errors import LoadError
from gameday.load.payloads import ENDPOINTS, check_tabular_predict, endpoint_for, make_bodies

FEATURES = {"amount", "hour", "merchant_risk", "distance_km", "card_age_days", "foreign",
            "tx_last_24h"}


def test_tabular_bodies_carry_exactly_the_seven_features_in_range() -> None:
    bodies = make_bodies(ENDPOINTS[("tabular", "predict")], 2000, seed=1)
    for raw in bodies:
        tx = json.loads(raw)
        assert set(tx) == FEATURES
        assert tx["amount"] >= 0 and tx["distance_km"] >= 0
        assert 0 <= tx["hour"] <= 23 and isinstance(tx["hour"], int)
        assert 0 <= tx["merchant_risk"] <= 1
        assert tx["card_age_days"] >= 0 and tx["tx_last_24h"] >= 0
        assert isinstance(tx["foreign"], bool)


def test_tabular_bodies_mix_normal_and_fraud_looking_transactions() -> None:
    bodies = [json.loads(raw) for raw in make_bodies(endpoint_for("tabular", "predict"),
                                                     4000, seed=2)]
    fraud_like = sum(tx["hour"] < 6 and tx["merchant_risk"] >= 0.6 and tx["amount"] >= 400
                     for tx in bodies)
    assert 0.05 < fraud_like / len(bodies) < 0.2


def test_body_pool_is_seeded_and_bounded() -> None:
    endpoint = endpoint_for("tabular", "predict")
    assert make_bodies(endpoint, 10, seed=5) == make_bodies(endpoint, 10, seed=5)
    assert len(make_bodies(endpoint, 1_000_000, seed=5)) == 4096


@pytest.mark.parametrize(("status", "body", "expected"), [
    (200, b'{"fraud_score": 0.3, "is_fraud": false}', (True, "")),
    (200, b'{"fraud_score": 1}', (True, "")),
    (200, b'{"fraud_score": 1.5}', (False, "payload")),
    (200, b'{"fraud_score": true}', (False, "payload")),
    (200, b'{"score": 0.3}', (False, "payload")),
    (200, b"<html>", (False, "payload")),
    (200, b"", (False, "payload")),
    (422, b'{"detail": []}', (False, "http_4xx")),
    (503, b"", (False, "http_5xx")),
    (302, b"", (False, "payload")),
])
def test_check_judges_status_and_fraud_score(status: int, body: bytes,
                                             expected: tuple[bool, str]) -> None:
    assert check_tabular_predict(status, body) == expected


def test_unknown_endpoint_is_a_load_error_listing_the_known_ones() -> None:
    with pytest.raises(LoadError, match="tabular/predict"):
        endpoint_for("rag", "summarise")
