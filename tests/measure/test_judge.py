"""The run-to-run judge on plain samples: classes, tolerance, direction, Nodata, the score and
its thresholds, critical metrics, and the test statistics against scipy's."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from gameday.errors import ConfigError
from gameday.measure.judge import (
    DEFAULT_RULES,
    JudgeConfig,
    MetricRule,
    MetricSamples,
    judge,
    judge_metric,
)

CONFIG = JudgeConfig()


def latency(rng: np.random.Generator, n: int, shift_s: float = 0.0) -> np.ndarray:
    return rng.lognormal(np.log(0.020), 0.3, size=n) + shift_s


def availability(rng: np.random.Generator, buckets: int, error_rate: float) -> np.ndarray:
    return 1.0 - rng.binomial(100, error_rate, size=buckets) / 100  # 100 requests a bucket


def samples(family: str, base: np.ndarray, cand: np.ndarray, stack: str = "tabular",
            ) -> MetricSamples:
    return MetricSamples(family, stack, "s" if family != "availability" else "ratio",
                         base, cand)


def test_two_samples_of_one_distribution_pass_for_every_seed() -> None:
    for seed in range(20):
        rng = np.random.default_rng(seed)
        result = judge([samples("latency", latency(rng, 3000), latency(rng, 3000)),
                        samples("availability", availability(rng, 120, 0.002),
                                availability(rng, 120, 0.002))], CONFIG)
        assert result.verdict == "pass", (seed, result.reason)
        assert not result.regressed
        assert result.score == 100.0


def test_twenty_ms_more_on_every_latency_is_high_and_fails_the_judgement() -> None:
    rng = np.random.default_rng(1)
    result = judge([samples("latency", latency(rng, 3000), latency(rng, 3000, 0.020)),
                    samples("availability", availability(rng, 120, 0.002),
                            availability(rng, 120, 0.002))], CONFIG)
    moved = result.metrics[0]
    assert moved.classification == "high" and moved.failed
    assert moved.ci_low > moved.tolerance
    assert moved.estimate == pytest.approx(0.020, abs=0.002)
    assert result.score == 50.0
    assert result.verdict == "fail" and result.regressed and result.exit_code == 1


def test_a_significant_move_inside_the_tolerance_passes() -> None:
    rng = np.random.default_rng(2)  # +1 ms on 20 ms: clear to the test, under the tolerance
    metric = judge_metric(samples("latency", latency(rng, 20_000),
                                  latency(rng, 20_000, 0.001)), CONFIG)
    assert metric.p_value < 1e-6
    assert metric.classification == "pass" and metric.reason == "within tolerance"


def test_a_move_in_the_harmless_direction_is_shown_and_passes() -> None:
    rng = np.random.default_rng(3)
    faster = judge_metric(samples("latency", latency(rng, 3000, 0.020), latency(rng, 3000)),
                          CONFIG)
    assert faster.classification == "low" and not faster.failed
    rule = {**DEFAULT_RULES, "latency": MetricRule("either", 0.1)}
    either = judge_metric(samples("latency", latency(rng, 3000, 0.020), latency(rng, 3000)),
                          JudgeConfig(rules=rule))
    assert either.classification == "low" and either.failed


def test_an_availability_drop_is_low_and_fails() -> None:
    rng = np.random.default_rng(4)
    metric = judge_metric(samples("availability", availability(rng, 300, 0.001),
                                  availability(rng, 300, 0.03)), CONFIG)
    assert metric.classification == "low" and metric.failed


def test_too_few_samples_is_nodata_never_pass() -> None:
    rng = np.random.default_rng(5)
    result = judge([samples("latency", latency(rng, 49), latency(rng, 3000))], CONFIG)
    assert result.metrics[0].classification == "nodata"
    assert result.metrics[0].p_value is None and result.metrics[0].estimate is None
    assert result.verdict == "nodata" and result.score is None and result.exit_code == 1


def test_nodata_is_left_out_of_the_score() -> None:
    rng = np.random.default_rng(6)
    result = judge([samples("latency", latency(rng, 3000), latency(rng, 3000)),
                    samples("ttft", latency(rng, 10), latency(rng, 10), stack="rag")], CONFIG)
    assert [m.classification for m in result.metrics] == ["pass", "nodata"]
    assert result.score == 100.0 and result.verdict == "pass"


def test_weights_decide_the_score_and_its_thresholds_the_verdict() -> None:
    rng = np.random.default_rng(7)
    rules = {**DEFAULT_RULES, "latency:a": MetricRule("high", 0.1, weight=1.0),
             "latency:b": MetricRule("high", 0.1, weight=4.0)}
    result = judge([samples("latency", latency(rng, 3000), latency(rng, 3000, 0.02), "a"),
                    samples("latency", latency(rng, 3000), latency(rng, 3000), "b")],
                   JudgeConfig(rules=rules, pass_score=95, marginal_score=75))
    assert result.score == pytest.approx(80.0)
    assert result.verdict == "marginal" and result.regressed and result.exit_code == 1


def test_a_failed_critical_metric_fails_whatever_the_score() -> None:
    rng = np.random.default_rng(8)
    rules = {**DEFAULT_RULES, "latency:a": MetricRule("high", 0.1, weight=1.0, critical=True),
             "latency:b": MetricRule("high", 0.1, weight=99.0)}
    result = judge([samples("latency", latency(rng, 3000), latency(rng, 3000, 0.02), "a"),
                    samples("latency", latency(rng, 3000), latency(rng, 3000), "b")],
                   JudgeConfig(rules=rules))
    assert result.score == pytest.approx(99.0)
    assert result.verdict == "fail" and "critical" in result.reason


def test_u_and_p_are_scipys_for_the_candidate_against_the_baseline() -> None:
    rng = np.random.default_rng(9)
    base, cand = latency(rng, 400), latency(rng, 500, 0.001)
    metric = judge_metric(samples("latency", base, cand), CONFIG)
    expected = mannwhitneyu(cand, base, alternative="two-sided")
    assert metric.u == float(expected.statistic)
    assert metric.p_value == float(expected.pvalue)


def test_one_value_everywhere_passes_with_no_shift() -> None:
    metric = judge_metric(samples("availability", np.ones(100), np.ones(100)), CONFIG)
    assert (metric.classification, metric.p_value, metric.estimate) == ("pass", 1.0, 0.0)


@pytest.mark.parametrize(("options", "field"), [
    ({"confidence": 1.0}, "confidence"), ({"min_samples": 0}, "min_samples"),
    ({"pass_score": 70.0, "marginal_score": 80.0}, "pass_score"),
    ({"rules": {"latency": MetricRule("high", -0.1)}}, "rules.latency"),
])
def test_a_bad_setting_is_a_config_error_naming_its_field(options: dict, field: str) -> None:
    with pytest.raises(ConfigError) as raised:
        JudgeConfig(**options)
    assert raised.value.field == field


def test_the_floor_keeps_a_few_ms_of_drift_on_a_fast_service_a_pass() -> None:
    # an 8 ms service that drifted 3 ms (38 %, significant with 3,000 samples a side): over the
    # relative tolerance (2 ms), under the 5 ms floor; 20 ms more is still High
    rng = np.random.default_rng(5)
    fast = rng.lognormal(np.log(0.008), 0.3, size=3000)
    drifted = judge_metric(samples("latency", fast, rng.lognormal(np.log(0.008), 0.3,
                                                                  size=3000) + 0.003), CONFIG)
    assert drifted.p_value is not None and drifted.p_value < 0.02
    assert drifted.tolerance == pytest.approx(0.005)
    assert drifted.classification == "pass" and drifted.reason == "within tolerance"
    slower = judge_metric(samples("latency", fast, rng.lognormal(np.log(0.008), 0.3,
                                                                 size=3000) + 0.020), CONFIG)
    assert slower.classification == "high"
    no_floor = JudgeConfig(rules={**DEFAULT_RULES, "latency": MetricRule("high", 0.25)})
    assert judge_metric(samples("latency", fast, rng.lognormal(np.log(0.008), 0.3, size=3000)
                                + 0.003), no_floor).classification == "high"
