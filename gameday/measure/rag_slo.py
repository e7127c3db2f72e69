"""Judge the RAG SLOs (time to first token, answer quality, degraded share) on a stack's
answers; the figures are ``gameday.measure.rag``'s, over the SLO's scope, warm-up out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gameday.measure.arrays import percentile
from gameday.measure.rag import Answers
from gameday.measure.sli import scope_mask
from gameday.measure.windows import FaultWindow
from gameday.slos import DegradedShareSlo, QualitySlo, TtftSlo

__all__ = ["RagSlo", "judge_rag_slo"]

RagSlo = TtftSlo | QualitySlo | DegradedShareSlo

_METRIC_NAMES = {"recall": "recall@k", "exact_match": "exact match", "f1": "token F1"}


def judge_rag_slo(slo: RagSlo, answers: Answers | None, windows: Sequence[FaultWindow],
                  warmup_end_s: float | None) -> tuple[float | None, bool, str, int]:
    """(measured, passed, message, answers judged); nothing to judge fails the SLO."""
    if answers is None or not len(answers):
        return None, False, f"no answers of the {slo.stack} stack were recorded", 0
    judged = answers.select(scope_mask(answers.requests, windows, slo.scope,
                                       warmup_end_s=warmup_end_s))
    if isinstance(slo, TtftSlo):
        return _ttft(slo, judged)
    if isinstance(slo, QualitySlo):
        return _quality(slo, judged)
    return _degraded(slo, judged)


def _ttft(slo: TtftSlo, judged: Answers) -> tuple[float | None, bool, str, int]:
    count = len(judged)
    if count == 0:
        return None, False, f"no answers to judge in scope {slo.scope}", 0
    # an answer without a first token is slower than any threshold, not left out
    ttft = np.where(np.isnan(judged.ttft_s), np.inf, judged.ttft_s)
    measured = percentile(ttft, slo.percentile)
    assert measured is not None  # count > 0
    passed = measured <= slo.threshold_s
    missing = int(np.count_nonzero(np.isnan(judged.ttft_s)))
    shown = "no first token" if np.isinf(measured) else f"{measured * 1000:.1f} ms"
    return (None if np.isinf(measured) else measured), passed, (
        f"p{slo.percentile:g} time to first token {shown} over {count} answers ({missing} "
        f"without a first token, counted slower than any threshold): "
        f"{'within' if passed else 'above'} the threshold {slo.threshold_s * 1000:g} ms"), count


def _quality(slo: QualitySlo, judged: Answers) -> tuple[float | None, bool, str, int]:
    values = {"recall": judged.recall, "exact_match": judged.correct, "f1": judged.f1}[slo.metric]
    labelled = values[judged.requests.ok & ~np.isnan(values)]
    name = _METRIC_NAMES[slo.metric]
    if labelled.size == 0:
        return None, False, f"no labelled question was answered in scope {slo.scope}", 0
    measured = float(labelled.mean())
    passed = measured >= slo.objective
    return measured, passed, (
        f"mean {name} {measured:.3f} over {labelled.size} answered labelled questions: "
        f"{'meets' if passed else 'misses'} the objective {slo.objective:g}"), int(labelled.size)


def _degraded(slo: DegradedShareSlo, judged: Answers) -> tuple[float | None, bool, str, int]:
    good = judged.requests.ok
    count = int(np.count_nonzero(good))
    if count == 0:
        return None, False, f"no good answers to judge in scope {slo.scope}", 0
    reasons, per_reason = np.unique(judged.degraded[good & (judged.degraded != "")],
                                    return_counts=True)
    degraded = int(per_reason.sum())
    measured = degraded / count
    passed = measured <= slo.max_share
    by = ", ".join(f"{reason} {n}" for reason, n in zip(reasons, per_reason, strict=True))
    return measured, passed, (
        f"{degraded} of {count} good answers degraded ({measured:.2%}{'; ' + by if by else ''})"
        f": {'within' if passed else 'over'} the limit {slo.max_share:.2%}"), count
