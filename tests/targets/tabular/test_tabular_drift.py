"""The drift gauge: training profiles and the PSI of a rolling input window."""

from __future__ import annotations

import numpy as np
import pytest

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


# The false-alarm bound. Each feature's test alarms on training-like inputs about 5 % of the
# time (its p-value threshold); the dataset needs 4 of the 7 features at once, about 2e-4 if
# they were independent. Over 200 windows the bound allows 2 (1 %); 0 were seen.
FALSE_ALARM_BOUND = 0.01
SEEDS = range(1000, 1200)


def _shifted(rows: np.ndarray, seed: int) -> np.ndarray:
    """The drift experiment's shift: amounts in cents, hours six off, riskier merchants, nine
    in ten cards foreign (four of the seven features)."""
    moved = rows.copy()
    moved[:, 0] *= 100
    moved[:, 1] = (moved[:, 1] + 6) % 24
    moved[:, 2] = np.clip(moved[:, 2] + 0.3, 0.0, 1.0)
    moved[:, 5] = np.random.default_rng(seed).random(len(rows)) < 0.9
    return moved


@pytest.mark.parametrize("size", [200, 1000, 2000])
def test_windows_drawn_from_the_training_distribution_rarely_call_the_dataset_drifted(
        size: int) -> None:
    reports = [_window_of(make_transactions(size, seed).features, size).report(_PROFILE)
               for seed in SEEDS]
    assert all(r.window_rows == size and r.dataset_drift is not None for r in reports)
    assert sum(bool(r.dataset_drift) for r in reports) / len(SEEDS) <= FALSE_ALARM_BOUND
    # one feature alone: about its test's 5 % (the fixed reference adds its own noise)
    per_feature = [f.drifted for r in reports for f in r.features]
    assert sum(bool(d) for d in per_feature) / len(per_feature) <= 0.08
    expected = {"ks", "chi2"} if size <= 1000 else {"wasserstein", "jensenshannon"}
    assert {f.method for r in reports for f in r.features} == expected


def test_a_window_whose_newest_three_tenths_are_shifted_calls_the_dataset_drifted() -> None:
    called = 0
    for seed in SEEDS:
        rows = make_transactions(1_000, seed).features
        rows[700:] = _shifted(rows[700:], seed)
        called += bool(_window_of(rows).report(_PROFILE).dataset_drift)
    assert called / len(SEEDS) >= 0.99


@pytest.mark.parametrize("size", [200, 2000])
def test_a_wholly_shifted_window_always_calls_the_dataset_drifted(size: int) -> None:
    for seed in SEEDS[:50]:
        report = _window_of(_shifted(make_transactions(size, seed).features, seed),
                            size).report(_PROFILE)
        assert report.dataset_drift is True
        assert {f.name for f in report.features if f.drifted} >= {"amount", "merchant_risk",
                                                                  "foreign"}
        assert {f.name for f in report.features if f.psi_level == "alert"} >= {"amount"}


def test_a_profile_without_a_reference_sample_gives_psi_and_no_drift_test() -> None:
    old = TrainingProfile(_PROFILE.features)  # as profiles were saved before the sample
    report = _window_of(make_transactions(300, 4).features, 300).report(old)
    assert report.dataset_drift is None and report.reference_rows == 0
    assert all(f.method is None and f.drifted is None for f in report.features)
    assert max(f.psi for f in report.features) < 0.1


def test_the_profile_keeps_a_reference_sample_and_says_which_features_are_categorical() -> None:
    assert len(_PROFILE.reference) == 7 and {len(c) for c in _PROFILE.reference} == {5000}
    kinds = {f.name: f.kind for f in _PROFILE.features}
    assert {name for name, kind in kinds.items() if kind == "categorical"} == {
        "hour", "foreign", "tx_last_24h"}
    old = _PROFILE.to_dict()
    del old["reference"]
    assert TrainingProfile.from_dict(old).reference == ()


def test_the_report_says_how_many_inputs_it_covers_and_counts_every_input() -> None:
    window = _window_of(make_transactions(700, 5).features, 500)
    report = window.report(_PROFILE)
    assert (report.window_rows, report.window_size, report.inputs_total) == (500, 500, 700)
    assert window.report(_PROFILE) is report  # nothing new recorded: not computed again
