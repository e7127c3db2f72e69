"""What the Triton servers say they did (``triton.jsonl``): throughput, the batching their
dynamic batcher achieved, and where server time went (queue or compute), per member and in
total, per scope and over time.

Definitions (each over the scrape intervals of its scope or bucket, warm-up out of scopes):

- interval: from one scrape of a member to its next; its deltas are the changes of Triton's
  cumulative counters, summed over the member's model versions. A counter that went down
  means the server restarted (a killed region came back): every counter of that version
  then counts from zero, so the delta is the new value (as Prometheus ``rate()`` takes it).
  A version first seen after the member's first scrape (loaded mid-run) counts from zero; at
  the first scrape it is only the baseline. An interval belongs to a bucket by its end, and
  is during faults when it overlaps a fault window (``gameday.measure.windows.in_scope``).
- inferences/s, requests/s (successful), failures/s: each member's deltas over the seconds
  its intervals cover, summed over members (a member that did not answer adds nothing; the
  interval across its outage spreads what it served after its restart over the outage).
- batch size: Δ inferences (batch rows) / Δ executions: how many rows each model execution
  got. Queue (compute) time per request: Δ queue (compute input + infer + output) duration
  / Δ successful requests; server time per request: Δ request duration / Δ successful
  requests; queue share: Δ queue / Δ request duration. None where the denominator is zero:
  a bucket without requests has no batch size, not 0/0.
- max pending: the highest ``nv_inference_pending_request_count`` of a member (summed over
  its versions) in the set. Queue p99: Triton's own summary over its recent requests, so per
  bucket the latest value of each member (the worst member's in total), per scope the highest.
- GPU: utilisation is the mean of the samples that have one; memory used the highest sample
  (members on one host see the same GPUs, so a sum would count them twice). None on a CPU.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gameday.measure.arrays import BoolArray, FloatArray, StrArray
from gameday.measure.windows import FaultWindow, Scope, in_scope
from gameday.tritonrecords import TritonSample

__all__ = ["SCOPES", "TritonBucket", "TritonFigures", "TritonStats", "triton_figures"]

SCOPES: tuple[Scope, ...] = ("all", "outside_faults", "during_faults")
_US = 1e-6


@dataclass(frozen=True, slots=True)
class TritonStats:
    """The servers' figures over a set of scrape intervals; None where nothing measured it."""

    scrapes: int  # member scrapes in the set
    inferences: int  # batch rows executed
    executions: int
    requests: int  # successful requests
    failures: int
    failures_by_reason: dict[str, int]
    inferences_per_s: float | None
    requests_per_s: float | None
    failures_per_s: float | None
    batch_size: float | None
    queue_per_request_s: float | None
    compute_per_request_s: float | None
    server_per_request_s: float | None
    queue_share: float | None
    max_pending: int | None
    queue_p99_max_s: float | None
    gpu_utilization: float | None
    gpu_memory_used_max_bytes: float | None
    gpu_memory_total_bytes: float | None


@dataclass(frozen=True, slots=True)
class TritonBucket:
    """One time bucket (``t_s`` from the load start); None: nothing measured it."""

    t_s: float
    requests: int
    inferences_per_s: float | None
    requests_per_s: float | None
    failures_per_s: float | None
    batch_size: float | None
    queue_per_request_s: float | None
    compute_per_request_s: float | None
    queue_share: float | None
    max_pending: int | None
    queue_p99_s: float | None  # the latest of each member's, the worst member's
    gpu_utilization: float | None
    gpu_memory_used_bytes: float | None


@dataclass(frozen=True, slots=True)
class TritonFigures:
    stack: str
    scopes: dict[str, TritonStats]  # all | outside_faults | during_faults, every member
    members: dict[str, dict[str, TritonStats]]  # member -> scope -> figures
    buckets: tuple[TritonBucket, ...]  # every member
    bucket_s: float
    member_buckets: dict[str, tuple[TritonBucket, ...]]  # member -> its own buckets


def triton_figures(samples: Sequence[TritonSample], windows: Sequence[FaultWindow], *,
                   warmup_end_s: float | None, origin_s: float, bucket_s: float,
                   stack: str = "triton") -> TritonFigures:
    rows = _rows(samples)
    measured = rows.start_s >= (-math.inf if warmup_end_s is None else warmup_end_s)
    masks = {scope: measured & in_scope(rows.start_s, windows, scope, rows.end_s)
             for scope in SCOPES}
    names = sorted(set(rows.member.tolist()))
    return TritonFigures(
        stack=stack,
        scopes={scope: _stats(rows, mask) for scope, mask in masks.items()},
        members={name: {scope: _stats(rows, mask & (rows.member == name))
                        for scope, mask in masks.items()} for name in names},
        buckets=_buckets(rows, np.ones(rows.end_s.size, dtype=np.bool_), origin_s, bucket_s),
        bucket_s=bucket_s,
        member_buckets={name: _buckets(rows, rows.member == name, origin_s, bucket_s)
                        for name in names},
    )


