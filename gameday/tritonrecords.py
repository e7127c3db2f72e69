"""The Triton part of the run folder (see ``gameday.records`` for the rest)::

    triton.jsonl   one TritonSample per line: every Triton server's Prometheus metrics
                   (``/metrics`` on its metrics port) scraped about every second, one sample
                   per model and version it serves, appended as scraped

Counters are Triton's own, cumulative since the server started (they restart from zero when
a killed region comes back); durations are microseconds as Triton counts them. Times are
UNIX epoch seconds from ``time.time()`` on this host.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from gameday.jsonl import append_jsonl, read_jsonl

__all__ = [
    "TRITON_FILE",
    "TritonSample",
    "append_triton_samples",
    "parse_triton_metrics",
    "read_triton_samples",
]

TRITON_FILE = "triton.jsonl"

# Triton's per-model counter families -> the TritonSample field holding each
_COUNTERS = {
    "nv_inference_count": "inference_count",
    "nv_inference_exec_count": "exec_count",
    "nv_inference_request_success": "request_success",
    "nv_inference_request_duration_us": "request_us",
    "nv_inference_queue_duration_us": "queue_us",
    "nv_inference_compute_input_duration_us": "compute_input_us",
    "nv_inference_compute_infer_duration_us": "compute_infer_us",
    "nv_inference_compute_output_duration_us": "compute_output_us",
}
_FAILURES = "nv_inference_request_failure"  # one series per reason
_PENDING = "nv_inference_pending_request_count"
# (summary family, quantile) -> field; the summaries exist with summary_latencies=true only
_QUANTILES = {
    ("nv_inference_queue_summary_us", "0.5"): "queue_p50_us",
    ("nv_inference_queue_summary_us", "0.99"): "queue_p99_us",
    ("nv_inference_request_summary_us", "0.99"): "request_p99_us",
    ("nv_inference_compute_infer_summary_us", "0.99"): "compute_infer_p99_us",
}
_GPU_UTILIZATION = "nv_gpu_utilization"  # one series per GPU (gpu_uuid), 0.0 - 1.0
_GPU_MEMORY = {"nv_gpu_memory_used_bytes": "gpu_memory_used_bytes",
               "nv_gpu_memory_total_bytes": "gpu_memory_total_bytes"}
_INTEGERS = ("inference_count", "exec_count", "request_success", "request_failure",
             "pending_requests")


@dataclass(frozen=True, slots=True)
class TritonSample:
    """One model version on one Triton server as its metrics stood at ``t_s``.

    Counters are cumulative since the server started. The ``*_p*_us`` quantiles are Triton's
    own summaries over its recent requests (None when the server does not export them, or had
    no request to summarise); the GPU figures are the server's GPUs (utilisation their mean,
    memory their sum; None on a CPU-only host) and repeat on every model of the scrape.
    """

    t_s: float  # when the scrape answered
    member: str  # e.g. triton-server-a1
    region: str
    model: str
    version: str
    inference_count: int = 0  # inferences (batch rows) performed
    exec_count: int = 0  # model executions (one per batch the scheduler formed)
    request_success: int = 0
    request_failure: int = 0  # over every reason
    failure_by_reason: dict[str, int] = field(default_factory=dict)
    request_us: float = 0.0  # end-to-end request handling, cumulative
    queue_us: float = 0.0  # time requests waited in the scheduler's queue
    compute_input_us: float = 0.0
    compute_infer_us: float = 0.0
    compute_output_us: float = 0.0
    pending_requests: int = 0  # gauge: requests waiting for an execution now
    queue_p50_us: float | None = None
    queue_p99_us: float | None = None
    request_p99_us: float | None = None
    compute_infer_p99_us: float | None = None
    gpu_utilization: float | None = None
    gpu_memory_used_bytes: float | None = None
    gpu_memory_total_bytes: float | None = None


def parse_triton_metrics(text: str, *, t_s: float, member: str,
                         region: str) -> list[TritonSample]:
    """One sample per model and version in a Triton ``/metrics`` text, ordered by both.

    A text that is not Prometheus exposition format raises ValueError."""
    values: dict[tuple[str, str], dict[str, Any]] = {}
    gpu: dict[str, list[float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if "model" in labels:
                key = (labels["model"], labels.get("version", ""))
                _take(values.setdefault(key, {}), family.name, sample.name, labels,
                      sample.value)
            elif family.name == _GPU_UTILIZATION or family.name in _GPU_MEMORY:
                gpu.setdefault(family.name, []).append(float(sample.value))
    gpu_fields = _gpu_fields(gpu)
    return [TritonSample(**{"t_s": t_s, "member": member, "region": region, "model": model,
                            "version": version, **_finished(fields_), **gpu_fields})
            for (model, version), fields_ in sorted(values.items())]


def _take(fields_: dict[str, Any], family: str, name: str, labels: Mapping[str, str],
          value: float) -> None:
    """Put one sample of a model's series where its TritonSample field wants it."""
    if family in _COUNTERS:
        fields_[_COUNTERS[family]] = float(value)
    elif family == _FAILURES:
        by_reason = fields_.setdefault("failure_by_reason", {})
        by_reason[labels.get("reason", "")] = int(value)
    elif family == _PENDING:
        fields_["pending_requests"] = float(value)
    elif name == family and (family, labels.get("quantile", "")) in _QUANTILES:
        fields_[_QUANTILES[(family, labels["quantile"])]] = _finite(value)


