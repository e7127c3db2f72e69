"""Answer-quality metrics against hand-computed values: SQuAD normalisation, EM/F1,
recall@k and MRR on a tiny labelled set, Wilson intervals against published values, the
seeded bootstrap, and per-bucket means over a run."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gameday.measure.quality import (
    bucket_means,
    exact_match,
    f1_score,
    mean_ci,
    normalize_answer,
    proportion_ci,
    recall_at_k,
    reciprocal_rank,
)

# Four questions, worked by hand. relevance: is each retrieved passage (best first) gold?
#   q1: gold at rank 1; "Amber Falcon" vs "Amber Falcon": EM 1, F1 1
#   q2: gold at rank 3; "the Amber Falcon team" -> "amber falcon team" vs "amber falcon":
#       EM 0, common 2, P = 2/3, R = 1, F1 = 2 * (2/3) / (5/3) = 0.8
#   q3: gold at ranks 2 and 4 (the first counts); "port 8443" vs "8443": EM 0, common 1,
#       P = 1/2, R = 1, F1 = 2/3
#   q4: gold only at rank 5; "Cobalt Otter" vs "Amber Falcon": EM 0, F1 0
# recall@1 = (1 + 0 + 0 + 0) / 4 = 0.25; recall@3 = (1 + 1 + 1 + 0) / 4 = 0.75
# MRR = (1 + 1/3 + 1/2 + 1/5) / 4 = (30 + 10 + 15 + 6) / 120 = 61/120
# EM = 1/4; F1 = (1 + 0.8 + 2/3 + 0) / 4 = 37/60
HAND_SET = [
    ([True, False, False], "Amber Falcon", "Amber Falcon"),
    ([False, False, True], "the Amber Falcon team", "Amber Falcon"),
    ([False, True, False, True], "port 8443", "8443"),
    ([False, False, False, False, True], "Cobalt Otter", "Amber Falcon"),
]


def test_the_hand_checked_set_gives_the_hand_computed_figures() -> None:
    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    assert mean([recall_at_k(rel, 1) for rel, _, _ in HAND_SET]) == pytest.approx(0.25)
    assert mean([recall_at_k(rel, 3) for rel, _, _ in HAND_SET]) == pytest.approx(0.75)
    assert mean([reciprocal_rank(rel) for rel, _, _ in HAND_SET]) == pytest.approx(61 / 120)
    assert mean([float(exact_match(p, g)) for _, p, g in HAND_SET]) == pytest.approx(0.25)
    assert mean([f1_score(p, g) for _, p, g in HAND_SET]) == pytest.approx(37 / 60)


@pytest.mark.parametrize(("text", "normalised"), [
    ("The Amber Falcon", "amber falcon"),
    ("  RB-48213. ", "rb48213"),  # punctuation goes, hyphens included
    ("an apple a day", "apple day"),
    ("Theatre at the Anchor", "theatre at anchor"),  # articles only as whole words
    ("99.95%", "9995"),
    ("Hello,\tworld\n", "hello world"),
    ("A", ""),
])
def test_normalisation_follows_squad(text: str, normalised: str) -> None:
    assert normalize_answer(text) == normalised


@pytest.mark.parametrize(("prediction", "gold", "em", "f1"), [
    ("the Amber Falcon.", "Amber Falcon", True, 1.0),
    ("Amber Falcon team", "Amber Falcon", False, 0.8),
    ("falcon falcon", "falcon", False, 2 / 3),  # common tokens counted with multiplicity
    ("Cobalt Otter", "Amber Falcon", False, 0.0),
    ("", "", True, 1.0),  # no token on either side: agreement
    ("the", "a", True, 1.0),  # articles only: both normalise to nothing
    ("", "8443", False, 0.0),
])
def test_exact_match_and_f1_on_single_answers(prediction: str, gold: str, em: bool,
                                             f1: float) -> None:
    assert exact_match(prediction, gold) is em
    assert f1_score(prediction, gold) == pytest.approx(f1)


@pytest.mark.parametrize(("relevance", "k", "recall"), [
    ([False, True], 1, 0.0),
    ([False, True], 2, 1.0),
    ([False, True], 10, 1.0),  # k beyond the list: the whole list
    ([], 3, 0.0),
])
def test_recall_at_k_asks_for_a_gold_passage_in_the_first_k(relevance: list[bool], k: int,
                                                           recall: float) -> None:
    assert recall_at_k(relevance, k) == recall


def test_recall_at_k_refuses_k_below_one() -> None:
    with pytest.raises(ValueError, match="k must be >= 1"):
        recall_at_k([True], 0)


def test_reciprocal_rank_is_zero_when_no_gold_passage_was_retrieved() -> None:
    assert reciprocal_rank([False, False]) == 0.0
    assert reciprocal_rank([]) == 0.0


@pytest.mark.parametrize(("successes", "n", "confidence", "low", "high"), [
    # by hand, z = 1.96: centre (0.8 + z^2/20) / (1 + z^2/10) = 0.7167,
    # half z * sqrt(0.016 + z^2/400) / (1 + z^2/10) = 0.2266
    (8, 10, 0.95, 0.4902, 0.9433),
    (50, 100, 0.95, 0.4038, 0.5962),
    (0, 10, 0.95, 0.0, 0.2775),
    (10, 10, 0.95, 0.7225, 1.0),
    (1, 1, 0.95, 0.2065, 1.0),
    (8, 10, 0.90, 0.5408, 0.9314),  # z = 1.645: centre 0.7361, half 0.1953
])
def test_wilson_interval_matches_known_values(successes: int, n: int, confidence: float,
                                              low: float, high: float) -> None:
    estimate = proportion_ci(successes, n, confidence)
    assert estimate.mean == pytest.approx(successes / n)
    assert (estimate.low, estimate.high) == pytest.approx((low, high), abs=5e-4)
    assert (estimate.n, estimate.confidence) == (n, confidence)


def test_wilson_interval_of_nothing_is_nan_and_bad_input_is_refused() -> None:
    empty = proportion_ci(0, 0)
    assert math.isnan(empty.mean) and math.isnan(empty.low) and math.isnan(empty.high)
    with pytest.raises(ValueError, match="successes <= n"):
        proportion_ci(11, 10)
    with pytest.raises(ValueError, match="confidence"):
        proportion_ci(1, 10, confidence=1.0)


def test_bootstrap_interval_contains_the_mean_and_repeats_with_its_seed() -> None:
    values = np.random.default_rng(3).uniform(0.0, 1.0, size=200)
    first, again = mean_ci(values, seed=11), mean_ci(values, seed=11)
    assert first == again
    assert first.low < first.mean < first.high
    assert first.mean == pytest.approx(float(values.mean()))
    assert mean_ci(values, seed=12) != first  # the seed is what makes it repeat


def test_bootstrap_interval_agrees_with_the_normal_theory_one_on_a_large_sample() -> None:
    # ground truth: for the mean of n = 5000 draws, mean +- 1.96 s / sqrt(n)
    values = np.random.default_rng(5).normal(10.0, 2.0, size=5000)
    half = 1.96 * values.std(ddof=1) / math.sqrt(values.size)
    estimate = mean_ci(values, resamples=4000)
    assert estimate.low == pytest.approx(values.mean() - half, abs=0.1 * half)
    assert estimate.high == pytest.approx(values.mean() + half, abs=0.1 * half)


@pytest.mark.parametrize(("values", "mean", "n"), [
    ([0.5, 0.5, 0.5], 0.5, 3),  # no spread: the interval is the point
    ([1.0, math.nan, 0.0, math.nan], 0.5, 2),  # NaN = unlabelled, left out
])
def test_bootstrap_mean_counts_only_labelled_values(values: list[float], mean: float,
                                                    n: int) -> None:
    estimate = mean_ci(values)
    assert (estimate.mean, estimate.n) == (pytest.approx(mean), n)
    assert estimate.low <= mean <= estimate.high


def test_bootstrap_of_nothing_is_nan() -> None:
    for values in ([], [math.nan]):
        estimate = mean_ci(values)
        assert estimate.n == 0
        assert math.isnan(estimate.mean) and math.isnan(estimate.low)
        assert math.isnan(estimate.high)


def test_bucket_means_leave_empty_buckets_nan_and_ignore_unlabelled_values() -> None:
    times_s = np.array([100.2, 100.7, 101.5, 103.0, 103.9, 104.0, 99.9])
    values = np.array([1.0, 0.0, np.nan, 1.0, 1.0, 1.0, 1.0])
    # buckets [100, 101), [101, 102), [102, 103), [103, 104); 104.0 and 99.9 are outside;
    # 101.5 is unlabelled, so [101, 102) has no value, and [102, 103) has no request
    starts, means, counts = bucket_means(times_s, values, start_s=100.0, end_s=104.0,
                                         bucket_s=1.0)
    assert starts.tolist() == [100.0, 101.0, 102.0, 103.0]
    assert counts.tolist() == [2, 0, 0, 2]
    assert means[0] == pytest.approx(0.5) and means[3] == pytest.approx(1.0)
    assert np.isnan(means[1]) and np.isnan(means[2])


@pytest.mark.parametrize(("end_s", "buckets"), [
    (1.0, 4),  # a whole number of buckets, despite 0.25's float steps
    (1.1, 5),  # a partial last bucket still counts
    (0.0, 0),  # no span, no bucket
])
def test_bucket_means_cover_the_span_with_whole_and_partial_buckets(end_s: float,
                                                                   buckets: int) -> None:
    times_s = np.array([0.0, 0.3, 0.99, 1.05])
    starts, means, counts = bucket_means(times_s, np.ones(4), start_s=0.0, end_s=end_s,
                                         bucket_s=0.25)
    assert starts.size == means.size == counts.size == buckets
    assert counts.sum() == np.count_nonzero(times_s < end_s)


def test_bucket_means_refuse_mismatched_columns_and_empty_buckets() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        bucket_means(np.zeros(3), np.zeros(2), start_s=0.0, end_s=1.0, bucket_s=0.5)
    with pytest.raises(ValueError, match="bucket_s > 0"):
        bucket_means(np.zeros(1), np.zeros(1), start_s=0.0, end_s=1.0, bucket_s=0.0)