def _stats(rows: _Rows, mask: BoolArray) -> TritonStats:
    """The figures of the intervals ``mask`` selects (module docstring: definitions)."""
    def total(values: FloatArray) -> float:
        return float(values[mask].sum())

    requests, request_us = total(rows.requests), total(rows.request_us)
    return TritonStats(
        scrapes=int(np.count_nonzero(mask)), inferences=round(total(rows.inferences)),
        executions=round(total(rows.executions)), requests=round(requests),
        failures=round(total(rows.failures)),
        failures_by_reason={reason: round(total(values))
                            for reason, values in rows.failures_by_reason.items()},
        inferences_per_s=_per_s(rows, mask, rows.inferences),
        requests_per_s=_per_s(rows, mask, rows.requests),
        failures_per_s=_per_s(rows, mask, rows.failures),
        batch_size=_ratio(total(rows.inferences), total(rows.executions)),
        queue_per_request_s=_scaled(_ratio(total(rows.queue_us), requests)),
        compute_per_request_s=_scaled(_ratio(total(rows.compute_us), requests)),
        server_per_request_s=_scaled(_ratio(request_us, requests)),
        queue_share=_ratio(total(rows.queue_us), request_us),
        max_pending=None if not mask.any() else int(rows.pending[mask].max()),
        queue_p99_max_s=_scaled(_highest(rows.queue_p99_us[mask])),
        gpu_utilization=_mean(rows.gpu_utilization[mask]),
        gpu_memory_used_max_bytes=_highest(rows.gpu_memory_used_bytes[mask]),
        gpu_memory_total_bytes=_highest(rows.gpu_memory_total_bytes[mask]),
    )


def _buckets(rows: _Rows, mask: BoolArray, origin_s: float,
             bucket_s: float) -> tuple[TritonBucket, ...]:
    """Every bucket from the first scrape's to the last's, counted from ``origin_s`` (the
    warm-up included: the charts grey it); a scrape before ``origin_s`` counts in the first
    bucket."""
    if not mask.any():
        return ()
    index = np.maximum(np.floor((rows.end_s - origin_s) / bucket_s), 0).astype(np.int64)
    buckets = []
    for each in range(int(index[mask].min()), int(index[mask].max()) + 1):
        part = mask & (index == each)
        stats = _stats(rows, part)
        buckets.append(TritonBucket(
            t_s=each * bucket_s, requests=stats.requests,
            inferences_per_s=stats.inferences_per_s, requests_per_s=stats.requests_per_s,
            failures_per_s=stats.failures_per_s, batch_size=stats.batch_size,
            queue_per_request_s=stats.queue_per_request_s,
            compute_per_request_s=stats.compute_per_request_s, queue_share=stats.queue_share,
            max_pending=stats.max_pending, queue_p99_s=_scaled(_latest_worst(rows, part)),
            gpu_utilization=stats.gpu_utilization,
            gpu_memory_used_bytes=stats.gpu_memory_used_max_bytes))
    return tuple(buckets)


def _per_s(rows: _Rows, mask: BoolArray, values: FloatArray) -> float | None:
    """Each member's sum over the seconds its intervals cover, summed over members."""
    total, measured = 0.0, False
    for member in np.unique(rows.member[mask]):
        mine = mask & (rows.member == member)
        covered_s = float((rows.end_s[mine] - rows.start_s[mine]).sum())
        if covered_s > 0:
            total += float(values[mine].sum()) / covered_s
            measured = True
    return total if measured else None


def _latest_worst(rows: _Rows, mask: BoolArray) -> float | None:
    """The worst member's latest queue p99 in the set."""
    latest: list[float] = []
    for member in np.unique(rows.member[mask]):
        mine = np.flatnonzero(mask & (rows.member == member) & ~np.isnan(rows.queue_p99_us))
        if mine.size:
            latest.append(float(rows.queue_p99_us[mine[np.argmax(rows.end_s[mine])]]))
    return max(latest) if latest else None


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


def _scaled(value_us: float | None) -> float | None:
    return None if value_us is None else value_us * _US


def _highest(values: FloatArray) -> float | None:
    present = values[~np.isnan(values)]
    return float(present.max()) if present.size else None


def _mean(values: FloatArray) -> float | None:
    present = values[~np.isnan(values)]
    return float(present.mean()) if present.size else None


