"""The two retrieval variants the A/B switch chooses between, and the sticky assignment.

- ``vector``: the top k of the HNSW index by cosine similarity;
- ``hybrid``: the vector list and a full-text list fused by reciprocal rank fusion
  (Cormack et al. 2009: score = sum over lists of 1 / (60 + rank)).

A user key always lands on the same variant: the first 8 bytes of SHA-256(salt, key) as a
fraction of 2^64, on hybrid when below the hybrid share. No key: assigned per question the
same way, so the split holds for anonymous traffic too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Literal

from targets.rag.generation import Passage

__all__ = ["RRF_K", "VARIANTS", "Variant", "assign_variant", "fuse"]

Variant = Literal["vector", "hybrid"]
VARIANTS: tuple[Variant, ...] = ("vector", "hybrid")
RRF_K = 60


def assign_variant(key: str, hybrid_share: float, salt: str) -> Variant:
    digest = hashlib.sha256(f"{salt}\0{key}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    return "hybrid" if fraction < hybrid_share else "vector"


def fuse(ranked: Sequence[Sequence[Passage]], k: int) -> list[Passage]:
    """Reciprocal rank fusion of several ranked lists; a passage's score is its fused score."""
    scores: dict[tuple[str, int], float] = {}
    first: dict[tuple[str, int], Passage] = {}
    for passages in ranked:
        for rank, passage in enumerate(passages, start=1):
            key = (passage.doc_id, passage.chunk)
            scores[key] = scores.get(key, 0.0) + 1.0 / (RRF_K + rank)
            first.setdefault(key, passage)
    best = sorted(scores, key=lambda key: (-scores[key], key))[:k]
    return [Passage(doc_id=first[key].doc_id, chunk=first[key].chunk, text=first[key].text,
                    score=scores[key]) for key in best]
