"""How one question becomes an answer plan: cache, embedding, retrieval by variant, and the
fallbacks that keep a replica answering (degraded) while its embedder or its store fails.

Degraded reasons (the ``X-Rag-Degraded`` header, carried into the request record):
- ``embedder``: the embedder failed; answered from the store's full-text search;
- ``store``: the store failed; answered from the replica's own keyword index;
- ``stale-cache``: the store failed and an expired cached answer was served.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from targets.rag.cache import CachedAnswer, CacheKey, ResponseCache, cache_key
from targets.rag.embedding_client import EmbeddingClient, EmbeddingUnavailable
from targets.rag.generation import Passage
from targets.rag.local_index import LocalIndex
from targets.rag.retrieval import Variant, fuse
from targets.rag.store import Store, StoreUnavailable

__all__ = ["Plan", "Retriever"]


@dataclass(frozen=True, slots=True)
class Plan:
    """What the answer will be made of, known before its first byte is sent."""

    key: CacheKey
    variant: Variant
    passages: tuple[Passage, ...]
    cached: CachedAnswer | None
    degraded: str  # "" | embedder | store | stale-cache
    question_vector: npt.NDArray[np.float32] | None
    similarities: tuple[float, ...]  # vector similarity of each passage (for the cache)
    retrieval_s: float

    @property
    def cache_status(self) -> str:
        return "hit" if self.cached is not None else "miss"


class Retriever:
    def __init__(self, store: Store, embedder: EmbeddingClient, index: LocalIndex,
                 cache: ResponseCache) -> None:
        self._store = store
        self._embedder = embedder
        self._index = index
        self._cache = cache

    async def plan(self, question: str, variant: Variant, k: int) -> Plan:
        started_s = time.perf_counter()
        key = cache_key(question, variant, k)
        cached = self._cache.get(key) if self._cache.enabled else None
        if cached is not None:
            return Plan(key, variant, cached.sources, cached, "", None, (), 0.0)
        try:
            vector = (await self._embedder.embed([question]))[0]
        except EmbeddingUnavailable:
            return await self._keyword_only(key, variant, question, k, started_s)
        try:
            passages = await self._retrieve(question, vector, variant, k)
        except StoreUnavailable:
            return self._from_replica(key, variant, question, k, started_s)
        similarities = tuple(_similarities(vector, passages, variant, self._index))
        return Plan(key, variant, tuple(passages), None, "", vector, similarities,
                    time.perf_counter() - started_s)

    async def _retrieve(self, question: str, vector: npt.NDArray[np.float32],
                        variant: Variant, k: int) -> list[Passage]:
        if variant == "vector":
            return await self._store.search_vector(vector, k)
        by_vector, by_keyword = await self._store.search_hybrid(question, vector, k)
        return fuse([by_vector, by_keyword], k)

    async def _keyword_only(self, key: CacheKey, variant: Variant, question: str, k: int,
                            started_s: float) -> Plan:
        try:
            passages = await self._store.search_keyword(question, k)
        except StoreUnavailable:
            return self._from_replica(key, variant, question, k, started_s)
        return Plan(key, variant, tuple(passages), None, "embedder", None, (),
                    time.perf_counter() - started_s)

    def _from_replica(self, key: CacheKey, variant: Variant, question: str, k: int,
                      started_s: float) -> Plan:
        stale = self._cache.get(key, stale_ok=True) if self._cache.enabled else None
        if stale is not None:
            return Plan(key, variant, stale.sources, stale, "stale-cache", None, (),
                        time.perf_counter() - started_s)
        passages = self._index.search(question, k)
        return Plan(key, variant, tuple(passages), None, "store", None, (),
                    time.perf_counter() - started_s)


def _similarities(vector: npt.NDArray[np.float32], passages: list[Passage], variant: Variant,
                  index: LocalIndex) -> list[float]:
    """Cosine similarity of each passage to the question. The vector variant's score is that
    already; a fused score is not, so those come from the replica's copy of the embeddings (a
    passage the replica has not seen yet counts as -1, so any new chunk drops the entry)."""
    if variant == "vector":
        return [passage.score for passage in passages]
    return [index.similarity(vector, p.doc_id, p.chunk) for p in passages]
