"""Run-to-run judgement in the style of Kayenta's NetflixACAJudge: each metric's samples from a
baseline run and a candidate run classified Pass / High / Low / Nodata, and a weighted score
that gives the overall Pass / Marginal / Fail.

Per metric (definitions; ``reports.compare`` takes the samples from the run folders):

- Nodata: fewer than ``min_samples`` samples on either side. Never a pass, and left out of
  the score's denominator.
- the Mann–Whitney U test (two-sided; scipy) of candidate against baseline: U counts the
  pairs where the candidate's value is the larger (ties count one half);
- the Hodges–Lehmann shift (candidate − baseline, ``gameday.measure.hodges_lehmann``) with its
  confidence interval at ``confidence`` (0.98: α = 0.02);
- the tolerance: ``max(tolerance × |baseline median|, floor)`` (per metric family: relative,
  with an absolute floor in the metric's unit);
- High when the difference is significant (p < α) and the whole interval lies above
  +tolerance; Low when significant and the whole interval lies below −tolerance; else Pass (a
  significant move inside the tolerance passes). Kayenta's classifier bounds the interval
  the same way.
- a metric fails when its class is its bad direction (latency High, availability Low); a
  move the other way (faster, more available) is shown and passes.

Score = 100 × weight of the metrics with data that did not fail / weight of the metrics with
data. Pass at ``pass_score`` or more, Marginal at ``marginal_score`` or more, else Fail; a
failed critical metric fails the judgement whatever the score; no metric with data: Nodata.
``regressed`` is what a nightly job gates on: some metric failed, or the judgement is Fail.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from scipy.stats import mannwhitneyu

from gameday.errors import ConfigError
from gameday.measure.arrays import FloatArray, percentile
from gameday.measure.hodges_lehmann import hodges_lehmann

__all__ = [
    "DEFAULT_RULES",
    "Direction",
    "JudgeConfig",
    "Judgement",
    "MetricJudgement",
    "MetricRule",
    "MetricSamples",
    "judge",
    "judge_metric",
]

Direction = Literal["high", "low", "either"]  # the way a metric may not move
Classification = Literal["pass", "high", "low", "nodata"]
Verdict = Literal["pass", "marginal", "fail", "nodata"]


@dataclass(frozen=True, slots=True)
class MetricRule:
    """How a metric family (or one metric, ``family:stack``) is judged."""

    bad_direction: Direction
    tolerance: float  # relative to the baseline's median
    floor: float = 0.0  # the least tolerance, in the metric's unit (s for latency)
    weight: float = 1.0
    critical: bool = False


# Latency: Kayenta's NetflixACAJudge tolerance (0.25 of the baseline), at least 5 ms. Runs of a
# suite are minutes or a day apart, not side by side as Kayenta's canary and baseline are, so
# the machine's own drift is in the difference: four healthy runs of one suite on the local
# platform in a row, on a shared 2-core machine, had median latencies of 8.6, 9.5, 8.0 and
# 11.5 ms (+44 % between two of them, significant with a thousand samples a side). A relative
# tolerance alone judged that High; the floor keeps a few ms of drift on a fast loopback
# service a pass while 20 ms more on a link (judged +20.6 and +28.6 ms) stays far above it.
DEFAULT_RULES: Mapping[str, MetricRule] = {
    "latency": MetricRule("high", 0.25, floor=0.005),
    "ttft": MetricRule("high", 0.25, floor=0.005),
    # per-bucket availability sits near 1: half a point of it, not a tenth
    "availability": MetricRule("low", 0.005),
}


@dataclass(frozen=True, slots=True)
class JudgeConfig:
    confidence: float = 0.98
    min_samples: int = 50
    pass_score: float = 95.0
    marginal_score: float = 75.0
    rules: Mapping[str, MetricRule] = field(default_factory=lambda: dict(DEFAULT_RULES))

    def __post_init__(self) -> None:
        if not 0 < self.confidence < 1:
            raise ConfigError(f"must be between 0 and 1, got {self.confidence}",
                              field="confidence")
        if self.min_samples < 1:
            raise ConfigError(f"must be at least 1, got {self.min_samples}", field="min_samples")
        if not 0 <= self.marginal_score <= self.pass_score <= 100:
            raise ConfigError(f"need 0 <= marginal ({self.marginal_score}) <= pass "
                              f"({self.pass_score}) <= 100", field="pass_score")
        for name, rule in self.rules.items():
            if not (rule.tolerance >= 0 and math.isfinite(rule.tolerance)):
                raise ConfigError(f"tolerance must be >= 0, got {rule.tolerance}",
                                  field=f"rules.{name}")
            if not (rule.floor >= 0 and math.isfinite(rule.floor)):
                raise ConfigError(f"floor must be >= 0, got {rule.floor}",
                                  field=f"rules.{name}")
            if not (rule.weight > 0 and math.isfinite(rule.weight)):
                raise ConfigError(f"weight must be > 0, got {rule.weight}",
                                  field=f"rules.{name}")

    def rule(self, family: str, stack: str) -> MetricRule:
        """The rule of ``family:stack`` if one is given, else the family's."""
        rule = self.rules.get(f"{family}:{stack}", self.rules.get(family))
        if rule is None:
            raise ConfigError(f"no rule for metric family {family!r}", field="rules")
        return rule


