"""Two run folders judged against each other (``gameday compare``): the samples of each metric
(``reports.run_samples``) put to ``gameday.measure.judge``; ``judge_runs`` is the entry point
for a nightly job, ``comparison_document`` the JSON form (schema ``gameday.compare/1``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gameday.measure import Scope
from gameday.measure.judge import JudgeConfig, Judgement, MetricSamples, judge
from reports.run_samples import FAMILIES, RunSamples, Sample, read_run, run_samples

__all__ = ["COMPARE_SCHEMA", "Comparison", "compare_runs", "comparison_document", "judge_runs"]

COMPARE_SCHEMA = "gameday.compare/1"


@dataclass(frozen=True, slots=True)
class Comparison:
    judgement: Judgement
    baseline: RunSamples
    candidate: RunSamples
    notes: tuple[str, ...]  # what a reader should know before trusting the verdict

    def samples(self, name: str) -> tuple[Sample | None, Sample | None]:
        return self.baseline.metrics.get(name), self.candidate.metrics.get(name)


def compare_runs(baseline_dir: Path, candidate_dir: Path, config: JudgeConfig | None = None,
                 *, scope: Scope = "all", bucket_s: float = 1.0) -> Comparison:
    """Both folders read and judged; a bad folder is a ConfigError naming it."""
    config = config or JudgeConfig()
    baseline = run_samples(read_run(baseline_dir), scope=scope, bucket_s=bucket_s)
    candidate = run_samples(read_run(candidate_dir), scope=scope, bucket_s=bucket_s)
    judgement = judge([_paired(name, baseline, candidate) for name in _names(baseline, candidate)],
                      config, baseline=baseline.run_id, candidate=candidate.run_id)
    return Comparison(judgement, baseline, candidate, _notes(baseline, candidate))


def judge_runs(baseline_dir: Path, candidate_dir: Path, config: JudgeConfig | None = None,
               *, scope: Scope = "all", bucket_s: float = 1.0) -> Judgement:
    """The judgement alone: ``regressed`` says whether the candidate moved the wrong way."""
    return compare_runs(baseline_dir, candidate_dir, config, scope=scope,
                        bucket_s=bucket_s).judgement


def _names(baseline: RunSamples, candidate: RunSamples) -> list[str]:
    order = list(FAMILIES)
    names = set(baseline.metrics) | set(candidate.metrics)
    return sorted(names, key=lambda n: (n.split(":", 1)[1], order.index(n.split(":", 1)[0])))


def _paired(name: str, baseline: RunSamples, candidate: RunSamples) -> MetricSamples:
    family, stack = name.split(":", 1)
    empty = np.zeros(0, dtype=np.float64)
    base, cand = baseline.metrics.get(name), candidate.metrics.get(name)
    return MetricSamples(family=family, stack=stack, unit=FAMILIES[family],
                         baseline=empty if base is None else base.values,
                         candidate=empty if cand is None else cand.values)


def _notes(baseline: RunSamples, candidate: RunSamples) -> tuple[str, ...]:
    notes = []
    if baseline.suite != candidate.suite:
        notes.append(f"different suites: baseline {baseline.suite}, candidate {candidate.suite}")
    for name in sorted(set(baseline.metrics) ^ set(candidate.metrics)):
        side = "baseline" if name in baseline.metrics else "candidate"
        notes.append(f"{name} is only in the {side} run")
    if baseline.path.resolve() == candidate.path.resolve():
        notes.append("baseline and candidate are the same folder")
    return tuple(notes)


def comparison_document(comparison: Comparison) -> dict[str, Any]:
    """Plain JSON types, None where a figure does not exist."""
    judgement, config = comparison.judgement, comparison.judgement.config
    return {
        "schema": COMPARE_SCHEMA,
        "baseline": _run(comparison.baseline),
        "candidate": _run(comparison.candidate),
        "scope": comparison.baseline.scope,
        "config": {"confidence": config.confidence, "alpha": round(1 - config.confidence, 12),
                   "min_samples": config.min_samples, "pass_score": config.pass_score,
                   "marginal_score": config.marginal_score},
        "verdict": judgement.verdict,
        "score": judgement.score,
        "reason": judgement.reason,
        "regressed": judgement.regressed,
        "notes": list(comparison.notes),
        "metrics": [{
            "name": m.name, "family": m.family, "stack": m.stack, "unit": m.unit,
            "bad_direction": m.rule.bad_direction, "critical": m.rule.critical,
            "weight": m.rule.weight, "tolerance_relative": m.rule.tolerance,
            "tolerance_floor": m.rule.floor,
            "tolerance": m.tolerance, "n_baseline": m.n_baseline,
            "n_candidate": m.n_candidate, "median_baseline": m.median_baseline,
            "median_candidate": m.median_candidate, "u": m.u, "p_value": m.p_value,
            "hodges_lehmann": m.estimate, "ci_low": m.ci_low, "ci_high": m.ci_high,
            "confidence": config.confidence, "class": m.classification, "failed": m.failed,
            "reason": m.reason,
        } for m in judgement.metrics],
    }


def _run(samples: RunSamples) -> dict[str, Any]:
    return {"run": samples.run_id, "path": str(samples.path), "suite": samples.suite,
            "started_at_s": samples.started_at_s}
