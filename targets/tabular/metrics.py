"""The service's Prometheus metrics: process cost, latency, predictions, model, input drift."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from targets.tabular.drift import DriftReport

__all__ = ["LATENCY_BUCKETS_S", "ServiceMetrics"]

# A single-row predict is ~0.2-2 ms, so the default buckets (starting at 5 ms) would put
# every healthy request in the first one.
LATENCY_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class ServiceMetrics:
    """One registry per service instance, so several apps can live in one process (tests)."""

    def __init__(self, drift_report: Callable[[], DriftReport]) -> None:
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
        self.feature_lookups = Counter(
            "tabular_feature_lookups",
            "Online feature lookups by outcome (fresh; stale, missing, down: scored with the "
            "default features).",
            ["outcome"],
            registry=self.registry,
        )
        self.feature_lookup_seconds = Histogram(
            "tabular_feature_lookup_seconds",
            "Time of one online feature lookup, whatever its outcome.",
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.feature_age = Gauge(
            "tabular_feature_age_seconds",
            "Age of the features the last answered lookup returned (now - event timestamp).",
            registry=self.registry,
        )
        self.registry.register(_DriftCollector(drift_report))

    def observe_request(self, endpoint: str, status: int, duration_s: float) -> None:
        self.request_duration.labels(endpoint, str(status)).observe(duration_s)

    def exposition(self) -> bytes:
        """The text exposition format, as /metrics serves it."""
        return generate_latest(self.registry)


class _DriftCollector(Collector):
    """Computes PSI and the drift tests at scrape time: per request there is only a
    ring-buffer write. A feature's test series appear once the window is judged (enough
    inputs, and a profile with a reference sample)."""

    def __init__(self, drift_report: Callable[[], DriftReport]) -> None:
        self._drift_report = drift_report

    def collect(self) -> Iterator[Metric]:
        report = self._drift_report()
        psi = GaugeMetricFamily(
            "tabular_input_psi",
            "Population stability index of recent inputs against the training distribution "
            "(warn at 0.1, alert at 0.25).",
            labels=["feature"],
        )
        statistic = GaugeMetricFamily(
            "tabular_input_drift_statistic",
            "The drift test's statistic per feature: KS D, chi-squared, normed Wasserstein or "
            "Jensen-Shannon distance (the method label).",
            labels=["feature", "method"],
        )
        p_value = GaugeMetricFamily(
            "tabular_input_drift_p_value", "The KS or chi-squared test's p-value per feature.",
            labels=["feature", "method"],
        )
        drifted = GaugeMetricFamily(
            "tabular_input_drifted",
            "1 when the feature's drift test says drifted (p < 0.05, or distance >= 0.1).",
            labels=["feature", "method"],
        )
        for feature in report.features:
            psi.add_metric([feature.name], feature.psi)
            if feature.method is None or feature.statistic is None:
                continue
            labels = [feature.name, feature.method]
            statistic.add_metric(labels, feature.statistic)
            drifted.add_metric(labels, 1.0 if feature.drifted else 0.0)
            if feature.p_value is not None:
                p_value.add_metric(labels, feature.p_value)
        yield from (psi, statistic, p_value, drifted)
        if report.dataset_drift is not None:
            yield GaugeMetricFamily(
                "tabular_input_dataset_drift",
                "1 when half of the features or more drifted.",
                value=1.0 if report.dataset_drift else 0.0,
            )
        yield GaugeMetricFamily(
            "tabular_input_window_size",
            "Inputs in the rolling window the PSI and drift tests are computed over.",
            value=report.window_rows,
        )
