"""The fraud classifiers training builds: two genuine versions and one deliberately bad deploy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

__all__ = ["INCOMPATIBLE_FEATURES", "Candidate", "incompatible_candidate", "registry_candidates"]

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


def registry_candidates(seed: int) -> list[Candidate]:
    """Version 1 then version 2 of registered model `fraud`, in registration order."""
    return [_logistic(), _gradient_boosting(seed)]


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
    return Candidate(
        "hist_gradient_boosting",
        "gradient-boosted trees",
        pipeline,
        params,
        trusted_types=("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",),
    )


def incompatible_candidate() -> Candidate:
    """A classifier on 3 of the 7 features: loads fine, fails on every real request."""
    pipeline = Pipeline([("scale", StandardScaler()), ("classifier", LogisticRegression())])
    return Candidate(
        "logistic_regression_3_features",
        f"trained on {', '.join(INCOMPATIBLE_FEATURES)} only: input signature mismatch",
        pipeline,
        {"features": ",".join(INCOMPATIBLE_FEATURES)},
    )
