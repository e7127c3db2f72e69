"""The embedding server's Prometheus metrics: process cost, batch sizes, queue vs compute."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.process_collector import ProcessCollector

__all__ = ["EmbedderMetrics"]

_SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
_BATCH = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class EmbedderMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)  # CPU seconds and memory for the cost measure
        self.queue_seconds = Histogram(
            "rag_embed_queue_seconds", "Time a request waited for its batch to start.",
            buckets=_SECONDS, registry=self.registry)
        self.compute_seconds = Histogram(
            "rag_embed_compute_seconds", "Model time of one batch.",
            buckets=_SECONDS, registry=self.registry)
        self.batch_size = Histogram(
            "rag_embed_batch_size", "Texts embedded in one model call.",
            buckets=_BATCH, registry=self.registry)
        self.embeddings = Counter(
            "rag_embeddings", "Texts embedded.", registry=self.registry)
        self.failures = Counter(
            "rag_embed_failures", "Model calls that raised.", registry=self.registry)

    def observe_batch(self, size: int, compute_s: float) -> None:
        self.batch_size.observe(size)
        self.compute_seconds.observe(compute_s)
        self.embeddings.inc(size)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
