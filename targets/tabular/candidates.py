"""The fraud classifiers training builds: two genuine versions, three deliberately bad releases
(slower, failing on some inputs, silently less accurate) for the release experiments to catch,
and one bad deploy of the wrong input schema."""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

__all__ = [
    "BAD_RELEASES",
    "INCOMPATIBLE_FEATURES",
    "Candidate",
    "FailingClassifier",
    "SlowClassifier",
    "incompatible_candidate",
    "registry_candidates",
]

#: The three features the incompatible model was trained on: a bad deploy of the wrong schema.
INCOMPATIBLE_FEATURES: tuple[str, ...] = ("amount", "merchant_risk", "foreign")


@dataclass(frozen=True)
class Candidate:
    """A model to train: its pipeline, the parameters worth logging and what it is."""

    kind: str
    description: str
    pipeline: Pipeline
    params: dict[str, Any]
    #: Types skops must be told to trust when it loads this model; we built them ourselves.
    trusted_types: tuple[str, ...] = ()
    #: Two feature columns training swaps (a training/serving skew bug: the silent accuracy
    #: drop); serving sends them in the right order.
    swapped_columns: tuple[str, str] | None = None


#: The bad releases, by registry alias: what each one does wrong (versions 3, 4, 5).
BAD_RELEASES: dict[str, str] = {
    "bad-slow": "gradient-boosted trees that take 40 ms more per request",
    "bad-errors": "gradient-boosted trees that fail on about 30 % of transactions",
    "bad-silent": "gradient-boosted trees trained with hour and tx_last_24h swapped (a "
                  "training/serving skew bug): valid answers, ranked little better than chance",
}
_SLOW_DELAY_S = 0.040
_FAILING_SHARE = 0.3
_SKEWED = ("hour", "tx_last_24h")
_TRUSTED_TREES = ("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",)


def registry_candidates(seed: int) -> list[Candidate]:
    """Versions 1 to 5 of registered model `fraud`, in registration order: the two genuine
    ones, then the bad releases of ``BAD_RELEASES``."""
    slow, failing, silent = (_gradient_boosting(seed) for _ in range(3))
    return [
        _logistic(),
        _gradient_boosting(seed),
        _wrapped(slow, SlowClassifier(slow.pipeline, delay_s=_SLOW_DELAY_S), "slow",
                 BAD_RELEASES["bad-slow"], {"delay_s": _SLOW_DELAY_S}),
        _wrapped(failing, FailingClassifier(failing.pipeline, share=_FAILING_SHARE), "failing",
                 BAD_RELEASES["bad-errors"], {"failing_share": _FAILING_SHARE}),
        Candidate("hist_gradient_boosting_skewed", BAD_RELEASES["bad-silent"],
                  silent.pipeline, {**silent.params, "swapped_columns": ",".join(_SKEWED)},
                  trusted_types=_TRUSTED_TREES, swapped_columns=_SKEWED),
    ]


class SlowClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A bad release: the wrapped model's answers, ``delay_s`` later (a heavier model, a debug
    build). Trained by fitting the wrapped pipeline."""

    def __init__(self, pipeline: Any = None, delay_s: float = 0.0) -> None:
        self.pipeline = pipeline
        self.delay_s = delay_s

    def fit(self, x: np.ndarray, y: np.ndarray) -> SlowClassifier:
        self.pipeline.fit(x, y)
        self.classes_ = self.pipeline.classes_
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        time.sleep(self.delay_s)
        return np.asarray(self.pipeline.predict_proba(x))

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.classes_[np.argmax(self.predict_proba(x), axis=1)])


class FailingClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A bad release that raises on about ``share`` of the transactions (a feature it cannot
    handle): which ones is a pure function of the row, so a retry fails again."""

    def __init__(self, pipeline: Any = None, share: float = 0.0) -> None:
        self.pipeline = pipeline
        self.share = share

    def fit(self, x: np.ndarray, y: np.ndarray) -> FailingClassifier:
        self.pipeline.fit(x, y)
        self.classes_ = self.pipeline.classes_
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        rows = np.ascontiguousarray(x, dtype=np.float64)
        for row in rows:
            if zlib.crc32(row.tobytes()) % 1000 < self.share * 1000:
                raise ValueError("unsupported transaction: feature value out of the encoder's "
                                 "range")
        return np.asarray(self.pipeline.predict_proba(rows))

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.classes_[np.argmax(self.predict_proba(x), axis=1)])


def _wrapped(inner: Candidate, model: BaseEstimator, kind: str, description: str,
             params: dict[str, Any]) -> Candidate:
    pipeline = Pipeline([("release", model)])
    return Candidate(f"hist_gradient_boosting_{kind}", description, pipeline,
                     {**inner.params, **params},
                     trusted_types=(*_TRUSTED_TREES, f"{__name__}.{type(model).__name__}"))


def _logistic() -> Candidate:
    # log1p tames the heavy tails of amount, distance and counts; the model stays linear, cheap
    # (about 0.2 ms a row) and blind to interactions such as foreign-at-night.
    params = {"C": 1.0, "max_iter": 1000}
    pipeline = Pipeline(
        [
            ("log1p", FunctionTransformer(np.log1p)),
            ("scale", StandardScaler()),
            ("classifier", LogisticRegression(**params)),
        ]
    )
    return Candidate("logistic_regression", "log1p, scaler, logistic regression", pipeline, params)


def _gradient_boosting(seed: int) -> Candidate:
    # hour stays numeric: declared categorical, it made HistGradientBoosting wrap every predict
    # in a ColumnTransformer and OrdinalEncoder, 80 % of a single-row predict; two splits find
    # the night as well.
    params = {
        "max_iter": 200,
        "learning_rate": 0.1,
        "max_leaf_nodes": 15,
        "min_samples_leaf": 40,
        "early_stopping": True,
        "random_state": seed,
    }
    pipeline = Pipeline([("classifier", HistGradientBoostingClassifier(**params))])
    return Candidate("hist_gradient_boosting", "gradient-boosted trees", pipeline, params,
                     trusted_types=_TRUSTED_TREES)


def incompatible_candidate() -> Candidate:
    """A classifier on 3 of the 7 features: loads fine, fails on every real request."""
    pipeline = Pipeline([("scale", StandardScaler()), ("classifier", LogisticRegression())])
    return Candidate(
        "logistic_regression_3_features",
        f"trained on {', '.join(INCOMPATIBLE_FEATURES)} only: input signature mismatch",
        pipeline,
        {"features": ",".join(INCOMPATIBLE_FEATURES)},
    )
