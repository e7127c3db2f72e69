"""The Hodges–Lehmann selection against the brute-force enumeration of every pairwise
difference: exact (bit for bit) on continuous, tied and rounded samples, with the search forced
through many narrowing steps on small inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from gameday.measure.hodges_lehmann import hodges_lehmann, kth_pairwise_difference, rank_bounds


def _samples(rng: np.random.Generator, kind: str, n: int, m: int) -> tuple[np.ndarray, ...]:
    if kind == "continuous":
        x, y = rng.normal(size=n), rng.normal(0.3, size=m)
    elif kind == "ties":  # few distinct values, as per-bucket availability has
        x, y = rng.integers(0, 5, size=n) / 10, rng.integers(0, 5, size=m) / 10
    else:  # latencies as the CSV holds them: six decimals of a second
        x = np.round(rng.lognormal(-4, 0.4, size=n), 6)
        y = np.round(rng.lognormal(-4, 0.4, size=m) + 0.02, 6)
    return np.sort(x), np.sort(y)


def _brute(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.sort(np.subtract.outer(y, x).ravel())


@pytest.mark.parametrize("kind", ["continuous", "ties", "rounded"])
def test_kth_difference_is_the_enumerations_element_at_every_rank_tried(kind: str) -> None:
    rng = np.random.default_rng(11)
    for trial in range(40):
        n, m = (int(v) for v in rng.integers(1, 45, size=2))
        x, y = _samples(rng, kind, n, m)
        every = _brute(x, y)
        ranks = {1, every.size, (every.size + 1) // 2, int(rng.integers(1, every.size + 1))}
        for k in ranks:
            # tiny enumeration limit and pivot sample: the narrowing steps do the work
            found = kth_pairwise_difference(x, y, k, seed=trial, enumerate_up_to=3, sample=8)
            assert found == every[k - 1], (kind, trial, k)


def test_kth_difference_with_the_default_limits_matches_on_a_larger_input() -> None:
    rng = np.random.default_rng(5)
    x, y = _samples(rng, "rounded", 1500, 1800)  # 2.7 M differences: more than one step
    every = _brute(x, y)
    for k in (1, 123_456, every.size // 2, every.size - 7, every.size):
        assert kth_pairwise_difference(x, y, k) == every[k - 1]


def test_every_difference_equal_gives_that_value_at_any_rank() -> None:
    x, y = np.full(30, 0.5), np.full(20, 0.75)
    assert kth_pairwise_difference(x, y, 1, enumerate_up_to=1, sample=4) == 0.25
    assert kth_pairwise_difference(x, y, 600, enumerate_up_to=1, sample=4) == 0.25


def test_a_rank_outside_the_differences_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        kth_pairwise_difference(np.array([1.0]), np.array([2.0]), 2)


@pytest.mark.parametrize(("n", "m"), [(7, 9), (8, 8), (60, 41)])
def test_estimate_is_the_median_of_the_enumerated_differences(n: int, m: int) -> None:
    rng = np.random.default_rng(n * m)
    x, y = _samples(rng, "continuous", n, m)
    shift = hodges_lehmann(rng.permutation(x), rng.permutation(y), 0.98)  # unsorted input
    assert shift.estimate == pytest.approx(float(np.median(np.subtract.outer(y, x))),
                                           rel=0, abs=1e-15)


def test_interval_ends_are_the_enumerations_order_statistics_at_the_bauer_ranks() -> None:
    rng = np.random.default_rng(3)
    x, y = _samples(rng, "continuous", 70, 90)
    every = _brute(x, y)
    shift = hodges_lehmann(x, y, 0.98)
    sigma = math.sqrt(70 * 90 * (70 + 90 + 1) / 12)  # no ties in continuous samples
    k = math.floor(70 * 90 / 2 - norm.ppf(0.99) * sigma)
    assert rank_bounds(x, y, 0.98) == (k, 70 * 90 + 1 - k)
    assert (shift.low, shift.high) == (every[k - 1], every[70 * 90 - k])
    assert shift.low < shift.estimate < shift.high


def test_ties_widen_nothing_they_shrink_sigma_as_the_tie_correction_says() -> None:
    x = np.sort(np.array([1.0] * 30 + [2.0] * 30))
    y = np.sort(np.array([1.0] * 20 + [2.0] * 40))
    low_rank, _ = rank_bounds(x, y, 0.98)
    ties = np.array([50.0, 70.0])  # the value 1 fifty times, 2 seventy times, in 120
    sigma = math.sqrt(60 * 60 / 12 * (121 - float(np.sum(ties**3 - ties)) / (120 * 119)))
    assert low_rank == math.floor(60 * 60 / 2 - norm.ppf(0.99) * sigma)


def test_the_shift_of_a_planted_offset_is_recovered_within_its_interval() -> None:
    rng = np.random.default_rng(8)
    base = rng.lognormal(np.log(0.02), 0.3, size=4000)
    shift = hodges_lehmann(base, rng.lognormal(np.log(0.02), 0.3, size=4000) + 0.02, 0.98)
    assert shift.low <= 0.02 <= shift.high
    assert shift.estimate == pytest.approx(0.02, abs=0.001)
