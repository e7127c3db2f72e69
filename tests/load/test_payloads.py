"""The endpoint table: tabular /predict bodies and how answers are judged."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gameday.errors import LoadError
from gameday.load.payloads import (
    ENDPOINTS,
    TABULAR_CARDS,
    check_tabular_predict,
    endpoint_for,
    make_bodies,
)
from targets.tabular.data import fraud_logit, make_transactions
from targets.tabular.drift import DriftWindow, TrainingProfile
from targets.tabular.features import FEATURE_NAMES

FEATURES = {"amount", "hour", "merchant_risk", "distance_km", "card_age_days", "foreign",
            "tx_last_24h"}


def test_tabular_bodies_carry_exactly_the_seven_features_in_range() -> None:
    bodies = make_bodies(ENDPOINTS[("tabular", "predict")], 2000, seed=1)
    for raw in bodies:
        tx = json.loads(raw)
        assert set(tx) == FEATURES | {"card_id"}  # the card: its online features, if a store
        assert 1 <= tx["card_id"] <= TABULAR_CARDS
        assert tx["amount"] >= 0 and tx["distance_km"] >= 0
        assert 0 <= tx["hour"] <= 23 and isinstance(tx["hour"], int)
        assert 0 <= tx["merchant_risk"] <= 1
        assert tx["card_age_days"] >= 0 and tx["tx_last_24h"] >= 0
        assert isinstance(tx["foreign"], bool)


@pytest.mark.parametrize("seed", range(8))
def test_tabular_bodies_are_drawn_as_the_training_data_so_the_drift_monitor_stays_quiet(
        seed: int) -> None:
    """The harness's ordinary load is not a drift: the service's own monitor (PSI and its
    drift tests over a full 1,000-input window, against a training profile) calls none, and
    about 3 % of the bodies are fraud by the data's own ground truth."""
    profile = TrainingProfile.from_matrix(make_transactions(20_000, 7).features)
    rows = np.array([[float(json.loads(raw)[name]) for name in FEATURE_NAMES]
                     for raw in make_bodies(endpoint_for("tabular", "predict"), 1000,
                                            seed=seed)])
    window = DriftWindow(1000)
    for row in rows:
        window.record(row)
    report = window.report(profile)
    assert report.dataset_drift is False
    assert max(feature.psi for feature in report.features) < 0.1
    fraud_share = float(np.mean(1 / (1 + np.exp(-fraud_logit(rows)))))
    assert 0.01 < fraud_share < 0.06


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
