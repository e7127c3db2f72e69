"""The RAG replica's client of its region's embedding server (``targets.rag.embedder``), with
a circuit breaker: once a call failed, calls fail at once for a while instead of each waiting
out its timeout on an embedder that hangs."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable, Sequence

import httpx
import numpy as np
import numpy.typing as npt

from targets.rag.settings import EMBEDDING_DIM

__all__ = ["Breaker", "EmbeddingClient", "EmbeddingUnavailable", "decode_vectors"]


class EmbeddingUnavailable(Exception):
    """The embedder did not answer in time, refused, or answered something unusable."""


_BULK_TEXTS = 4  # a bulk call this size keeps the embedder free for the next question


class Breaker:
    """Closed: calls go through. A failure opens it for ``open_s``: calls fail at once. Then
    one call goes through (half-open) while the others still fail at once; its success closes
    it, its failure opens it again. ``open_s`` 0: never opens. One breaker per embedder, shared
    by the clients that call it."""

    def __init__(self, open_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._open_s = open_s
        self._clock = clock
        self._open_until = -float("inf")
        self._trial = False  # a half-open call is out

    @property
    def is_open(self) -> bool:
        return self._clock() < self._open_until or self._trial

    def allow(self) -> bool:
        if self.is_open:
            return False
        self._trial = self._open_until > -float("inf")  # half-open: this call is the trial
        return True

    def success(self) -> None:
        self._open_until, self._trial = -float("inf"), False

    def failure(self) -> None:
        self._trial = False
        if self._open_s > 0:
            self._open_until = self._clock() + self._open_s


class EmbeddingClient:
    """``bulk``: ingest work, sent a few texts a call at the embedder's low priority."""

    def __init__(self, url: str, *, timeout_s: float, breaker: Breaker,
                 bulk: bool = False) -> None:
        self._url = url.rstrip("/") + "/embed"
        self._bulk = bulk
        self._breaker = breaker
        # no pooled connection outlives a stalled embedder: each call has the whole timeout
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s), trust_env=False)

    async def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit-length rows, one per text; EmbeddingUnavailable when the embedder fails."""
        if not self._bulk:
            return await self._call(texts, "interactive")
        parts = [await self._call(texts[i:i + _BULK_TEXTS], "bulk")
                 for i in range(0, len(texts), _BULK_TEXTS)]
        return np.concatenate(parts) if parts else np.empty((0, EMBEDDING_DIM), np.float32)

    async def _call(self, texts: Sequence[str], priority: str) -> npt.NDArray[np.float32]:
        if not self._breaker.allow():
            raise EmbeddingUnavailable(f"embedder {self._url}: failing (circuit open)")
        try:
            vectors = await self._post(texts, priority)
        except (EmbeddingUnavailable, asyncio.CancelledError):
            # cancelled: by a caller's deadline, as good as a timeout (and a half-open trial
            # must end either way)
            self._breaker.failure()
            raise
        self._breaker.success()
        return vectors

    async def _post(self, texts: Sequence[str], priority: str) -> npt.NDArray[np.float32]:
        try:
            response = await self._client.post(self._url, json={"texts": list(texts),
                                                                "priority": priority})
        except httpx.HTTPError as exc:
            raise EmbeddingUnavailable(f"embedder {self._url}: {type(exc).__name__}: "
                                       f"{exc}") from exc
        if response.status_code != 200:
            raise EmbeddingUnavailable(f"embedder {self._url}: HTTP {response.status_code}: "
                                       f"{response.text[:200]}")
        return decode_vectors(response.json(), len(texts))

    async def aclose(self) -> None:
        await self._client.aclose()


def decode_vectors(answer: object, count: int) -> npt.NDArray[np.float32]:
    if not isinstance(answer, dict) or not isinstance(answer.get("vectors"), str):
        raise EmbeddingUnavailable("embedder answered without vectors")
    raw = base64.b64decode(answer["vectors"])
    vectors = np.frombuffer(raw, dtype="<f4")
    if vectors.size != count * EMBEDDING_DIM:
        raise EmbeddingUnavailable(f"embedder sent {vectors.size} floats for {count} texts")
    return vectors.reshape(count, EMBEDDING_DIM).astype(np.float32)
