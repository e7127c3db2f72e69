"""The service's Prometheus metrics: process cost, latency, predictions, model, input drift."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

__all__ = ["LATENCY_BUCKETS_S", "ServiceMetrics"]

# A single-row predict is ~0.2-2 ms, so the default buckets (starting at 5 ms) would put
# every healthy request in the first one.
LATENCY_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class ServiceMetrics:
    """One registry per service instance, so several apps can live in one process (tests)."""

    def __init__(
        self,
        psi_by_feature: Callable[[], Mapping[str, float]],
        window_count: Callable[[], int],
    ) -> None:
        self.registry = CollectorRegistry()
        # process_cpu_seconds_total and process_resident_memory_bytes feed the cost measure.
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.request_duration = Histogram(
            "tabular_request_duration_seconds",
            "Time from request received to response sent, by endpoint and HTTP status.",
            ["endpoint", "status"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.predictions = Counter(
            "tabular_predictions",
            "Predictions by model version and outcome (fraud, legit, error).",
            ["model_version", "outcome"],
            registry=self.registry,
        )
        self.model_loads = Counter(
            "tabular_model_loads",
            "Model loads (start-up and hot swaps) by outcome (ok, failed).",
            ["outcome"],
            registry=self.registry,
        )
        self.model = Info("tabular_model", "The model now serving.", registry=self.registry)
        self.registry.register(_DriftCollector(psi_by_feature, window_count))

    def observe_request(self, endpoint: str, status: int, duration_s: float) -> None:
        self.request_duration.labels(endpoint, str(status)).observe(duration_s)

    def exposition(self) -> bytes:
        """The text exposition format, as /metrics serves it."""
        return generate_latest(self.registry)


class _DriftCollector(Collector):
    """Computes PSI at scrape time: per request there is only a ring-buffer write."""

    def __init__(
        self, psi_by_feature: Callable[[], Mapping[str, float]], window_count: Callable[[], int]
    ) -> None:
        self._psi_by_feature = psi_by_feature
        self._window_count = window_count

    def collect(self) -> Iterator[Metric]:
        psi = GaugeMetricFamily(
            "tabular_input_psi",
            "Population stability index of recent inputs against the training distribution.",
            labels=["feature"],
        )
        for feature, value in self._psi_by_feature().items():
            psi.add_metric([feature], value)
        yield psi
        yield GaugeMetricFamily(
            "tabular_input_window_size",
            "Inputs in the rolling window the PSI is computed over.",
            value=self._window_count(),
        )
