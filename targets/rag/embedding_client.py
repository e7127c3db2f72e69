"""The RAG replica's client of its region's embedding server (``targets.rag.embedder``)."""

from __future__ import annotations

import base64
from collections.abc import Sequence

import httpx
import numpy as np
import numpy.typing as npt

from targets.rag.settings import EMBEDDING_DIM

__all__ = ["EmbeddingClient", "EmbeddingUnavailable", "decode_vectors"]


class EmbeddingUnavailable(Exception):
    """The embedder did not answer in time, refused, or answered something unusable."""


_BULK_TEXTS = 4  # a bulk call this size keeps the embedder free for the next question


class EmbeddingClient:
    """``bulk``: ingest work, sent a few texts a call at the embedder's low priority."""

    def __init__(self, url: str, *, timeout_s: float, bulk: bool = False) -> None:
        self._url = url.rstrip("/") + "/embed"
        self._bulk = bulk
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
