"""The Hodges–Lehmann shift between two samples and its distribution-free confidence interval,
exactly, without enumerating the n × m pairwise differences.

Definitions (Hollander & Wolfe, *Nonparametric Statistical Methods*, 4.3 and 4.4):

- the pairwise differences are ``D = {c_j − b_i}`` (candidate minus baseline), N = n·m of them,
  each computed in float64 as a brute-force enumeration would;
- the estimate is their median (for an even N the mean of the N/2-th and N/2+1-th smallest);
- the confidence interval at level 1 − α is ``[D_(k), D_(N+1−k)]`` with
  ``k = floor(N/2 − z_(1−α/2) · σ_U)``, σ_U the Mann–Whitney U statistic's standard deviation
  with the tie correction (the normal approximation; at least 1).

The k-th smallest difference is selected as Monahan (1984, ACM TOMS algorithm 616) does for the
one-sample estimator: the differences form a matrix sorted along both axes once both samples
are sorted, so the elements at most a value v can be counted row by row with a binary search
(``O(n log m)``); each row keeps an active column range, and pivots drawn at random from the
active elements (two per step, bracketing the wanted rank in a sample of them) shrink it by
about two orders of magnitude a step. Once few enough elements are left they are enumerated and
partitioned. Every pivot is a member of D and every count is taken on the differences as
float64 computes them, so the result is the enumeration's element, bit for bit; the random
pivots (seeded) decide only how many steps it takes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import norm

from gameday.measure.arrays import FloatArray

__all__ = ["Shift", "hodges_lehmann", "kth_pairwise_difference", "rank_bounds"]

IntArray = npt.NDArray[np.int64]

_ENUMERATE_UP_TO = 1 << 21  # active differences left: enumerate them (about 50 MB at most)
_SAMPLE = 1 << 16  # active differences sampled per step to place the two pivots
_SPREAD = 3.0  # pivots this many binomial standard deviations either side of the wanted rank


@dataclass(frozen=True, slots=True)
class Shift:
    """Hodges–Lehmann estimate of candidate − baseline and its confidence interval."""

    estimate: float
    low: float
    high: float
    confidence: float


def hodges_lehmann(baseline: FloatArray, candidate: FloatArray, confidence: float) -> Shift:
    """The shift of ``candidate`` against ``baseline`` (both non-empty, no NaN)."""
    x, y = np.sort(baseline), np.sort(candidate)
    total = x.size * y.size
    if total % 2:
        estimate = kth_pairwise_difference(x, y, (total + 1) // 2)
    else:
        lower = kth_pairwise_difference(x, y, total // 2)
        estimate = (lower + _next_above(x, y, lower, total // 2)) / 2
    low_rank, high_rank = rank_bounds(x, y, confidence)
    return Shift(estimate=estimate, low=kth_pairwise_difference(x, y, low_rank),
                 high=kth_pairwise_difference(x, y, high_rank), confidence=confidence)


def rank_bounds(x: FloatArray, y: FloatArray, confidence: float) -> tuple[int, int]:
    """Ranks (1-based) of the confidence interval's ends among the sorted differences."""
    total = x.size * y.size
    z = float(norm.ppf(1 - (1 - confidence) / 2))
    k = math.floor(total / 2 - z * _u_sigma(x, y))
    k = min(max(k, 1), (total + 1) // 2)
    return k, total + 1 - k


def _u_sigma(x: FloatArray, y: FloatArray) -> float:
    """Standard deviation of U under the null, ties corrected (x and y sorted)."""
    n, m = x.size, y.size
    both = n + m
    merged = np.sort(np.concatenate((x, y)), kind="stable")  # two sorted runs: a merge
    edges = np.concatenate(([0], np.flatnonzero(np.diff(merged)) + 1, [both]))
    ties = np.diff(edges).astype(np.float64)
    tie_term = float(np.sum(ties**3 - ties)) / (both * (both - 1)) if both > 1 else 0.0
    return math.sqrt(max(n * m / 12 * ((both + 1) - tie_term), 0.0))


def kth_pairwise_difference(x: FloatArray, y: FloatArray, k: int, *, seed: int = 0,
                            enumerate_up_to: int = _ENUMERATE_UP_TO,
                            sample: int = _SAMPLE) -> float:
    """The k-th smallest (1-based) of ``y[j] − x[i]`` over all pairs; ``x`` and ``y`` sorted.

    ``enumerate_up_to`` and ``sample`` only trade steps for memory (tests make them small to
    walk the search on small inputs)."""
    if not 1 <= k <= x.size * y.size:
        raise ValueError(f"rank {k} outside 1..{x.size * y.size}")
    rng = np.random.default_rng(seed)
    left = np.zeros(x.size, dtype=np.int64)  # row i's active columns: [left[i], right[i])
    right = np.full(x.size, y.size, dtype=np.int64)
    while True:
        lengths = right - left
        active = int(lengths.sum())
        rank = k - int(left.sum())  # of the wanted element among the active ones
        if active <= enumerate_up_to:
            return _enumerated(x, y, left, lengths, rank)
        for pivot in _pivots(x, y, left, lengths, rank, rng, sample):
            found = _narrow(x, y, left, right, k, pivot)
            if found is not None:
                return found


def _pivots(x: FloatArray, y: FloatArray, left: IntArray, lengths: IntArray, rank: int,
            rng: np.random.Generator, sample: int) -> list[float]:
    """Two active differences whose ranks bracket ``rank`` with high probability."""
    ends = np.cumsum(lengths)
    active = int(ends[-1])
    draws = rng.integers(0, active, size=min(sample, active))
    rows = np.searchsorted(ends, draws, side="right")
    columns = left[rows] + draws - (ends[rows] - lengths[rows])
    values = np.sort(y[columns] - x[rows])
    at = rank / active * values.size
    spread = _SPREAD * math.sqrt(values.size) / 2 + 1
    last = values.size - 1
    low, high = max(math.floor(at - spread), 0), min(math.ceil(at + spread), last)
    return [float(values[low]), float(values[high])]


def _narrow(x: FloatArray, y: FloatArray, left: IntArray, right: IntArray, k: int,
            pivot: float) -> float | None:
    """Shrink the active ranges around the k-th element by an active ``pivot``; the pivot
    itself when it is the k-th element."""
    at_most = _count_at_most(x, y, pivot)
    if k > int(at_most.sum()):
        np.maximum(left, at_most, out=left)  # the k-th is above the pivot
        return None
    if int(at_most.sum()) < int(right.sum()):
        np.minimum(right, at_most, out=right)
        return None
    below = _count_at_most(x, y, float(np.nextafter(pivot, -np.inf)))
    if k > int(below.sum()):
        return pivot  # ties: the pivot's value spans rank k
    np.minimum(right, below, out=right)
    return None


def _count_at_most(x: FloatArray, y: FloatArray, value: float) -> IntArray:
    """Per row i, how many j have ``y[j] − x[i] <= value`` as float64 computes the difference.

    The binary search on ``x[i] + value`` can be a rounding off; it is corrected by whole runs
    of equal y, which keeps the count exact for any input."""
    at = np.searchsorted(y, x + value, side="right").astype(np.int64)
    while True:
        over = np.flatnonzero((at > 0) & (y[np.maximum(at - 1, 0)] - x > value))
        if over.size == 0:
            break
        at[over] = np.searchsorted(y, y[at[over] - 1], side="left")
    while True:
        inside = np.minimum(at, y.size - 1)
        under = np.flatnonzero((at < y.size) & (y[inside] - x <= value))
        if under.size == 0:
            break
        at[under] = np.searchsorted(y, y[at[under]], side="right")
    return at


def _enumerated(x: FloatArray, y: FloatArray, left: IntArray, lengths: IntArray,
                rank: int) -> float:
    rows = np.repeat(np.arange(x.size), lengths)
    starts = np.cumsum(lengths) - lengths
    columns = np.repeat(left - starts, lengths) + np.arange(rows.size)
    values = y[columns] - x[rows]
    return float(np.partition(values, rank - 1)[rank - 1])


def _next_above(x: FloatArray, y: FloatArray, value: float, k: int) -> float:
    """The (k+1)-th smallest difference, given that ``value`` is the k-th."""
    at = _count_at_most(x, y, value)
    if int(at.sum()) > k:
        return value
    rows = np.flatnonzero(at < y.size)
    return float(np.min(y[at[rows]] - x[rows]))
