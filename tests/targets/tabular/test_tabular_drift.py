"""The drift gauge: training profiles and the PSI of a rolling input window."""

from __future__ import annotations

import numpy as np

from targets.tabular.data import make_transactions
from targets.tabular.drift import (
    MIN_PSI_INPUTS,
    DriftWindow,
    TrainingProfile,
    population_stability_index,
)

_PROFILE = TrainingProfile.from_matrix(make_transactions(60_000, 7).features)


def _window_of(rows: np.ndarray, size: int = 1_000) -> DriftWindow:
    window = DriftWindow(size)
    for row in rows:
        window.record(row)
    return window


def test_inputs_from_the_training_distribution_score_a_low_psi() -> None:
    psi = _window_of(make_transactions(1_000, 99).features).psi(_PROFILE)
    assert set(psi) == {f.name for f in _PROFILE.features}
    assert max(psi.values()) < 0.1


def test_a_shifted_feature_scores_a_high_psi_and_the_others_stay_low() -> None:
    rows = make_transactions(1_000, 99).features
    rows[:, 0] *= 20  # amounts twenty times larger
    psi = _window_of(rows).psi(_PROFILE)
    assert psi["amount"] > 0.25
    assert max(value for name, value in psi.items() if name != "amount") < 0.1


def test_no_psi_is_reported_until_the_window_holds_enough_inputs() -> None:
    rows = make_transactions(MIN_PSI_INPUTS, 1).features
    assert _window_of(rows[:-1]).psi(_PROFILE) == {}
    assert _window_of(rows).psi(_PROFILE) != {}
    assert _window_of(rows[:50], size=50).psi(_PROFILE) != {}  # a full small window counts


def test_the_window_forgets_inputs_older_than_its_size() -> None:
    shifted = make_transactions(500, 2).features
    shifted[:, 0] *= 20
    window = _window_of(np.vstack([shifted, make_transactions(500, 3).features]), size=500)
    assert window.count == 500
    assert window.psi(_PROFILE)["amount"] < 0.1


def test_discrete_features_get_one_bin_per_value() -> None:
    bins = {f.name: f for f in _PROFILE.features}
    assert len(bins["hour"].proportions) == 24
    assert len(bins["foreign"].proportions) == 2


def test_a_profile_survives_a_round_trip_through_its_dict() -> None:
    assert TrainingProfile.from_dict(_PROFILE.to_dict()) == _PROFILE


def test_psi_is_zero_for_identical_shares_and_finite_for_empty_bins() -> None:
    shares = np.array([0.2, 0.3, 0.5])
    assert population_stability_index(shares, shares) == 0.0
    assert np.isfinite(population_stability_index(shares, np.array([0.0, 0.0, 1.0])))
