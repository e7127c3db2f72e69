"""Synthetic card transactions with a plausible fraud pattern, seeded so training is repeatable.

The pipeline's first step writes them to a Parquet file (``write_dataset``: the seven features
and the label, with the seed and row count in its metadata); training reads that file, and the
registry records the file's digest, so a changed dataset retrains the models.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from targets.tabular.features import FEATURE_NAMES

__all__ = ["DATASET_ROWS", "DATASET_SEED", "TransactionSet", "dataset_digest",
           "dataset_is_current", "fraud_logit", "make_transactions", "read_dataset",
           "write_dataset"]

DATASET_ROWS = 60_000
DATASET_SEED = 7
#: Bump when make_transactions changes: a dataset file of another generator is rewritten.
GENERATOR_VERSION = "1"
_META = {"rows": b"gameday.rows", "seed": b"gameday.seed", "generator": b"gameday.generator"}

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


def write_dataset(path: Path, n_rows: int = DATASET_ROWS, seed: int = DATASET_SEED
                  ) -> TransactionSet:
    """Draw the dataset and write it atomically (features in FEATURE_NAMES order, ``fraud``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = make_transactions(n_rows, seed)
    columns = {name: data.features[:, i] for i, name in enumerate(FEATURE_NAMES)}
    table = pa.table({**columns, "fraud": data.fraud}).replace_schema_metadata({
        _META["rows"]: str(n_rows).encode(), _META["seed"]: str(seed).encode(),
        _META["generator"]: GENERATOR_VERSION.encode()})
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tmp")
    try:
        pq.write_table(table, scratch)
        scratch.replace(path)
    finally:
        scratch.unlink(missing_ok=True)
    return data


def read_dataset(path: Path) -> TransactionSet:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    features = np.column_stack([table.column(name).to_numpy().astype(np.float64)
                                for name in FEATURE_NAMES])
    return TransactionSet(features=features, fraud=table.column("fraud").to_numpy())


def dataset_is_current(path: Path, n_rows: int = DATASET_ROWS,
                       seed: int = DATASET_SEED) -> bool:
    """The file exists and was written by this generator with these rows and seed."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, ValueError):
        return False
    return (meta.get(_META["rows"]), meta.get(_META["seed"]), meta.get(_META["generator"])) \
        == (str(n_rows).encode(), str(seed).encode(), GENERATOR_VERSION.encode())


def dataset_digest(path: Path) -> str:
    """SHA-256 of the file's bytes (the registry records it: what the models were trained on)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
