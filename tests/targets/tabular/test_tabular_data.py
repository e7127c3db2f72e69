"""The synthetic transactions: realistic ranges and base rate, fraud driven by its patterns."""

from __future__ import annotations

import numpy as np

from targets.tabular.data import fraud_logit, make_transactions
from targets.tabular.features import FEATURE_NAMES


def test_fraud_base_rate_is_between_2_and_5_percent() -> None:
    for seed in (7, 8):
        assert 0.02 <= make_transactions(60_000, seed).fraud_rate <= 0.05


def test_features_have_their_documented_types_and_ranges() -> None:
    columns = dict(zip(FEATURE_NAMES, make_transactions(20_000, 3).features.T, strict=True))
    assert (columns["amount"] >= 0).all()
    assert set(np.unique(columns["hour"])) == set(range(24))
    assert ((columns["merchant_risk"] >= 0) & (columns["merchant_risk"] <= 1)).all()
    assert (columns["distance_km"] >= 0).all()
    assert set(np.unique(columns["foreign"])) == {0.0, 1.0}
    for integer in ("card_age_days", "tx_last_24h"):
        assert (columns[integer] >= 0).all()
        assert (columns[integer] == np.floor(columns[integer])).all()


def test_the_same_seed_gives_the_same_transactions() -> None:
    first, second = make_transactions(1_000, 11), make_transactions(1_000, 11)
    assert np.array_equal(first.features, second.features)
    assert np.array_equal(first.fraud, second.fraud)


def test_risky_transactions_are_fraud_far_more_often_than_ordinary_ones() -> None:
    data = make_transactions(60_000, 5)
    logit = fraud_logit(data.features)
    riskiest = data.fraud[logit >= np.quantile(logit, 0.9)].mean()
    safest = data.fraud[logit <= np.quantile(logit, 0.5)].mean()
    assert riskiest > 10 * safest
