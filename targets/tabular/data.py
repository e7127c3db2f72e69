"""Synthetic card transactions with a plausible fraud pattern, seeded so training is repeatable."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from targets.tabular.features import FEATURE_NAMES

__all__ = ["TransactionSet", "fraud_logit", "make_transactions"]

# Share of transactions per local hour: quiet at night, peaks at lunch and early evening.
_HOURLY_WEIGHT = np.array(
    [2, 1, 1, 1, 1, 2, 3, 5, 6, 6, 7, 8, 9, 8, 7, 7, 8, 9, 9, 8, 6, 5, 4, 3], dtype=np.float64
)
# Intercept of the fraud logit, tuned so that about 3 % of transactions are fraud.
_BASE_LOGIT = -7.5


@dataclass(frozen=True)
class TransactionSet:
    """Features (n, 7) in FEATURE_NAMES order and the 0/1 fraud label (n,)."""

    features: np.ndarray
    fraud: np.ndarray

    @property
    def fraud_rate(self) -> float:
        return float(self.fraud.mean())


def fraud_logit(features: np.ndarray) -> np.ndarray:
    """The ground-truth log-odds of fraud: big, foreign, far, at night, on new or busy cards."""
    amount, hour, risk, distance_km, card_age_days, foreign, tx_24h = features.T
    night = (hour <= 5) | (hour >= 23)
    logit: np.ndarray = (
        _BASE_LOGIT
        + 1.3 * np.log1p(amount / 50.0)
        + 9.0 * risk**2
        + 0.8 * np.log1p(distance_km / 10.0)
        + 3.5 * np.exp(-card_age_days / 30.0)
        + 2.2 * foreign
        + 2.0 * night
        # Fraud comes in bursts: a card used many times in a day is the strongest sign, and a
        # foreign card at night much more than either alone (a pattern a linear model misses).
        + 4.5 * (tx_24h >= 8)
        + 2.5 * (foreign * night)
    )
    return logit


def make_transactions(n_rows: int, seed: int) -> TransactionSet:
    """Draw n_rows transactions and label each by a coin flip weighted by fraud_logit."""
    rng = np.random.default_rng(seed)
    features = np.empty((n_rows, len(FEATURE_NAMES)), dtype=np.float64)
    features[:, 0] = np.round(rng.lognormal(mean=3.4, sigma=1.1, size=n_rows), 2)
    features[:, 1] = rng.choice(24, size=n_rows, p=_HOURLY_WEIGHT / _HOURLY_WEIGHT.sum())
    features[:, 2] = rng.beta(2.0, 7.0, size=n_rows)
    features[:, 3] = np.round(rng.lognormal(mean=1.6, sigma=1.3, size=n_rows), 1)
    features[:, 4] = np.floor(rng.exponential(scale=900.0, size=n_rows))
    features[:, 5] = rng.random(n_rows) < 0.07
    features[:, 6] = rng.poisson(lam=2.5, size=n_rows) + (rng.random(n_rows) < 0.02) * 9
    # The label is a draw, not a rule: the same transaction can be fraud or not.
    fraud_probability = 1.0 / (1.0 + np.exp(-fraud_logit(features)))
    fraud = (rng.random(n_rows) < fraud_probability).astype(np.int64)
    return TransactionSet(features=features, fraud=fraud)