def _finished(fields_: dict[str, Any]) -> dict[str, Any]:
    by_reason = fields_.get("failure_by_reason", {})
    done = {**fields_, "request_failure": sum(by_reason.values())}
    for name in _INTEGERS:
        if name in done:
            done[name] = int(done[name])
    return done


def _gpu_fields(gpu: Mapping[str, list[float]]) -> dict[str, float | None]:
    utilization = gpu.get(_GPU_UTILIZATION)
    fields_: dict[str, float | None] = {
        "gpu_utilization": sum(utilization) / len(utilization) if utilization else None}
    for family, name in _GPU_MEMORY.items():
        fields_[name] = sum(gpu[family]) if gpu.get(family) else None
    return fields_


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def append_triton_samples(run_dir: Path, samples: Iterable[TritonSample]) -> None:
    """Append samples to the run's ``triton.jsonl``, one JSON object a line, in one write."""
    append_jsonl(run_dir / TRITON_FILE, (asdict(s) for s in samples))


def read_triton_samples(run_dir: Path) -> list[TritonSample]:
    """The run's Triton samples in time order; absent file: none.

    The torn last line of a crashed writer (no newline at its end) is skipped; any other
    line that is not a sample raises ValueError naming the file and the line."""
    samples = read_jsonl(run_dir / TRITON_FILE, _sample, "a Triton sample")
    return sorted(samples, key=lambda s: s.t_s)


def _sample(raw: dict[str, Any]) -> TritonSample:
    """A sample from its JSON object, every field typed (a wrong one raises)."""
    optional = ("queue_p50_us", "queue_p99_us", "request_p99_us", "compute_infer_p99_us",
                "gpu_utilization", "gpu_memory_used_bytes", "gpu_memory_total_bytes")
    floats = ("request_us", "queue_us", "compute_input_us", "compute_infer_us",
              "compute_output_us")
    typed: dict[str, Any] = {
        "t_s": float(raw["t_s"]), "member": str(raw["member"]), "region": str(raw["region"]),
        "model": str(raw["model"]), "version": str(raw["version"]),
        "failure_by_reason": {str(k): int(v)
                              for k, v in raw.get("failure_by_reason", {}).items()}}
    typed.update({name: int(raw.get(name, 0)) for name in _INTEGERS})
    typed.update({name: float(raw.get(name, 0.0)) for name in floats})
    typed.update({name: None if raw.get(name) is None else float(raw[name])
                  for name in optional})
    return TritonSample(**typed)