@dataclass(frozen=True, slots=True)
class _Rows:
    """One row per scrape of a member: the interval since its previous scrape (``start_s`` =
    ``end_s`` for its first), counter deltas summed over its versions, gauges; NaN: absent."""

    member: StrArray
    start_s: FloatArray
    end_s: FloatArray
    inferences: FloatArray
    executions: FloatArray
    requests: FloatArray
    failures: FloatArray
    request_us: FloatArray
    queue_us: FloatArray
    compute_us: FloatArray
    failures_by_reason: dict[str, FloatArray]
    pending: FloatArray
    queue_p99_us: FloatArray
    gpu_utilization: FloatArray
    gpu_memory_used_bytes: FloatArray
    gpu_memory_total_bytes: FloatArray


_Part = tuple[FloatArray, dict[str, float], TritonSample]  # deltas, by reason, the sample


def _rows(samples: Sequence[TritonSample]) -> _Rows:
    first_s: dict[str, float] = {}
    series: dict[tuple[str, str, str], list[TritonSample]] = defaultdict(list)
    for sample in sorted(samples, key=lambda s: s.t_s):
        first_s.setdefault(sample.member, sample.t_s)
        series[(sample.member, sample.model, sample.version)].append(sample)
    scrapes: dict[tuple[str, float], list[_Part]] = defaultdict(list)
    for chain in series.values():
        previous: TritonSample | None = None
        for sample in chain:
            late = previous is None and sample.t_s > first_s[sample.member]
            scrapes[(sample.member, sample.t_s)].append((*_delta(previous, sample, late),
                                                         sample))
            previous = sample
    return _columns(sorted(scrapes.items()))


def _counters(sample: TritonSample) -> FloatArray:
    """The cumulative counters, in the order of ``_columns``' delta columns."""
    return np.array([sample.inference_count, sample.exec_count, sample.request_success,
                     sample.request_failure, sample.request_us, sample.queue_us,
                     sample.compute_input_us + sample.compute_infer_us
                     + sample.compute_output_us], dtype=np.float64)


def _delta(previous: TritonSample | None, sample: TritonSample,
           counts_from_zero: bool) -> tuple[FloatArray, dict[str, float]]:
    now = _counters(sample)
    reasons = {reason: float(count) for reason, count in sample.failure_by_reason.items()}
    if previous is None:
        if counts_from_zero:
            return now, reasons
        return np.zeros_like(now), dict.fromkeys(reasons, 0.0)
    before, reasons_before = _counters(previous), previous.failure_by_reason
    if (now < before).any() or any(count < reasons_before.get(reason, 0)
                                   for reason, count in reasons.items()):
        return now, reasons  # the server restarted: its counters count from zero
    return now - before, {reason: count - reasons_before.get(reason, 0)
                          for reason, count in reasons.items()}


def _columns(scrapes: list[tuple[tuple[str, float], list[_Part]]]) -> _Rows:
    previous_s: dict[str, float] = {}
    starts, deltas, gauges = [], [], []
    for (member, t_s), parts in scrapes:  # by member, then time
        starts.append(previous_s.get(member, t_s))
        previous_s[member] = t_s
        deltas.append(np.sum([part[0] for part in parts], axis=0))
        p99 = [s.queue_p99_us for _, _, s in parts if s.queue_p99_us is not None]
        gpu = parts[0][2]
        gauges.append([sum(s.pending_requests for _, _, s in parts),
                       max(p99) if p99 else math.nan, *(math.nan if v is None else v for v in (
                           gpu.gpu_utilization, gpu.gpu_memory_used_bytes,
                           gpu.gpu_memory_total_bytes))])
    reasons = sorted({reason for _, parts in scrapes for part in parts for reason in part[1]})
    by_reason = {reason: np.array([sum(part[1].get(reason, 0.0) for part in parts)
                                   for _, parts in scrapes], dtype=np.float64)
                 for reason in reasons}
    delta = np.array(deltas, dtype=np.float64).reshape(-1, 7)
    gauge = np.array(gauges, dtype=np.float64).reshape(-1, 5)
    return _Rows(
        member=np.array([member for (member, _), _ in scrapes], dtype=np.str_),
        start_s=np.array(starts, dtype=np.float64),
        end_s=np.array([t_s for (_, t_s), _ in scrapes], dtype=np.float64),
        inferences=delta[:, 0], executions=delta[:, 1], requests=delta[:, 2],
        failures=delta[:, 3], request_us=delta[:, 4], queue_us=delta[:, 5],
        compute_us=delta[:, 6], failures_by_reason=by_reason, pending=gauge[:, 0],
        queue_p99_us=gauge[:, 1], gpu_utilization=gauge[:, 2],
        gpu_memory_used_bytes=gauge[:, 3], gpu_memory_total_bytes=gauge[:, 4])
