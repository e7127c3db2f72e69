"""The release analysis' judgement (Argo Rollouts' rules) and its ROC AUC."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError
from sklearn.metrics import roc_auc_score

from gameday.measure.analysis import (
    AnalysisSpec,
    Condition,
    MetricProgress,
    MetricSpec,
    Phase,
    judge,
    overall,
    roc_auc,
)


def _metric(**fields: object) -> MetricSpec:
    return MetricSpec.model_validate({"name": "error-rate", "provider": "prometheus",
                                      "query": "error_rate", **fields})


@pytest.mark.parametrize(("text", "value", "holds"), [
    ("result <= 0.01", 0.01, True), ("result <= 0.01", 0.0101, False),
    ("result<0.5", 0.49, True), ("result > 1e-3", 0.002, True), ("result >= -2", -2.0, True),
    ("result == 3", 3.0, True), ("result != 3", 3.0, False), ("  result > .5 ", 0.6, True)])
def test_a_condition_compares_the_result_with_its_number(text: str, value: float,
                                                          holds: bool) -> None:
    assert Condition.parse(text).holds(value) is holds


@pytest.mark.parametrize("text", ["result", "0.1 > result", "result <= x", "result =< 1",
                                  "result < 1 and result > 0", "len(result) > 0"])
def test_anything_but_result_op_number_is_refused_with_what_was_expected(text: str) -> None:
    with pytest.raises(ValidationError, match="expected 'result <op> <number>'"):
        _metric(success_condition=text)


def test_a_metric_without_any_condition_is_refused() -> None:
    with pytest.raises(ValidationError, match="give success_condition, failure_condition"):
        _metric()


def test_a_misspelt_key_is_refused_not_ignored() -> None:
    with pytest.raises(ValidationError, match="failure_limt"):
        _metric(success_condition="result < 1", failure_limt=2)


def test_judging_follows_argo_both_success_only_and_failure_only() -> None:
    both = _metric(success_condition="result <= 0.01", failure_condition="result > 0.05")
    assert [judge(both, v) for v in (0.0, 0.03, 0.06)] == [
        Phase.SUCCESSFUL, Phase.INCONCLUSIVE, Phase.FAILED]
    success_only = _metric(success_condition="result <= 0.01")
    assert [judge(success_only, v) for v in (0.0, 0.03)] == [Phase.SUCCESSFUL, Phase.FAILED]
    failure_only = _metric(failure_condition="result > 0.05")
    assert [judge(failure_only, v) for v in (0.03, 0.06)] == [Phase.SUCCESSFUL, Phase.FAILED]
    assert judge(both, None) == judge(both, math.nan) == Phase.ERROR


def _progress(values: list[float | None], **fields: object) -> MetricProgress:
    progress = MetricProgress(_metric(success_condition="result <= 0.01",
                                      failure_condition="result > 0.05", **fields), count=3)
    for t, value in enumerate(values):
        progress.add(float(t), value)
    return progress


def test_a_metric_succeeds_after_count_good_measurements_and_runs_until_then() -> None:
    assert _progress([0.0, 0.0]).phase == Phase.RUNNING
    assert _progress([0.0, 0.0, 0.0]).phase == Phase.SUCCESSFUL


def test_one_failed_measurement_fails_a_metric_with_failure_limit_0_more_than_the_limit_fails(
        ) -> None:
    assert _progress([0.0, 0.06]).phase == Phase.FAILED
    assert _progress([0.06, 0.0], failure_limit=1).phase == Phase.RUNNING
    assert _progress([0.06, 0.0, 0.07], failure_limit=1).phase == Phase.FAILED


def test_inconclusive_and_consecutive_errors_settle_a_metric_past_their_limits() -> None:
    assert _progress([0.03]).phase == Phase.INCONCLUSIVE
    assert _progress([0.03, 0.0], inconclusive_limit=1).phase == Phase.RUNNING
    # as in Argo: within its limits an inconclusive measurement counts towards count
    assert _progress([0.03, 0.0, 0.0], inconclusive_limit=1).phase == Phase.SUCCESSFUL
    errors = _progress([None, None, None, None], consecutive_error_limit=4)
    assert errors.phase == Phase.RUNNING
    errors.add(5.0, None)
    assert errors.phase == Phase.ERROR
    # an error in between does not count as a measurement taken
    assert _progress([0.0, None, 0.0]).phase == Phase.RUNNING


def test_the_analysis_fails_as_soon_as_one_metric_does_and_succeeds_when_all_do() -> None:
    good, running, failed = _progress([0.0] * 3), _progress([0.0]), _progress([0.9])
    assert overall([good, running]) == Phase.RUNNING
    assert overall([running, failed]) == Phase.FAILED
    assert overall([good, good]) == Phase.SUCCESSFUL


def test_metric_names_must_be_unique() -> None:
    metric = {"name": "m", "provider": "shadow", "query": "roc_auc",
              "success_condition": "result >= 0.8"}
    with pytest.raises(ValidationError, match="unique"):
        AnalysisSpec.model_validate({"metrics": [metric, metric]})


@pytest.mark.parametrize("seed", range(5))
def test_roc_auc_equals_scikit_learns_ties_included(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = (rng.random(300) < 0.1).astype(int)
    scores = np.round(rng.random(300) + labels * 0.3, 1)  # rounded: many ties
    assert roc_auc(scores.tolist(), labels.tolist()) == pytest.approx(
        roc_auc_score(labels, scores), abs=1e-12)


def test_roc_auc_needs_both_classes() -> None:
    assert roc_auc([0.1, 0.2], [0, 0]) is None
    assert roc_auc([0.1, 0.9], [0, 1]) == 1.0
