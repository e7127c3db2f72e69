"""The RAG service's Prometheus metrics: process cost, requests, answers by variant, cache,
degradation, streams, policy (PII, guard) and ingests."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.process_collector import ProcessCollector

from targets.rag.embedding_client import Breaker

__all__ = ["RagMetrics"]

_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class RagMetrics:
    def __init__(self, cache_size: Callable[[], int], index_size: Callable[[], int],
                 index_version: Callable[[], int], breaker: Breaker) -> None:
        r = self.registry = CollectorRegistry()
        ProcessCollector(registry=r)  # CPU seconds and memory for the cost measure
        self.request_duration = Histogram(
            "rag_request_duration_seconds", "Time from request to the end of its response.",
            ["endpoint", "status"], buckets=_SECONDS, registry=r)
        self.answers = Counter(
            "rag_answers", "Answers by variant, cache status and degraded reason ('' = not).",
            ["variant", "cache", "degraded"], registry=r)
        self.retrieval_seconds = Histogram(
            "rag_retrieval_seconds", "Embedding plus retrieval time of an uncached answer.",
            ["variant"], buckets=_SECONDS, registry=r)
        self.ttft_seconds = Histogram(
            "rag_time_to_first_token_seconds", "From the request to its first token.",
            ["variant", "cache"], buckets=_SECONDS, registry=r)
        self.tokens = Counter("rag_tokens", "Answer tokens produced for a client (a stream "
                              "stopped by a disconnect produces no more).", registry=r)
        self.streams_cancelled = Counter(
            "rag_streams_cancelled", "Answers whose client went away mid-stream.", registry=r)
        self.cache_invalidations = Counter(
            "rag_cache_invalidations", "Cached answers dropped because new chunks could change "
            "them.", registry=r)
        self.redactions = Counter(
            "rag_pii_redactions", "PII redacted, by kind and where (question, document, "
            "answer).", ["kind", "where"], registry=r)
        self.guard_blocks = Counter(
            "rag_guard_blocks", "Inputs the prompt-injection guard refused, by rule and where.",
            ["rule", "where"], registry=r)
        self.ingests = Counter(
            "rag_ingests", "Document ingests by outcome (ok, replaced, pending: stored while "
            "the embedder was down or slow, blocked, failed).",
            ["outcome"], registry=r)
        self.chunks_indexed = Counter("rag_chunks_indexed", "Chunks written.", registry=r)
        self.backfilled = Counter(
            "rag_documents_backfilled", "Pending documents this replica embedded later.",
            registry=r)
        self.feed_errors = Counter(
            "rag_feed_errors", "Failed reads of the new-chunk feed.", registry=r)
        Gauge("rag_cache_entries", "Answers in the response cache.",
              registry=r).set_function(cache_size)
        Gauge("rag_index_version", "The newest chunk id this replica has seen (its cache "
              "answers for the index up to here).", registry=r).set_function(index_version)
        Gauge("rag_embedder_breaker_open", "1 while the embedder's circuit breaker fails "
              "calls at once.", registry=r).set_function(lambda: float(breaker.is_open))
        Gauge("rag_local_index_chunks", "Chunks in the replica's own keyword index.",
              registry=r).set_function(index_size)

    def observe_request(self, endpoint: str, status: int, duration_s: float) -> None:
        self.request_duration.labels(endpoint, str(status)).observe(duration_s)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
