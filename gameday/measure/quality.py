"""Answer quality of a RAG stack from recorded answers and retrievals: per-question metrics
and their confidence intervals, and their course over a run.

Definitions (one question; a run's figure is the mean over its labelled questions):

- ``normalize_answer``: SQuAD's: lower case, punctuation dropped, the articles a/an/the
  dropped, whitespace collapsed.
- exact match: the normalised prediction equals the normalised gold answer.
- F1: SQuAD's token F1 on the normalised texts: with ``c`` tokens in common (counted with
  multiplicity), precision ``c / len(prediction)``, recall ``c / len(gold)``, F1 their harmonic
  mean; 0 with nothing in common; when either side has no token, 1 if both have none else 0.
- recall@k: 1 if at least one gold passage is among the first ``k`` retrieved, else 0 (so a
  run's recall@k is the share of questions with a gold passage in the top k).
- reciprocal rank: ``1 / rank`` of the first gold passage (rank 1 = the first retrieved),
  0 when none was retrieved; MRR is its mean.

A share (exact match, recall@k) gets a Wilson score interval, which stays inside [0, 1] and
is sound for small n or shares near 0 or 1; a mean of graded values (F1, reciprocal rank) a
seeded percentile bootstrap, so a report shows the same interval every time it is rebuilt.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

__all__ = [
    "Estimate",
    "bucket_means",
    "exact_match",
    "f1_score",
    "mean_ci",
    "normalize_answer",
    "proportion_ci",
    "recall_at_k",
    "reciprocal_rank",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)
_BOOTSTRAP_BLOCK = 4_000_000  # resampled values held at once: bounds memory for large n


@dataclass(frozen=True, slots=True)
class Estimate:
    """A figure with its confidence interval; all NaN when there was nothing to measure."""

    mean: float
    low: float
    high: float
    n: int
    confidence: float


def normalize_answer(text: str) -> str:
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def exact_match(prediction: str, gold: str) -> bool:
    return normalize_answer(prediction) == normalize_answer(gold)


def f1_score(prediction: str, gold: str) -> float:
    predicted, wanted = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not predicted or not wanted:
        return float(predicted == wanted)
    common = sum((Counter(predicted) & Counter(wanted)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(wanted)
    return 2 * precision * recall / (precision + recall)


def recall_at_k(relevance: Sequence[bool], k: int) -> float:
    """``relevance``: whether each retrieved passage, best first, is a gold passage."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return 1.0 if any(relevance[:k]) else 0.0


def reciprocal_rank(relevance: Sequence[bool]) -> float:
    for rank, relevant in enumerate(relevance, start=1):
        if relevant:
            return 1.0 / rank
    return 0.0


def proportion_ci(successes: int, n: int, confidence: float = 0.95) -> Estimate:
    """The share ``successes / n`` with its Wilson score interval."""
    _check_confidence(confidence)
    if not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, confidence)
    z = _z(confidence)
    share = successes / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # at 0 or n successes the bound is exactly the share: say so, not 1e-17 off
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Estimate(share, low, high, n, confidence)


def mean_ci(values: Sequence[float] | np.ndarray, confidence: float = 0.95, *,
            resamples: int = 2000, seed: int = 0) -> Estimate:
    """The mean with a percentile-bootstrap interval (``resamples`` resamples, seeded). NaN
    values are left out (requests without a label), as in ``bucket_means``."""
    _check_confidence(confidence)
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    data = np.asarray(values, dtype=np.float64).ravel()
    data = data[~np.isnan(data)]
    if data.size == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, confidence)
    means = _bootstrap_means(data, resamples, np.random.default_rng(seed))
    alpha = 1.0 - confidence
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return Estimate(float(data.mean()), float(low), float(high), int(data.size), confidence)


def _bootstrap_means(data: FloatArray, resamples: int, rng: np.random.Generator) -> FloatArray:
    per_block = max(1, _BOOTSTRAP_BLOCK // data.size)
    means = np.empty(resamples, dtype=np.float64)
    for start in range(0, resamples, per_block):
        rows = min(per_block, resamples - start)
        picks = rng.integers(0, data.size, size=(rows, data.size))
        means[start:start + rows] = data[picks].mean(axis=1)
    return means


def bucket_means(times_s: np.ndarray, values: np.ndarray, *, start_s: float, end_s: float,
                 bucket_s: float) -> tuple[FloatArray, FloatArray, IntArray]:
    """Mean value per bucket ``[start_s + i * bucket_s, start_s + (i + 1) * bucket_s)``
    covering ``[start_s, end_s)``: (bucket starts, means (NaN where a bucket has no value),
    counts). Values at times outside the span, and NaN values (unlabelled), are left out."""
    if bucket_s <= 0 or end_s < start_s:
        raise ValueError(f"need bucket_s > 0 and end_s >= start_s, got bucket_s={bucket_s}, "
                         f"[{start_s}, {end_s})")
    times = np.asarray(times_s, dtype=np.float64).ravel()
    data = np.asarray(values, dtype=np.float64).ravel()
    if times.shape != data.shape:
        raise ValueError(f"times_s and values differ in length: {times.size} != {data.size}")
    # a span that is a whole number of buckets up to float noise gets no sliver bucket
    buckets = math.ceil(round((end_s - start_s) / bucket_s, 9))
    starts = start_s + bucket_s * np.arange(buckets, dtype=np.float64)
    keep = (times >= start_s) & (times < end_s) & ~np.isnan(data)
    index = np.minimum(np.floor((times[keep] - start_s) / bucket_s).astype(np.int64),
                       buckets - 1)
    counts = np.bincount(index, minlength=buckets).astype(np.int64)
    sums = np.bincount(index, weights=data[keep], minlength=buckets)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return starts, means.astype(np.float64), counts


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)
