"""Service level indicators: availability and latency per time bucket, per region, per scope.

Latency counts from the *scheduled* send time and covers every request, failed ones included
(a timeout is a slow answer, not a missing one). Warm-up requests are left out of aggregates.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from gameday.measure.arrays import BoolArray, RequestArrays, Requests, percentile
from gameday.measure.windows import FaultWindow, Scope, in_scope

__all__ = [
    "Aggregate",
    "BucketSli",
    "RunSlis",
    "aggregate",
    "aggregate_slis",
    "bucket_slis",
    "scope_mask",
    "scope_requests",
]


@dataclass(frozen=True, slots=True)
class Aggregate:
    """Availability and latency percentiles of a set of requests (None where it is empty)."""

    requests: int
    ok: int
    errors: int
    availability: float | None
    p50_s: float | None
    p95_s: float | None
    p99_s: float | None


@dataclass(frozen=True, slots=True)
class BucketSli:
    """SLIs of the requests scheduled in ``[start_s, start_s + bucket_s)``.

    ``served_share`` maps a region to the share of the bucket's requests it answered; the
    rest got no answer carrying a region (refused, timed out). ``errors_by_kind`` and
    ``errors_by_status`` break the failed requests down by error kind ("" when the generator
    gave none) and by HTTP status (0: no HTTP answer).
    """

    start_s: float
    requests: int
    ok: int
    errors: int
    availability: float | None
    p50_s: float | None
    p95_s: float | None
    p99_s: float | None
    served_share: Mapping[str, float]
    errors_by_kind: Mapping[str, int] = field(default_factory=dict)
    errors_by_status: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunSlis:
    """Run-wide aggregates (warm-up excluded): overall and per region for scope ``all``,
    and overall for each fault scope."""

    overall: Aggregate
    by_region: Mapping[str, Aggregate]
    outside_faults: Aggregate
    during_faults: Aggregate


def aggregate(requests: Requests) -> Aggregate:
    arrays = RequestArrays.coerce(requests)
    count = len(arrays)
    ok = int(np.count_nonzero(arrays.ok))
    latency_s = arrays.latency_s
    return Aggregate(
        requests=count,
        ok=ok,
        errors=count - ok,
        availability=ok / count if count else None,
        p50_s=percentile(latency_s, 50),
        p95_s=percentile(latency_s, 95),
        p99_s=percentile(latency_s, 99),
    )


def bucket_slis(requests: Requests, *, bucket_s: float,
                origin_s: float | None = None) -> list[BucketSli]:
    """Per-bucket SLIs, buckets aligned to ``origin_s`` (the load start, so that buckets fall
    on whole seconds of the report's axis), else to the first scheduled time; empty buckets
    kept."""
    arrays = RequestArrays.coerce(requests)
    if len(arrays) == 0:
        return []
    first_s = float(arrays.scheduled_s[0])
    if origin_s is not None and origin_s <= first_s:
        first_s = origin_s
    index = np.floor((arrays.scheduled_s - first_s) / bucket_s).astype(np.int64)
    regions = sorted({str(r) for r in np.unique(arrays.region) if r})
    buckets = []
    bounds = np.searchsorted(index, np.arange(int(index[-1]) + 2))
    for number, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        part = arrays.rows(int(lo), int(hi))
        buckets.append(_bucket(first_s + number * bucket_s, part, regions))
    return buckets


def _bucket(start_s: float, part: RequestArrays, regions: Sequence[str]) -> BucketSli:
    total = aggregate(part)
    count = max(total.requests, 1)
    share = {region: int(np.count_nonzero(part.region == region)) / count for region in regions}
    failed = ~part.ok
    kinds, kind_counts = np.unique(part.error_kind[failed], return_counts=True)
    statuses, status_counts = np.unique(part.status[failed], return_counts=True)
    return BucketSli(start_s=start_s, requests=total.requests, ok=total.ok, errors=total.errors,
                     availability=total.availability, p50_s=total.p50_s, p95_s=total.p95_s,
                     p99_s=total.p99_s, served_share=share,
                     errors_by_kind={str(k): int(n) for k, n in zip(kinds, kind_counts,
                                                                    strict=True)},
                     errors_by_status={int(c): int(n) for c, n in zip(statuses, status_counts,
                                                                      strict=True)})


def scope_requests(requests: Requests, windows: Sequence[FaultWindow], scope: Scope, *,
                   warmup_end_s: float | None) -> RequestArrays:
    """The requests an SLO of that scope is judged on: warm-up out, then by fault windows."""
    arrays = RequestArrays.coerce(requests)
    return arrays.select(scope_mask(arrays, windows, scope, warmup_end_s=warmup_end_s))


def scope_mask(arrays: RequestArrays, windows: Sequence[FaultWindow], scope: Scope, *,
               warmup_end_s: float | None) -> BoolArray:
    """Which of the requests an SLO of that scope is judged on (``scope_requests``)."""
    mask = in_scope(arrays.scheduled_s, windows, scope, arrays.end_s)
    if warmup_end_s is not None:
        mask &= arrays.scheduled_s >= warmup_end_s
    return mask


def aggregate_slis(requests: Requests, windows: Sequence[FaultWindow], *,
                   warmup_end_s: float | None) -> RunSlis:
    arrays = RequestArrays.coerce(requests)
    measured = scope_requests(arrays, windows, "all", warmup_end_s=warmup_end_s)
    regions = sorted({str(r) for r in np.unique(measured.region) if r})
    return RunSlis(
        overall=aggregate(measured),
        by_region={region: aggregate(measured.select(measured.region == region))
                   for region in regions},
        outside_faults=aggregate(
            scope_requests(arrays, windows, "outside_faults", warmup_end_s=warmup_end_s)),
        during_faults=aggregate(
            scope_requests(arrays, windows, "during_faults", warmup_end_s=warmup_end_s)),
    )
