"""The drift tests of one feature, checked against scipy and values worked out by hand, and the
window-size and feature-kind rule that picks them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from targets.tabular.stattests import (
    chi_squared,
    dataset_drift,
    feature_test,
    jensen_shannon,
    kolmogorov_smirnov,
    normed_wasserstein,
)


def test_ks_gives_the_statistic_and_p_value_scipy_gives_and_drifts_below_0_05() -> None:
    rng = np.random.default_rng(1)
    reference, same, moved = rng.normal(size=5000), rng.normal(size=500), rng.normal(0.3, 1, 500)
    for current in (same, moved):
        expected = stats.ks_2samp(reference, current)
        result = kolmogorov_smirnov(reference, current)
        assert result.statistic == pytest.approx(expected.statistic)
        assert result.p_value == pytest.approx(expected.pvalue)
        assert result.drifted == bool(expected.pvalue < 0.05)
    assert not kolmogorov_smirnov(reference, same).drifted
    assert kolmogorov_smirnov(reference, moved).drifted


def test_ks_statistic_is_the_largest_gap_between_the_two_ecdfs() -> None:
    # ECDFs of [1, 2, 3, 4] and [3, 4, 5, 6] differ most at 2: 0.5 against 0
    assert kolmogorov_smirnov(np.array([1.0, 2, 3, 4]),
                              np.array([3.0, 4, 5, 6])).statistic == pytest.approx(0.5)


def test_chi_squared_is_the_two_sample_test_of_homogeneity_by_hand() -> None:
    # reference 30 zeros / 70 ones, window 60 / 40: the pooled shares are 90 / 110 of 200, so
    # every expected count is 45 or 55 and chi2 = 2 * (15^2 / 45 + 15^2 / 55) = 18.18...
    reference = np.array([0.0] * 30 + [1.0] * 70)
    current = np.array([0.0] * 60 + [1.0] * 40)
    result = chi_squared(reference, current)
    assert result.method == "chi2"
    assert result.statistic == pytest.approx(2 * (15**2 / 45 + 15**2 / 55))
    assert result.p_value == pytest.approx(stats.chi2.sf(result.statistic, df=1))
    assert result.drifted


def test_chi_squared_pools_sparse_categories_until_every_expected_count_is_five() -> None:
    # value 2 is rare (1 + 1 of 1,200): on its own its window cell would expect 0.33
    reference = np.array([0.0] * 500 + [1.0] * 499 + [2.0])
    current = np.array([0.0] * 100 + [1.0] * 99 + [2.0])
    pooled = np.array([[500, 500], [100, 100]])
    expected = stats.chi2_contingency(pooled, correction=False)
    result = chi_squared(reference, current)
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue)
    assert not result.drifted


def test_chi_squared_sees_a_value_the_reference_never_held() -> None:
    reference = np.array([0.0] * 500 + [1.0] * 500)
    current = np.array([0.0] * 100 + [7.0] * 100)  # half the window at a new value
    assert chi_squared(reference, current).drifted


def test_normed_wasserstein_is_the_earth_movers_distance_over_the_reference_std() -> None:
    # [0, 2] has std 1; moving it to [1, 3] moves each half of the mass by 1
    result = normed_wasserstein(np.array([0.0, 2.0]), np.array([1.0, 3.0]))
    assert result.statistic == pytest.approx(1.0) and result.drifted
    assert result.p_value is None and result.threshold == 0.1
    rng = np.random.default_rng(2)
    reference, current = rng.lognormal(size=5000), rng.lognormal(size=2000)
    assert normed_wasserstein(reference, current).statistic == pytest.approx(
        stats.wasserstein_distance(reference, current) / np.std(reference))


def test_jensen_shannon_distance_by_hand_with_natural_logs() -> None:
    # shares P = (1/2, 1/2), Q = (1, 0), M = (3/4, 1/4):
    # JSD = (KL(P||M) + KL(Q||M)) / 2 = (ln(2/3)/2 + ln 2/2 + ln(4/3)) / 2
    jsd = (0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25) + math.log(1 / 0.75)) / 2
    result = jensen_shannon(np.array([0.0, 1.0] * 600), np.array([0.0] * 1200))
    assert result.statistic == pytest.approx(math.sqrt(jsd))  # 0.4645
    assert result.drifted and result.method == "jensenshannon"
    same = jensen_shannon(np.array([0.0, 1.0] * 600), np.array([1.0, 0.0] * 600))
    assert same.statistic == pytest.approx(0.0, abs=1e-7) and not same.drifted


@pytest.mark.parametrize(("rows", "kind", "method"), [
    (200, "numerical", "ks"), (1000, "numerical", "ks"), (1001, "numerical", "wasserstein"),
    (200, "categorical", "chi2"), (1000, "categorical", "chi2"),
    (1001, "categorical", "jensenshannon"),
])
def test_the_window_size_and_the_kind_pick_the_method(rows: int, kind: str,
                                                      method: str) -> None:
    rng = np.random.default_rng(3)
    result = feature_test(rng.integers(0, 5, 4000).astype(float),
                          rng.integers(0, 5, rows).astype(float), kind)  # type: ignore[arg-type]
    assert result.method == method


def test_the_dataset_drifts_when_half_of_its_features_or_more_do() -> None:
    assert not dataset_drift(3, 7)
    assert dataset_drift(4, 7)
    assert dataset_drift(1, 2)
    assert not dataset_drift(0, 0)