@dataclass(frozen=True, slots=True)
class MetricSamples:
    """One metric's samples in both runs (NaN already dropped)."""

    family: str  # latency | availability | ttft
    stack: str
    unit: str  # s | ratio
    baseline: FloatArray
    candidate: FloatArray

    @property
    def name(self) -> str:
        return f"{self.family}:{self.stack}"


@dataclass(frozen=True, slots=True)
class MetricJudgement:
    """A metric's statistics and class; None where it has no data to compute them from."""

    name: str
    family: str
    stack: str
    unit: str
    rule: MetricRule
    n_baseline: int
    n_candidate: int
    median_baseline: float | None
    median_candidate: float | None
    u: float | None
    p_value: float | None
    estimate: float | None  # Hodges–Lehmann, candidate − baseline
    ci_low: float | None
    ci_high: float | None
    tolerance: float | None  # absolute: max(rule.tolerance × |baseline median|, rule.floor)
    classification: Classification
    failed: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Judgement:
    baseline: str
    candidate: str
    config: JudgeConfig
    metrics: tuple[MetricJudgement, ...]
    score: float | None  # None: no metric had data
    verdict: Verdict
    reason: str
    regressed: bool

    @property
    def exit_code(self) -> int:
        """What ``gameday compare`` exits with: 0 Pass, 1 anything else."""
        return 0 if self.verdict == "pass" else 1


def judge(samples: Sequence[MetricSamples], config: JudgeConfig, *, baseline: str = "baseline",
          candidate: str = "candidate") -> Judgement:
    metrics = tuple(judge_metric(sample, config) for sample in samples)
    with_data = [m for m in metrics if m.classification != "nodata"]
    weight = sum(m.rule.weight for m in with_data)
    score = None if not with_data else \
        100 * sum(m.rule.weight for m in with_data if not m.failed) / weight
    verdict, reason = _verdict(metrics, score, config)
    return Judgement(baseline=baseline, candidate=candidate, config=config, metrics=metrics,
                     score=score, verdict=verdict, reason=reason,
                     regressed=verdict == "fail" or any(m.failed for m in metrics))


def _verdict(metrics: Sequence[MetricJudgement], score: float | None,
             config: JudgeConfig) -> tuple[Verdict, str]:
    failed = [m.name for m in metrics if m.failed]
    critical = [m.name for m in metrics if m.failed and m.rule.critical]
    if score is None:
        return "nodata", "no metric had enough samples in both runs"
    moved = f"; failed: {', '.join(failed)}" if failed else ""
    if critical:
        return "fail", f"critical metric failed: {', '.join(critical)} (score {score:.1f})"
    if score >= config.pass_score:
        return "pass", f"score {score:.1f} >= {config.pass_score:g}{moved}"
    if score >= config.marginal_score:
        return "marginal", f"score {score:.1f} < {config.pass_score:g}{moved}"
    return "fail", f"score {score:.1f} < {config.marginal_score:g}{moved}"


def judge_metric(sample: MetricSamples, config: JudgeConfig) -> MetricJudgement:
    rule = config.rule(sample.family, sample.stack)
    base, cand = sample.baseline, sample.candidate
    median = percentile(base, 50)
    nodata = MetricJudgement(
        name=sample.name, family=sample.family, stack=sample.stack, unit=sample.unit,
        rule=rule, n_baseline=int(base.size), n_candidate=int(cand.size),
        median_baseline=median, median_candidate=percentile(cand, 50), u=None, p_value=None,
        estimate=None, ci_low=None, ci_high=None, tolerance=None, classification="nodata",
        failed=False, reason=f"fewer than {config.min_samples} samples (baseline "
        f"{base.size}, candidate {cand.size})")
    if min(base.size, cand.size) < config.min_samples or median is None:
        return nodata
    tolerance = max(rule.tolerance * abs(median), rule.floor)
    if _all_one_value(base, cand):
        return replace(nodata, u=base.size * cand.size / 2, p_value=1.0, estimate=0.0,
                       ci_low=0.0, ci_high=0.0, tolerance=tolerance, classification="pass",
                       reason="every sample of both runs has the same value")
    test = mannwhitneyu(cand, base, alternative="two-sided")
    p_value = float(test.pvalue)
    shift = hodges_lehmann(base, cand, config.confidence)
    significant = p_value < 1 - config.confidence
    classification: Classification = "pass"
    if significant and shift.low > tolerance:
        classification = "high"
    elif significant and shift.high < -tolerance:
        classification = "low"
    failed = classification != "pass" and rule.bad_direction in (classification, "either")
    return replace(nodata, u=float(test.statistic), p_value=p_value, estimate=shift.estimate,
                   ci_low=shift.low, ci_high=shift.high, tolerance=tolerance,
                   classification=classification, failed=failed,
                   reason=_reason(classification, significant, failed))


def _all_one_value(base: FloatArray, cand: FloatArray) -> bool:
    low = min(float(np.min(base)), float(np.min(cand)))
    return low == max(float(np.max(base)), float(np.max(cand)))


def _reason(classification: Classification, significant: bool, failed: bool) -> str:
    if classification == "pass":
        return "within tolerance" if significant else "no significant difference"
    where = "above" if classification == "high" else "below"
    return f"interval {where} the tolerance" + ("" if failed else " (the harmless direction)")
