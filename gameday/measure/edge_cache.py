"""The edge cache (the CDN role): how much of the traffic it answered, over time and during
each fault window, and how fast its answers were against the ones it had to fetch.

- through the cache: answers whose X-Cache-Status is neither NONE (a route not cached) nor
  "" (no edge answered); served by the cache: HIT, STALE or UPDATING (X-Served-By-Region
  ``edge``); stale: STALE or UPDATING, a stored answer past its freshness (the region failing,
  or the entry being fetched again);
- hit ratio = served / through the cache; per bucket of ``bucket_s`` aligned to the load
  start (requests by scheduled time), per fault window, and over the run after the warm-up;
  None where nothing went through the cache;
- per fault window (``FaultWindow.contains``: scheduled in it, or still in flight when it
  began): its requests, how many the cache served, how many of those were stale, and how many
  failed (not ok, whoever answered);
- latency from the scheduled send, ok answers after the warm-up: hits (served) against misses
  (through the cache, not served: MISS, EXPIRED, BYPASS, REVALIDATED), p50 and p99 nearest
  rank.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gameday.measure.arrays import BoolArray, percentile
from gameday.measure.waf_log import CACHE_SERVED, EdgeRequests, values_in
from gameday.measure.windows import FaultWindow
from gameday.records import CACHE_REGION

__all__ = ["CACHE_STALE", "CacheBucket", "CacheFigures", "CacheWindow", "cache_figures",
           "went_through_cache"]

CACHE_STALE = ("STALE", "UPDATING")
_NOT_CACHED = ("", "NONE")


@dataclass(frozen=True, slots=True)
class CacheBucket:
    start_s: float  # epoch s; requests scheduled in [start_s, start_s + bucket_s)
    through_cache: int
    served: int
    hit_ratio: float | None


@dataclass(frozen=True, slots=True)
class CacheWindow:
    """What the cache did while one fault held."""

    scenario: str
    target_region: str
    start_s: float
    end_s: float | None  # None: never rolled back (open to the end of the data)
    requests: int
    through_cache: int
    served: int
    stale: int
    failed: int
    hit_ratio: float | None


@dataclass(frozen=True, slots=True)
class CacheFigures:
    """The run's cache figures (module docstring); the run-wide ones after the warm-up."""

    through_cache: int
    served: int
    stale: int
    hit_ratio: float | None
    statuses: dict[str, int]  # X-Cache-Status -> answers, of those through the cache
    hits_timed: int
    hit_p50_s: float | None
    hit_p99_s: float | None
    misses_timed: int
    miss_p50_s: float | None
    miss_p99_s: float | None
    bucket_s: float
    buckets: tuple[CacheBucket, ...]
    windows: tuple[CacheWindow, ...]


def went_through_cache(requests: EdgeRequests) -> BoolArray:
    """Which answers went through the edge cache (an answer it served always did)."""
    mask: BoolArray = ~values_in(requests.edge_cache, _NOT_CACHED) | _served(requests)
    return mask


def _served(requests: EdgeRequests) -> BoolArray:
    mask: BoolArray = values_in(requests.edge_cache, CACHE_SERVED) \
        | (requests.requests.region == CACHE_REGION)
    return mask


def cache_figures(requests: EdgeRequests, windows: Sequence[FaultWindow], *, bucket_s: float,
                  origin_s: float | None, warmup_end_s: float | None) -> CacheFigures | None:
    """The cache figures of a run; None when no answer went through the cache."""
    through = went_through_cache(requests)
    if not np.any(through):
        return None
    arrays = requests.requests
    served = _served(requests)
    stale = values_in(requests.edge_cache, CACHE_STALE)
    after = np.ones(len(arrays), dtype=np.bool_) if warmup_end_s is None \
        else arrays.scheduled_s >= warmup_end_s
    measured = through & after
    statuses, counts = np.unique(requests.edge_cache[measured], return_counts=True)
    hits = arrays.latency_s[served & after & arrays.ok]
    misses = arrays.latency_s[through & ~served & after & arrays.ok]
    return CacheFigures(
        through_cache=int(np.count_nonzero(measured)),
        served=int(np.count_nonzero(served & after)),
        stale=int(np.count_nonzero(stale & after)),
        hit_ratio=_ratio(served & after, measured),
        statuses={str(status) or "(none)": int(count)
                  for status, count in zip(statuses, counts, strict=True)},
        hits_timed=int(hits.size), hit_p50_s=percentile(hits, 50),
        hit_p99_s=percentile(hits, 99), misses_timed=int(misses.size),
        miss_p50_s=percentile(misses, 50), miss_p99_s=percentile(misses, 99),
        bucket_s=bucket_s, buckets=_buckets(requests, through, served, bucket_s, origin_s),
        windows=tuple(_window(w, requests, through, served, stale) for w in windows))


def _ratio(part: BoolArray, whole: BoolArray) -> float | None:
    count = int(np.count_nonzero(whole))
    return int(np.count_nonzero(part & whole)) / count if count else None


def _buckets(requests: EdgeRequests, through: BoolArray, served: BoolArray, bucket_s: float,
             origin_s: float | None) -> tuple[CacheBucket, ...]:
    scheduled_s = requests.requests.scheduled_s
    first_s = float(scheduled_s.min())
    if origin_s is not None and origin_s <= first_s:
        first_s = origin_s
    index = np.floor((scheduled_s - first_s) / bucket_s).astype(np.int64)
    size = int(index.max()) + 1
    through_n = np.bincount(index[through], minlength=size)
    served_n = np.bincount(index[through & served], minlength=size)
    return tuple(CacheBucket(first_s + number * bucket_s, int(t), int(s),
                             int(s) / int(t) if t else None)
                 for number, (t, s) in enumerate(zip(through_n, served_n, strict=True)))


def _window(window: FaultWindow, requests: EdgeRequests, through: BoolArray,
            served: BoolArray, stale: BoolArray) -> CacheWindow:
    arrays = requests.requests
    inside = window.contains(arrays.scheduled_s, arrays.end_s)
    return CacheWindow(
        scenario=window.scenario, target_region=window.target_region,
        start_s=window.start_s, end_s=window.end_s,
        requests=int(np.count_nonzero(inside)),
        through_cache=int(np.count_nonzero(inside & through)),
        served=int(np.count_nonzero(inside & served)),
        stale=int(np.count_nonzero(inside & served & stale)),
        failed=int(np.count_nonzero(inside & ~arrays.ok)),
        hit_ratio=_ratio(inside & served, inside & through))
