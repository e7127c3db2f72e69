"""The replica's own copy of the chunks it has seen, with a BM25 keyword index over them: what
the replica still answers from when the store is down (a degraded answer), and what tells the
response cache that new chunks arrived.

Filled from the store's feed (``Store.chunks_since``) every ``refresh_s``; a re-ingested
document's chunks replace the old ones.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from targets.rag.generation import Passage
from targets.rag.store import ChunkRow
from targets.rag.text import content_words

__all__ = ["LocalIndex"]

_K1 = 1.2
_B = 0.75


class LocalIndex:
    def __init__(self) -> None:
        self.watermark = 0  # the highest chunk id seen
        self._texts: dict[int, ChunkRow] = {}
        self._lengths: dict[int, int] = {}
        self._postings: defaultdict[str, dict[int, int]] = defaultdict(dict)
        self._by_doc: defaultdict[str, set[int]] = defaultdict(set)
        self._by_position: dict[tuple[str, int], int] = {}
        self._total_length = 0

    def __len__(self) -> int:
        return len(self._texts)

    def add(self, rows: Sequence[ChunkRow]) -> None:
        for row in rows:
            if row.chunk == 0:  # a document (re-)ingested from its first chunk: drop the old
                self._drop_document(row.doc_id)
            terms = Counter(content_words(row.text))
            self._texts[row.id] = row
            self._lengths[row.id] = sum(terms.values())
            self._total_length += self._lengths[row.id]
            for term, count in terms.items():
                self._postings[term][row.id] = count
            self._by_doc[row.doc_id].add(row.id)
            self._by_position[(row.doc_id, row.chunk)] = row.id
            self.watermark = max(self.watermark, row.id)

    def _drop_document(self, doc_id: str) -> None:
        for chunk_id in self._by_doc.pop(doc_id, set()):
            row = self._texts.pop(chunk_id)
            self._by_position.pop((row.doc_id, row.chunk), None)
            self._total_length -= self._lengths.pop(chunk_id)
            for term in set(content_words(row.text)):
                self._postings[term].pop(chunk_id, None)

    def similarity(self, vector: npt.NDArray[np.float32], doc_id: str, chunk: int) -> float:
        """Cosine similarity of a unit vector to a chunk seen; -1 for one not seen yet or
        pending."""
        chunk_id = self._by_position.get((doc_id, chunk))
        embedding = None if chunk_id is None else self._texts[chunk_id].embedding
        return -1.0 if embedding is None else float(embedding @ vector)

    def search(self, question: str, k: int) -> list[Passage]:
        """BM25 (k1 1.2, b 0.75) over the question's content words."""
        if not self._texts:
            return []
        count, average = len(self._texts), self._total_length / len(self._texts)
        scores: defaultdict[int, float] = defaultdict(float)
        for term in set(content_words(question)):
            postings = self._postings.get(term)
            if not postings:
                continue
            idf = math.log(1 + (count - len(postings) + 0.5) / (len(postings) + 0.5))
            for chunk_id, tf in postings.items():
                norm = tf + _K1 * (1 - _B + _B * self._lengths[chunk_id] / average)
                scores[chunk_id] += idf * tf * (_K1 + 1) / norm
        best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]
        return [Passage(doc_id=self._texts[i].doc_id, chunk=self._texts[i].chunk,
                        text=self._texts[i].text, score=score) for i, score in best]
