"""The response cache: a whole answer kept per (normalised question, variant, k), for
``ttl_s``, and dropped as soon as an ingest could change it.

An entry is invalidated by a new chunk (seen in the replica's chunk feed, so ingests through
any replica of any region count) when the chunk belongs to a document the answer cited (a
re-ingest), when its similarity to the question beats the entry's k-th passage (it would now
rank in the top k; a pending chunk has no embedding yet and is judged when filled in), or, for
the hybrid variant, when it holds one of the question's words (the keyword side could rank
it). What is left is an answer the same retrieval would still give. An entry past its TTL is
not served as a normal hit; while the store is down it may be served as a degraded (stale)
answer.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from targets.rag.generation import Passage
from targets.rag.store import ChunkRow
from targets.rag.text import content_words, normalise_question

__all__ = ["CacheKey", "CachedAnswer", "ResponseCache", "cache_key"]

CacheKey = tuple[str, str, int]


def cache_key(question: str, variant: str, k: int) -> CacheKey:
    return normalise_question(question), variant, k


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    tokens: tuple[str, ...]
    answer: str
    sources: tuple[Passage, ...]
    question_vector: npt.NDArray[np.float32] | None
    kth_similarity: float  # the vector similarity a new chunk must beat to enter the top k
    terms: frozenset[str]
    stored_s: float


class ResponseCache:
    def __init__(self, *, ttl_s: float, max_entries: int) -> None:
        self.ttl_s = ttl_s
        self._max_entries = max_entries
        self._entries: OrderedDict[CacheKey, CachedAnswer] = OrderedDict()
        self.invalidated = 0

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey, *, stale_ok: bool = False) -> CachedAnswer | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if not stale_ok and time.monotonic() - entry.stored_s > self.ttl_s:
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: CacheKey, tokens: Sequence[str], answer: str,
            sources: Sequence[Passage], question_vector: npt.NDArray[np.float32] | None,
            similarities: Sequence[float]) -> None:
        if not self.enabled:
            return
        self._entries[key] = CachedAnswer(
            tokens=tuple(tokens), answer=answer, sources=tuple(sources),
            question_vector=question_vector,
            kth_similarity=min(similarities) if similarities else -1.0,
            terms=frozenset(content_words(key[0])), stored_s=time.monotonic())
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def invalidate(self, rows: Sequence[ChunkRow]) -> int:
        """Drop every entry the new chunks could change; how many were dropped."""
        if not rows or not self._entries:
            return 0
        docs = {row.doc_id for row in rows}
        embedded = [row.embedding for row in rows if row.embedding is not None]
        # a pending chunk (no embedding yet) cannot enter a vector top k until it is filled in
        matrix = np.stack(embedded) if embedded else None
        row_terms = [frozenset(content_words(row.text)) for row in rows]
        stale = [key for key, entry in self._entries.items()
                 if _changed(key, entry, docs, matrix, row_terms)]
        for key in stale:
            del self._entries[key]
        self.invalidated += len(stale)
        return len(stale)


def _changed(key: CacheKey, entry: CachedAnswer, docs: set[str],
             matrix: npt.NDArray[np.float32] | None, row_terms: list[frozenset[str]]) -> bool:
    if any(source.doc_id in docs for source in entry.sources):
        return True
    if entry.question_vector is None:  # answered by keywords only: any shared word counts
        return any(entry.terms & terms for terms in row_terms)
    if matrix is not None and float((matrix @ entry.question_vector).max()) \
            > entry.kth_similarity:
        return True
    return key[1] == "hybrid" and any(entry.terms & terms for terms in row_terms)
