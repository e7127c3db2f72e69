"""E-divisive on series of per-run figures: a planted step is found where it was planted, a flat
series has none, the seed makes it repeatable, and the library's two paths (C extension and
numpy) agree on this numpy (its metadata pins numpy < 2)."""

from __future__ import annotations

import numpy as np
import pytest
from signal_processing_algorithms.energy_statistics import cext_calculator
from signal_processing_algorithms.energy_statistics import energy_statistics as library

from gameday.measure.changepoints import change_points


def runs(seed: int, step_at: int | None = None, step: float = 0.0, count: int = 30
         ) -> list[float]:
    """p99 latencies of ``count`` nightly runs around 250 ms, +``step`` from ``step_at``."""
    values = np.random.default_rng(seed).normal(0.250, 0.005, size=count)
    if step_at is not None:
        values[step_at:] += step
    return [float(v) for v in values]


@pytest.mark.parametrize("seed", range(5))
def test_a_planted_step_is_found_at_the_run_it_was_planted(seed: int) -> None:
    found = change_points(runs(seed, step_at=17, step=0.030))
    assert [point.index for point in found] == [17]
    assert found[0].mean_before == pytest.approx(0.250, abs=0.005)
    assert found[0].mean_after == pytest.approx(0.280, abs=0.005)


def test_a_flat_series_has_no_change_point_for_almost_every_seed() -> None:
    # at p 0.01 a noise-only series may give a false split now and then; not often
    flagged = sum(bool(change_points(runs(seed))) for seed in range(20))
    assert flagged <= 2


def test_a_constant_or_short_series_has_none() -> None:
    assert change_points([0.25] * 30) == ()
    assert change_points([0.25, 0.5, 0.25]) == ()


def test_the_same_seed_gives_the_same_change_points() -> None:
    series = runs(3, step_at=10, step=0.010)
    assert change_points(series, seed=4) == change_points(series, seed=4)


def test_the_library_c_extension_and_numpy_paths_agree_on_this_numpy() -> None:
    if not cext_calculator.C_EXTENSION_LOADED:
        pytest.skip("the library's C extension is not built here (its numpy path is used)")
    series = np.array(runs(1, step_at=12, step=0.02)).reshape(-1, 1)
    distances_c = library._get_distance_matrix(series, use_c_if_possible=True)
    distances_py = library._get_distance_matrix(series, use_c_if_possible=False)
    np.testing.assert_allclose(distances_c, distances_py)
    np.testing.assert_allclose(library._calculate_t_stats(distances_py, use_c_if_possible=True),
                               library._calculate_t_stats(distances_py,
                                                          use_c_if_possible=False))
