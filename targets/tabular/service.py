"""The fraud service's behaviour, apart from HTTP: score, check readiness, hot-swap the model."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from targets.tabular.drift import DriftReport, DriftWindow, TrainingProfile
from targets.tabular.features import (
    FEATURE_NAMES,
    FRAUD_THRESHOLD,
    SAMPLE_TRANSACTION,
    Transaction,
)
from targets.tabular.featurestore.lookup import CardFeatures, FeatureLookup, FeatureOutcome
from targets.tabular.featurestore.repo import CARD_FEATURES
from targets.tabular.loader import LoadedModel, ModelLoader
from targets.tabular.metrics import ServiceMetrics
from targets.tabular.settings import Settings

__all__ = ["FraudService", "InferenceError", "Prediction", "default_features"]

# what a model loaded without a profile is judged against: nothing (no PSI, no test)
_NO_PROFILE = TrainingProfile(features=())


class InferenceError(Exception):
    """The loaded model could not score a valid transaction (a bad deploy, not a bad request)."""


@dataclass(frozen=True)
class Prediction:
    fraud_score: float
    is_fraud: bool
    model_version: str
    model_alias: str | None


class FraudService:
    """Holds the serving model and swaps it whole, so a request sees one model or the other.

    Scoring runs on the event loop thread: a single row takes well under a millisecond, less
    than a hop to a worker thread would cost.
    """

    def __init__(self, settings: Settings, loader: ModelLoader, model: LoadedModel,
                 lookup: FeatureLookup | None = None) -> None:
        self.settings = settings
        self._lookup = lookup
        self._defaults = default_features(model.profile)
        self._loader = loader
        self._model = model
        self._profile: TrainingProfile | None = model.profile
        self._drift = DriftWindow(settings.drift_window)
        self._swap_lock = asyncio.Lock()
        self.metrics = ServiceMetrics(self.drift_report)
        self._on_loaded(model)

    @classmethod
    def start(cls, settings: Settings) -> FraudService:
        """Load settings.model_uri; raises ModelLoadError, which should stop the process.

        Call it on the event loop's thread: that is the thread that scores.
        """
        loader = ModelLoader(settings.tracking_uri, settings.model_home)
        lookup = FeatureLookup(settings.feature_url, settings.feature_timeout_ms / 1000,
                               settings.feature_ttl_s) if settings.feature_url else None
        return cls(settings, loader, loader.load(settings.model_uri), lookup)

    async def aclose(self) -> None:
        if self._lookup is not None:
            await self._lookup.aclose()

    async def card_features(self, card_id: int | None) -> CardFeatures | None:
        """The card's online features (None: no store, or a request without a card), counted
        and timed by outcome."""
        if self._lookup is None or card_id is None:
            return None
        started_s = time.perf_counter()
        features = await self._lookup.fetch(card_id)
        self.metrics.feature_lookup_seconds.observe(time.perf_counter() - started_s)
        self.metrics.feature_lookups.labels(features.outcome.value).inc()
        if features.age_s is not None:
            self.metrics.feature_age.set(features.age_s)
        return features

    def with_features(self, transaction: Transaction,
                      features: CardFeatures | None) -> Transaction:
        """The transaction to score: the store's values when fresh, the training medians when
        the store is stale, missing or down, the request's own without a lookup."""
        if features is None:
            return transaction
        values = features.values if features.outcome is FeatureOutcome.FRESH else None
        return transaction.model_copy(update=values or self._defaults)

    @property
    def model(self) -> LoadedModel:
        return self._model

    def predict(self, transaction: Transaction, *, watched: bool = True) -> Prediction:
        """``watched``: the input goes into the drift window (not a release's shadow request)."""
        model = self._model
        row = transaction.as_row()
        if watched:
            self._drift.record(row)
        try:
            score = _score(model, row)
        except InferenceError:
            self.metrics.predictions.labels(model.version, "error").inc()
            raise
        is_fraud = score >= FRAUD_THRESHOLD
        self.metrics.predictions.labels(model.version, "fraud" if is_fraud else "legit").inc()
        return Prediction(score, is_fraud, model.version, model.alias)

    def check_ready(self) -> LoadedModel:
        """Score the fixed sample with the serving model; raises InferenceError if it cannot."""
        model = self._model
        _score(model, SAMPLE_TRANSACTION.as_row())
        return model

    async def swap(self, uri: str) -> LoadedModel:
        """Load uri off the event loop, then serve it; on ModelLoadError the old model stays."""
        async with self._swap_lock:
            try:
                model = await asyncio.to_thread(self._loader.load, uri)
            except Exception:
                self.metrics.model_loads.labels("failed").inc()
                raise
            self._model = model
            self._on_loaded(model)
            return model

    def _on_loaded(self, model: LoadedModel) -> None:
        # Pin the scoring thread's OpenMP and BLAS pools to one thread, after every load since
        # a model can bring a library in. A single row gains nothing from a pool, and gradient
        # boosting's OpenMP threads spinning on a busy 2-core machine took v2 from ~400 to ~15
        # requests/s. The limit is per thread: this runs on the event loop's, which scores.
        threadpool_limits(limits=1)
        # A model saved without a profile keeps the last one: the inputs did not change.
        self._profile = model.profile or self._profile
        self._defaults = default_features(self._profile)
        self.metrics.model_loads.labels("ok").inc()
        # every outcome's series exists from the load on, at 0: a rate over a series that a
        # first error creates would miss that error (Prometheus sees it appear at its value)
        for outcome in ("fraud", "legit", "error"):
            self.metrics.predictions.labels(model.version, outcome)
        if self._lookup is not None:
            for lookup in FeatureOutcome:
                self.metrics.feature_lookups.labels(lookup.value)
        self.metrics.model.info(
            {"version": model.version, "alias": model.alias or "", "uri": model.uri}
        )

    def drift_report(self) -> DriftReport:
        """The recent inputs against the serving model's training profile (none: an empty
        profile, nothing judged)."""
        return self._drift.report(self._profile or _NO_PROFILE)

    def drift_reference(self) -> list[dict[str, float | int | bool]]:
        """The profile's reference sample as transactions (a client may replay it)."""
        profile = self._profile
        if profile is None or not profile.reference:
            return []
        names = [f.name for f in profile.features]
        return [Transaction.model_validate(dict(zip(names, row, strict=True))).model_dump()
                for row in zip(*profile.reference, strict=True)]


def default_features(profile: TrainingProfile | None) -> dict[str, int]:
    """What a card is scored with when its store cannot say: the training medians (from the
    profile's reference sample; the fixed sample transaction's values without one)."""
    defaults = {name: int(getattr(SAMPLE_TRANSACTION, name)) for name in CARD_FEATURES}
    if profile is None or not profile.reference:
        return defaults
    names = [feature.name for feature in profile.features] or list(FEATURE_NAMES)
    for name in CARD_FEATURES:
        if name in names:
            defaults[name] = int(np.median(profile.reference[names.index(name)]))
    return defaults


def _score(model: LoadedModel, row: list[float]) -> float:
    try:
        score = float(model.fraud_scores(np.array([row], dtype=np.float64))[0])
    except Exception as exc:  # whatever a broken model raises is the model's failure
        raise InferenceError(f"inference failed: {type(exc).__name__}: {exc}") from exc
    if not 0.0 <= score <= 1.0:  # NaN fails this too
        raise InferenceError(f"inference failed: score {score} is not a probability")
    return score
