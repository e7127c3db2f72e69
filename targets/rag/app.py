"""The RAG HTTP service: ``python -m uvicorn --factory targets.rag.app:create_app``.

``POST /documents`` ingests a document (chunked, embedded, stored; stored with its embedding
pending, ``X-Rag-Degraded: embedder``, when the embedder is down or slow); ``POST /ask`` answers a
question from the top-k retrieved chunks, streamed as server-sent events::

    event: meta   data: {"variant", "cache", "degraded", "region", "sources": [...]}
    event: token  data: {"i": 0, "t": "Kestrel-41 "}        (one per token, i from 0)
    event: done   data: {"answer": "Amber Falcon", "tokens": 12}

A stream that ends without ``done`` is broken (the client should retry with
``resume_from``: the number of tokens it holds). The answer's variant, cache status and
degraded reason are also headers (``X-Rag-Variant``, ``X-Rag-Cache``, ``X-Rag-Degraded``), so
the load generator records them without reading the body. ``/health`` is shallow, ``/ready``
one real retrieval, ``/metrics`` for Prometheus.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import Route

from targets.rag.embedding_client import EmbeddingUnavailable
from targets.rag.generation import Generator
from targets.rag.openai_generator import OpenAIGenerator
from targets.rag.service import Blocked, IngestIn, RagService, Stream
from targets.rag.settings import Settings
from targets.rag.store import StoreUnavailable
from targets.served_by import ServedByMiddleware

__all__ = ["AskIn", "DocumentIn", "create_app"]

_DOC_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$"


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doc_id: str = Field(pattern=_DOC_ID)
    title: str = Field("", max_length=500)
    text: str = Field(min_length=1)
    seq: int | None = Field(None, ge=0, description="the writer's sequence number (RPO)")
    run_key: str | None = Field(None, max_length=100)


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1)
    user: str = Field("", max_length=200, description="A/B key: a user stays on one variant")
    k: int | None = Field(None, ge=1, le=50)
    stream: bool = True
    resume_from: int = Field(0, ge=0, description="tokens the client already holds")
    variant: Literal["vector", "hybrid"] | None = None


async def _service(request: Request) -> RagService:
    service: RagService = request.app.state.service
    return service


Service = Annotated[RagService, Depends(_service)]
router = APIRouter()


@router.post("/documents", status_code=201, responses={413: {}, 422: {}, 503: {}})
async def ingest(document: DocumentIn, service: Service,
                 response: Response) -> dict[str, object]:
    _require_size("text", document.text, service.settings.max_document_chars)
    try:
        result = await service.ingest(IngestIn(doc_id=document.doc_id, text=document.text,
                                               title=document.title, seq=document.seq,
                                               run_key=document.run_key))
    except Blocked as exc:
        raise _guard_error("text", exc) from None
    except (StoreUnavailable, EmbeddingUnavailable) as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from None
    if result.pending:
        response.headers["X-Rag-Degraded"] = "embedder"
    return {"doc_id": result.doc_id, "chunks": result.chunks, "seq": document.seq,
            "replaced": result.replaced, "index_version": result.last_chunk_id,
            "embedding": "pending" if result.pending else "done"}


@router.post("/ask", responses={413: {}, 422: {}})
async def ask(body: AskIn, service: Service) -> Response:
    _require_size("question", body.question, service.settings.max_question_chars)
    try:
        stream = await service.ask(body.question, user=body.user,
                                   k=body.k or service.settings.top_k,
                                   resume_from=body.resume_from, variant=body.variant)
    except Blocked as exc:
        raise _guard_error("question", exc) from None
    headers = _answer_headers(stream)
    if not body.stream:
        text = "".join([token async for token in stream.tokens])
        return JSONResponse({**_meta(stream, service.settings.region), "text": text,
                             "answer": stream.answer[0] if stream.answer else ""},
                            headers=headers)
    return StreamingResponse(_events(stream, service.settings.region, body.resume_from),
                             media_type="text/event-stream", headers=headers)


async def _events(stream: Stream, region: str, first: int) -> AsyncIterator[bytes]:
    yield _event("meta", _meta(stream, region))
    index = first
    async for token in stream.tokens:
        yield _event("token", {"i": index, "t": token})
        index += 1
    yield _event("done", {"answer": stream.answer[0] if stream.answer else "", "tokens": index})


def _event(name: str, data: object) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _meta(stream: Stream, region: str) -> dict[str, object]:
    plan = stream.plan
    return {"variant": plan.variant, "cache": plan.cache_status, "degraded": plan.degraded,
            "region": region,
            "sources": [{"doc_id": p.doc_id, "chunk": p.chunk, "score": round(p.score, 6),
                         "text": p.text} for p in plan.passages]}


def _answer_headers(stream: Stream) -> dict[str, str]:
    headers = {"X-Rag-Variant": stream.plan.variant, "X-Rag-Cache": stream.plan.cache_status,
               "X-Rag-Degraded": stream.plan.degraded, "Cache-Control": "no-store",
               "X-Accel-Buffering": "no"}  # an nginx edge must pass tokens on as they come
    if stream.redacted:
        headers["X-Rag-Redacted"] = ",".join(f"{k}={v}" for k, v in sorted(stream.redacted.items()))
    return headers


def _require_size(field: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise HTTPException(status_code=413, detail=[{
            "loc": ["body", field], "type": "too_large",
            "msg": f"{field} is {len(value):,} characters; at most {limit:,} are accepted"}])


def _guard_error(field: str, exc: Blocked) -> HTTPException:
    return HTTPException(status_code=422, headers={"X-Rag-Guard": exc.rule}, detail=[{
        "loc": ["body", field], "type": "prompt_injection", "msg": str(exc)}])


@router.get("/health")
async def health() -> dict[str, str]:
    """Shallow on purpose: the process and its event loop answer, nothing more."""
    return {"status": "ok"}


@router.get("/ready", responses={503: {"description": "cannot retrieve"}})
async def ready(service: Service) -> dict[str, str]:
    """Deep: one real embedding and one real retrieval."""
    try:
        await service.check_ready()
    except (StoreUnavailable, EmbeddingUnavailable) as exc:
        raise HTTPException(status_code=503, detail=f"not ready: {exc}") from None
    return {"status": "ready"}


@router.get("/metrics", response_class=Response)
async def metrics(service: Service) -> Response:
    return Response(service.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


def _generator(settings: Settings) -> Generator | None:
    """The configured generator; None is the extractive default."""
    if settings.generator != "openai":
        return None
    return OpenAIGenerator(settings.openai_base_url, settings.openai_model,
                           api_key=settings.openai_api_key or None,
                           timeout_s=settings.embedder_timeout_s * 10)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app for one replica; settings default to the environment, read once here."""
    resolved = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = app.state.service = RagService(resolved, _generator(resolved))
        await service.start()
        try:
            yield
        finally:
            await service.close()

    app = FastAPI(title="gameday rag service", lifespan=lifespan)
    app.include_router(router)

    def observe(endpoint: str, status: int, duration_s: float) -> None:
        service: RagService | None = getattr(app.state, "service", None)
        if service is not None:
            service.metrics.observe_request(endpoint, status, duration_s)

    app.add_middleware(ServedByMiddleware, region=resolved.region, replica=resolved.replica,
                       endpoints=[r.path for r in router.routes if isinstance(r, Route)],
                       observe=observe)
    return app

