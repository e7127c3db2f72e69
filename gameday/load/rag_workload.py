"""What the RAG load sends, request by request (no Locust here: plain data and JSON).

- ``ask``: labelled questions from the base corpus (``gameday.corpus``), each from one of
  ``USERS`` A/B keys, streamed;
- ``ingest``: numbered documents, document n carrying seq n (the RPO ledger) and a fact no
  other document holds;
- ``probe``: labelled questions throughout the run, every other one about the document the
  ingest load sent ``follow_lag_s`` earlier (so a document acknowledged and then lost in a
  failover shows as a question that can no longer be answered).

The send index picks the request, so a plan's requests are the same in every run.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from gameday.corpus import Question, base_documents, base_questions, fresh_document, fresh_question

__all__ = ["USERS", "RagRequest", "RagWorkload"]

USERS = 1000  # distinct A/B keys the load spreads its questions over


@dataclass(frozen=True, slots=True)
class RagRequest:
    body: bytes
    question: Question | None = None  # the labelled question asked
    seq: int | None = None  # ingest: the document's seq; probe: the seq its question is about


class RagWorkload:
    def __init__(self, endpoint: str, *, run_key: str, documents: int, k: int, seed: int,
                 follow_rate_per_s: float = 0.0, follow_lag_s: float = 5.0) -> None:
        if endpoint not in ("ask", "ingest", "probe"):
            raise ValueError(f"no RAG workload for endpoint {endpoint!r}")
        self.endpoint = endpoint
        self._run_key = run_key
        self._k = k
        self._seed = seed
        self._follow_rate_per_s = follow_rate_per_s
        self._follow_lag_s = follow_lag_s
        self._questions = base_questions(base_documents(max(1, documents)), seed=seed) \
            if endpoint != "ingest" else []

    def request(self, index: int, offset_s: float) -> RagRequest:
        """The ``index``-th request, due ``offset_s`` after the load's start."""
        if self.endpoint == "ingest":
            document = fresh_document(index, self._run_key)
            return RagRequest(_json({"doc_id": document.doc_id, "title": document.title,
                                     "text": document.text, "seq": index,
                                     "run_key": self._run_key}), seq=index)
        seq = self._followed_seq(offset_s) if self.endpoint == "probe" and index % 2 else None
        question = fresh_question(seq, self._run_key) if seq is not None else \
            self._questions[(index * 7919 + self._seed) % len(self._questions)]
        user = f"user-{(index * 104729 + self._seed) % USERS}"
        return RagRequest(_json({"question": question.text, "user": user, "k": self._k}),
                          question=question, seq=seq)

    def _followed_seq(self, offset_s: float) -> int | None:
        """The ingest sent document n at n / rate (constant arrival, same start): the one sent
        ``follow_lag_s`` before now; None before the first."""
        if self._follow_rate_per_s <= 0:
            return None
        at_s = offset_s - self._follow_lag_s
        return math.floor(at_s * self._follow_rate_per_s) if at_s >= 0 else None


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
