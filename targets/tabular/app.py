"""The fraud-scoring HTTP service: `python -m uvicorn targets.tabular.app:app`.

/predict scores a transaction, /health is shallow (the process answers), /ready is deep (the
model really scores), /model says which model serves, /metrics is for Prometheus,
/drift compares recent inputs with the training data (/drift/reference: the rows it compares
against), /admin/model hot-swaps the model.

A score is a pure function of the transaction and the model: with ``answer_max_age_s`` set the
answers say so (``Cache-Control: public``), and the edge's cache may serve them again, also
while the regions fail (``stale-if-error``). /model is always cacheable for a few seconds.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import Route

from targets.served_by import ServedByMiddleware
from targets.tabular.features import Transaction
from targets.tabular.featurestore.lookup import CardFeatures, FeatureOutcome
from targets.tabular.loader import ModelLoadError
from targets.tabular.service import FraudService, InferenceError
from targets.tabular.settings import Settings

__all__ = ["DEGRADED_HEADER", "FEATURE_AGE_HEADER", "ModelSwap", "ModelSwapOut",
           "PredictRequest", "PredictionOut", "app", "create_app"]


class PredictRequest(Transaction):
    """A transaction and, optionally, its card: with the feature store on, the card's
    ``card_age_days`` and ``tx_last_24h`` come from the store instead of the request."""

    card_id: int | None = Field(None, ge=1, description="the card, for its online features")


class PredictionOut(BaseModel):
    fraud_score: float
    is_fraud: bool
    model_version: str
    model_alias: str | None
    region: str


class ModelSwap(BaseModel):
    """Body of POST /admin/model: a registry URI (models:/fraud@champion) or a model dir."""

    model_config = ConfigDict(extra="forbid")

    uri: str = Field(min_length=1)


class ModelSwapOut(BaseModel):
    model_version: str
    uri: str


# async on purpose: FastAPI runs a plain-def dependency in a worker thread, and that hop cost
# a third of a /predict request.
async def _service(request: Request) -> FraudService:
    service: FraudService = request.app.state.service
    return service


Service = Annotated[FraudService, Depends(_service)]
router = APIRouter()


_MODEL_MAX_AGE_S = 5
MODEL_VERSION_HEADER = "X-Model-Version"
# an answer scored with default features says why (features-stale, -missing, -down): still a
# 200, counted apart from ok in the records; and how old the store's row was, when it said
DEGRADED_HEADER = "X-Degraded"
# a release analysis's labelled shadow request (gameday.faults.release.metrics): scored and
# counted, but kept out of the drift window, which watches the users' inputs
SHADOW_HEADER = "X-Gameday-Shadow"
FEATURE_AGE_HEADER = "X-Feature-Age-S"


def _cacheable(response: Response, max_age_s: int) -> None:
    response.headers["Cache-Control"] = (f"public, max-age={max_age_s}, "
                                         f"stale-if-error={max(60, 10 * max_age_s)}")


def _feature_marks(features: CardFeatures | None) -> dict[str, str]:
    if features is None:
        return {}
    marks = {} if features.outcome is FeatureOutcome.FRESH else {
        DEGRADED_HEADER: f"features-{features.outcome.value}"}
    if features.age_s is not None:
        marks[FEATURE_AGE_HEADER] = f"{features.age_s:.1f}"
    return marks


@router.post("/predict")
async def predict(transaction: PredictRequest, service: Service, request: Request,
                  response: Response) -> PredictionOut:
    # every answer, a failure too, names the model version that gave it (X-Model-Version):
    # a release's analysis and its harmed requests are counted per version
    version = service.model.version
    features = await service.card_features(transaction.card_id)
    marks = _feature_marks(features)
    try:
        prediction = service.predict(service.with_features(transaction, features),
                                     watched=SHADOW_HEADER not in request.headers)
    except InferenceError as exc:
        raise HTTPException(status_code=500, detail=str(exc),
                            headers={MODEL_VERSION_HEADER: version, **marks}) from exc
    response.headers[MODEL_VERSION_HEADER] = prediction.model_version
    response.headers.update(marks)
    # a score from default features is not the card's: the edge must not serve it again
    if service.settings.answer_max_age_s and DEGRADED_HEADER not in marks:
        _cacheable(response, service.settings.answer_max_age_s)
    return PredictionOut(
        fraud_score=prediction.fraud_score,
        is_fraud=prediction.is_fraud,
        model_version=prediction.model_version,
        model_alias=prediction.model_alias,
        region=service.settings.region,
    )


@router.get("/health")
async def health() -> dict[str, str]:
    """Shallow on purpose: it says the process and its event loop answer, nothing more."""
    return {"status": "ok"}


@router.get("/model")
async def model(service: Service, response: Response) -> dict[str, str | None]:
    """Which model serves here (metadata: the edge may cache it briefly)."""
    served = service.model
    _cacheable(response, _MODEL_MAX_AGE_S)
    return {"model_version": served.version, "uri": served.uri, "region": service.settings.region}


@router.get("/ready", responses={503: {"description": "the model cannot score"}})
async def ready(service: Service) -> dict[str, str]:
    """Deep: one real inference on a fixed transaction."""
    try:
        model = service.check_ready()
    except InferenceError as exc:
        raise HTTPException(status_code=503, detail=f"model not ready: {exc}") from exc
    return {"status": "ready", "model_version": model.version, "uri": model.uri}


@router.get("/metrics", response_class=Response)
async def metrics(service: Service) -> Response:
    return Response(service.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


@router.get("/drift")
async def drift(service: Service) -> dict[str, Any]:
    """The recent inputs against the training data: per feature the PSI and the drift test
    (method, statistic, p-value or threshold, drifted), and whether the dataset drifts."""
    return {**service.drift_report().as_json(), "region": service.settings.region,
            "model_version": service.model.version}


@router.get("/drift/reference")
async def drift_reference(service: Service) -> dict[str, Any]:
    """The training rows the drift test compares against, as transactions: what a client
    replays to send the training population (shifted or not)."""
    return {"transactions": service.drift_reference()}


@router.post("/admin/model", responses={400: {}, 403: {}})
async def swap_model(swap: ModelSwap, request: Request, service: Service) -> ModelSwapOut:
    """Hot-swap the model, like TorchServe's and Triton's model-control APIs; loopback only."""
    if not _is_loopback(request):
        raise HTTPException(status_code=403, detail="model control is accepted from loopback only")
    try:
        model = await service.swap(swap.uri)
    except ModelLoadError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    return ModelSwapOut(model_version=model.version, uri=model.uri)


def _is_loopback(request: Request) -> bool:
    if request.client is None:
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app for one replica; settings default to the environment, read once here."""
    resolved = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A replica that cannot load its model must not come up at all: the error stops
        # uvicorn, and the platform sees a process that exited.
        app.state.service = FraudService.start(resolved)
        yield
        await app.state.service.aclose()

    app = FastAPI(title="gameday tabular fraud service", lifespan=lifespan)
    app.include_router(router)

    def observe(endpoint: str, status: int, duration_s: float) -> None:
        service: FraudService | None = getattr(app.state, "service", None)
        if service is not None:
            service.metrics.observe_request(endpoint, status, duration_s)

    app.add_middleware(
        ServedByMiddleware,
        region=resolved.region,
        replica=resolved.replica,
        endpoints=[route.path for route in router.routes if isinstance(route, Route)],
        observe=observe,
    )
    return app


app = create_app()
