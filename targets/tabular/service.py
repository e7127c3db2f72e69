"""The fraud service's behaviour, apart from HTTP: score, check readiness, hot-swap the model."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from targets.tabular.drift import DriftReport, DriftWindow, TrainingProfile
from targets.tabular.features import FRAUD_THRESHOLD, SAMPLE_TRANSACTION, Transaction
from targets.tabular.loader import LoadedModel, ModelLoader
from targets.tabular.metrics import ServiceMetrics
from targets.tabular.settings import Settings

__all__ = ["FraudService", "InferenceError", "Prediction"]

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

    def __init__(self, settings: Settings, loader: ModelLoader, model: LoadedModel) -> None:
        self.settings = settings
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
        return cls(settings, loader, loader.load(settings.model_uri))

    @property
    def model(self) -> LoadedModel:
        return self._model

    def predict(self, transaction: Transaction) -> Prediction:
        model = self._model
        row = transaction.as_row()
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
        self.metrics.model_loads.labels("ok").inc()
        # every outcome's series exists from the load on, at 0: a rate over a series that a
        # first error creates would miss that error (Prometheus sees it appear at its value)
        for outcome in ("fraud", "legit", "error"):
            self.metrics.predictions.labels(model.version, outcome)
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


def _score(model: LoadedModel, row: list[float]) -> float:
    try:
        score = float(model.fraud_scores(np.array([row], dtype=np.float64))[0])
    except Exception as exc:  # whatever a broken model raises is the model's failure
        raise InferenceError(f"inference failed: {type(exc).__name__}: {exc}") from exc
    if not 0.0 <= score <= 1.0:  # NaN fails this too
        raise InferenceError(f"inference failed: score {score} is not a probability")
    return score
