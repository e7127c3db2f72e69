"""The drift test of one feature, chosen as Evidently chooses it by default: the window's size
and the feature's kind decide the method, the method decides what "drifted" means.

=============  ==============================  =================================
window rows    numerical feature               categorical feature
=============  ==============================  =================================
<= 1000        two-sample Kolmogorov-Smirnov:  chi-squared: drifted when p < 0.05
               drifted when p < 0.05
> 1000         Wasserstein distance / the      Jensen-Shannon distance (natural
               reference's std: >= 0.1         log): drifted when >= 0.1
=============  ==============================  =================================

Small windows get a significance test (a distance on a few hundred rows is mostly sampling
noise); large ones a distance, since on thousands of rows a test calls every trifle
significant. The dataset drifts when at least half of its features do.

Two departures from Evidently. It decides by the reference's size; here the window's decides,
since the reference is a fixed 5,000 training rows and would always get the distances. And
the chi-squared test here is the two-sample test of homogeneity
(a 2 x k contingency table of reference and window counts), not a goodness-of-fit against the
reference's shares taken as exact. Both samples are draws; goodness-of-fit ignores the
reference's own noise and alarms more often than its p-value says. Sparse categories are
pooled with their neighbours until every expected count is at least 5 (Cochran's rule), since
the chi-squared approximation fails below that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats
from scipy.spatial import distance

__all__ = [
    "DATASET_DRIFT_SHARE",
    "DISTANCE_THRESHOLD",
    "P_VALUE_THRESHOLD",
    "SMALL_WINDOW_ROWS",
    "FeatureKind",
    "Method",
    "StatResult",
    "chi_squared",
    "dataset_drift",
    "feature_test",
    "jensen_shannon",
    "kolmogorov_smirnov",
    "normed_wasserstein",
]

FeatureKind = Literal["numerical", "categorical"]
Method = Literal["ks", "chi2", "wasserstein", "jensenshannon"]

#: Windows of at most this many rows get a significance test, larger ones a distance.
SMALL_WINDOW_ROWS = 1000
P_VALUE_THRESHOLD = 0.05  # drifted when p < this
DISTANCE_THRESHOLD = 0.1  # drifted when the distance >= this
DATASET_DRIFT_SHARE = 0.5  # the dataset drifts when this share of its features or more does
_MIN_EXPECTED = 5.0
_MIN_STD = 0.001  # Evidently's floor: a constant reference still gives a finite norm


@dataclass(frozen=True, slots=True)
class StatResult:
    """One feature's test: the statistic, its p-value (None for a distance), the threshold
    the decision compared against, and the decision."""

    method: Method
    statistic: float
    p_value: float | None
    threshold: float
    drifted: bool


def feature_test(reference: np.ndarray, current: np.ndarray, kind: FeatureKind) -> StatResult:
    """The default test for a feature of ``kind`` over a window of ``len(current)`` rows."""
    if len(current) <= SMALL_WINDOW_ROWS:
        return kolmogorov_smirnov(reference, current) if kind == "numerical" \
            else chi_squared(reference, current)
    return normed_wasserstein(reference, current) if kind == "numerical" \
        else jensen_shannon(reference, current)


def kolmogorov_smirnov(reference: np.ndarray, current: np.ndarray) -> StatResult:
    result = stats.ks_2samp(reference, current)
    p_value = float(result.pvalue)
    return StatResult("ks", float(result.statistic), p_value, P_VALUE_THRESHOLD,
                      p_value < P_VALUE_THRESHOLD)


def chi_squared(reference: np.ndarray, current: np.ndarray) -> StatResult:
    """Chi-squared test of homogeneity over the values either sample holds, sparse ones
    pooled; a window holding only what the reference holds in one category is no drift."""
    values = np.union1d(reference, current)
    table = np.vstack([_counts(reference, values), _counts(current, values)])
    pooled = _pooled(table)
    if pooled.shape[1] < 2:
        return StatResult("chi2", 0.0, 1.0, P_VALUE_THRESHOLD, False)
    result = stats.chi2_contingency(pooled, correction=False)
    p_value = float(result.pvalue)
    return StatResult("chi2", float(result.statistic), p_value, P_VALUE_THRESHOLD,
                      p_value < P_VALUE_THRESHOLD)


def normed_wasserstein(reference: np.ndarray, current: np.ndarray) -> StatResult:
    """Earth mover's distance in units of the reference's standard deviation."""
    norm = max(float(np.std(reference)), _MIN_STD)
    value = float(stats.wasserstein_distance(reference, current)) / norm
    return StatResult("wasserstein", value, None, DISTANCE_THRESHOLD, value >= DISTANCE_THRESHOLD)


def jensen_shannon(reference: np.ndarray, current: np.ndarray) -> StatResult:
    """Jensen-Shannon distance (natural log: 0 to sqrt(ln 2)) between the value shares."""
    values = np.union1d(reference, current)
    value = float(distance.jensenshannon(_counts(reference, values) / len(reference),
                                         _counts(current, values) / len(current)))
    return StatResult("jensenshannon", value, None, DISTANCE_THRESHOLD,
                      value >= DISTANCE_THRESHOLD)


def dataset_drift(drifted: int, features: int) -> bool:
    return features > 0 and drifted / features >= DATASET_DRIFT_SHARE


def _counts(sample: np.ndarray, values: np.ndarray) -> np.ndarray:
    """How often each of the sorted ``values`` occurs in ``sample`` (all of them are there)."""
    return np.bincount(np.searchsorted(values, sample), minlength=len(values)).astype(float)


def _pooled(table: np.ndarray) -> np.ndarray:
    """Adjacent columns (categories in value order) merged left to right until each group's
    expected counts are all >= 5; a short remainder joins the last group."""
    rows = table.sum(axis=1)
    # a column's smallest expected count: the smaller sample's share of the column's total
    least = table.sum(axis=0) * rows.min() / rows.sum()
    groups: list[np.ndarray] = []
    start, held = 0, 0.0
    for end, expected in enumerate(least, start=1):
        held += expected
        if held >= _MIN_EXPECTED:
            groups.append(table[:, start:end].sum(axis=1))
            start, held = end, 0.0
    if start < table.shape[1]:
        rest = table[:, start:].sum(axis=1)
        if groups:
            groups[-1] = groups[-1] + rest
        else:
            groups.append(rest)
    return np.column_stack(groups)
