"""Answer quality of a running RAG service per retrieval variant: each labelled question asked
once per variant, judged against its gold answer, and summed up with confidence intervals.

Definitions (the per-question metrics are ``gameday.measure.quality``'s):

- A question is *answered* under a variant when ``POST /ask`` (``stream: false``, the variant
  forced) returned 200 with that variant. The figures are over the answered questions (``n``);
  every other ask is an error, counted by its reason (``HTTP 503``, ``ReadTimeout``,
  ``answered as vector``), never dropped silently.
- A degraded answer (``embedder``, ``store``, ``stale-cache``) is an answer and is scored; it is
  also counted by its reason.
- The service's response cache is keyed by (normalised question, variant, k), so one variant
  never sees another's answers, but ``/ask`` has no way to bypass it: a question asked again
  within the TTL (an earlier eval, a load run) is a hit. Each answer's cache status is recorded
  and the hit count shown, so a reader knows how much of a figure is replayed answers.
- The difference of a variant from the first (the baseline) is the mean of the per-question
  differences over the questions both answered (paired), with a seeded bootstrap interval.

Recall@k and exact match are shares (Wilson intervals); MRR and F1 are means of graded values
(bootstrap intervals). Only a loopback URL is ever asked.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from gameday.config import is_loopback_url
from gameday.corpus import Question, base_documents, base_questions, is_relevant
from gameday.errors import GamedayError
from gameday.measure.quality import (
    Estimate,
    exact_match,
    f1_score,
    mean_ci,
    proportion_ci,
    recall_at_k,
    reciprocal_rank,
)

__all__ = [
    "DEFAULT_DOCUMENTS",
    "VARIANTS",
    "Difference",
    "Evaluation",
    "Failure",
    "Judged",
    "VariantFigures",
    "default_questions",
    "evaluate",
    "judge_answer",
    "summarise",
]

DEFAULT_DOCUMENTS = 400  # the rag stack's default base corpus (RagOptions.documents)
VARIANTS = ("vector", "hybrid")
_TIMEOUT_S = 10.0  # one answer; the service's own embedder and store timeouts are far below
_CONCURRENCY = 4  # asks in flight: enough to finish in a minute, few enough that the
#                   embedder's 0.5 s timeout does not turn the eval into a degraded one


@dataclass(frozen=True, slots=True)
class Judged:
    """One question answered under one variant, judged against its gold answer."""

    qid: str
    variant: str
    recall: float  # 1.0 when a gold passage is among the first k sources
    reciprocal_rank: float  # 1 / rank of the first gold source, 0.0 when none
    exact: float  # 1.0 when the answer span matches the gold answer
    f1: float
    cache: str  # hit | miss
    degraded: str  # "" | embedder | store | stale-cache


@dataclass(frozen=True, slots=True)
class Failure:
    """An ask that gave no answer to judge."""

    qid: str
    variant: str
    reason: str


@dataclass(frozen=True, slots=True)
class VariantFigures:
    variant: str
    asked: int
    recall: Estimate
    mrr: Estimate
    exact_match: Estimate
    f1: Estimate
    errors: Mapping[str, int]  # reason -> asks
    degraded: Mapping[str, int]  # reason -> answers
    cache_hits: int

    @property
    def n(self) -> int:
        """Answered questions: what the figures are over."""
        return self.recall.n


@dataclass(frozen=True, slots=True)
class Difference:
    """``variant`` minus ``baseline``, per question both answered."""

    variant: str
    baseline: str
    recall: Estimate
    mrr: Estimate
    exact_match: Estimate
    f1: Estimate

    @property
    def n(self) -> int:
        return self.recall.n


@dataclass(frozen=True, slots=True)
class Evaluation:
    url: str
    k: int
    confidence: float
    questions: int
    variants: tuple[VariantFigures, ...]
    differences: tuple[Difference, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON data: NaN (nothing measured) becomes null."""
        figures = asdict(self)
        for entry in (*figures["variants"], *figures["differences"]):
            entry["n"] = entry["recall"]["n"]
        cleaned: dict[str, Any] = _no_nan(figures)
        return cleaned


def default_questions(documents: int = DEFAULT_DOCUMENTS, limit: int | None = None
                      ) -> list[Question]:
    """The labelled base questions of the first ``documents`` base documents, the first
    ``limit`` of them when given."""
    questions = base_questions(base_documents(documents))
    return questions if limit is None else questions[:limit]


def judge_answer(question: Question, variant: str, payload: Mapping[str, Any],
                 k: int) -> Judged:
    """Judge a non-streamed ``/ask`` answer (``targets/rag/app.py``: ``sources``, ``answer``,
    ``cache``, ``degraded``)."""
    sources = [s for s in payload.get("sources") or [] if isinstance(s, Mapping)]
    relevance = [is_relevant(question, str(s.get("doc_id", "")), str(s.get("text", "")))
                 for s in sources]
    span = str(payload.get("answer", ""))
    return Judged(qid=question.qid, variant=variant, recall=recall_at_k(relevance, k),
                  reciprocal_rank=reciprocal_rank(relevance),
                  exact=float(exact_match(span, question.answer)),
                  f1=f1_score(span, question.answer), cache=str(payload.get("cache", "")),
                  degraded=str(payload.get("degraded") or ""))


def summarise(url: str, k: int, questions: int, judged: Sequence[Judged],
              failures: Sequence[Failure], *, variants: Sequence[str] = VARIANTS,
              confidence: float = 0.95) -> Evaluation:
    """The figures per variant and each variant's difference from the first."""
    figures = tuple(_figures(variant, [j for j in judged if j.variant == variant],
                             [f for f in failures if f.variant == variant], confidence)
                    for variant in variants)
    differences = tuple(_difference(variant, variants[0], judged, confidence)
                        for variant in variants[1:])
    return Evaluation(url=url, k=k, confidence=confidence, questions=questions,
                      variants=figures, differences=differences)


def _figures(variant: str, judged: Sequence[Judged], failures: Sequence[Failure],
             confidence: float) -> VariantFigures:
    recalled = sum(1 for j in judged if j.recall == 1.0)
    exact = sum(1 for j in judged if j.exact == 1.0)
    return VariantFigures(
        variant=variant, asked=len(judged) + len(failures),
        recall=proportion_ci(recalled, len(judged), confidence),
        mrr=mean_ci([j.reciprocal_rank for j in judged], confidence),
        exact_match=proportion_ci(exact, len(judged), confidence),
        f1=mean_ci([j.f1 for j in judged], confidence),
        errors=dict(Counter(f.reason for f in failures)),
        degraded=dict(Counter(j.degraded for j in judged if j.degraded)),
        cache_hits=sum(1 for j in judged if j.cache == "hit"))


def _difference(variant: str, baseline: str, judged: Sequence[Judged],
                confidence: float) -> Difference:
    base = {j.qid: j for j in judged if j.variant == baseline}
    pairs = [(j, base[j.qid]) for j in judged if j.variant == variant and j.qid in base]

    def paired(metric: Callable[[Judged], float]) -> Estimate:
        return mean_ci([metric(ours) - metric(theirs) for ours, theirs in pairs], confidence)

    return Difference(variant=variant, baseline=baseline,
                      recall=paired(lambda j: j.recall),
                      mrr=paired(lambda j: j.reciprocal_rank),
                      exact_match=paired(lambda j: j.exact), f1=paired(lambda j: j.f1))


def evaluate(url: str, questions: Sequence[Question], *, k: int,
             variants: Sequence[str] = VARIANTS, confidence: float = 0.95,
             timeout_s: float = _TIMEOUT_S, concurrency: int = _CONCURRENCY) -> Evaluation:
    """Ask every question once per variant at ``url`` (the service's base URL: ``/ask`` and
    ``/health`` are below it) and sum the answers up. GamedayError when the service does not
    answer at all."""
    base = url.rstrip("/")
    if not is_loopback_url(base):
        raise ValueError(f"only a loopback URL may be asked, got {url!r}")
    asks = [(question, variant) for question in questions for variant in variants]
    with httpx.Client(timeout=timeout_s, follow_redirects=False) as client:
        _check_health(client, base)
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            outcomes = list(pool.map(lambda ask: _ask(client, base, ask[0], ask[1], k), asks))
    judged = [o for o in outcomes if isinstance(o, Judged)]
    failures = [o for o in outcomes if isinstance(o, Failure)]
    return summarise(base, k, len(questions), judged, failures, variants=variants,
                     confidence=confidence)


def _check_health(client: httpx.Client, base: str) -> None:
    try:
        response = client.get(base + "/health")
    except httpx.TransportError as exc:
        raise GamedayError(f"the rag service at {base} does not answer: "
                           f"{type(exc).__name__}: {exc}") from None
    if response.status_code != 200:
        raise GamedayError(f"the rag service at {base} is not healthy: GET /health answered "
                           f"HTTP {response.status_code}")


def _ask(client: httpx.Client, base: str, question: Question, variant: str,
         k: int) -> Judged | Failure:
    body = {"question": question.text, "user": f"gameday-eval-{variant}-{question.qid}",
            "k": k, "variant": variant, "stream": False}
    try:
        response = client.post(base + "/ask", json=body)
    except httpx.TransportError as exc:
        return Failure(question.qid, variant, type(exc).__name__)
    if response.status_code != 200:
        return Failure(question.qid, variant, f"HTTP {response.status_code}")
    try:
        payload = response.json()
    except ValueError:
        return Failure(question.qid, variant, "not JSON")
    if not isinstance(payload, dict):
        return Failure(question.qid, variant, "not a JSON object")
    if payload.get("variant") != variant:
        return Failure(question.qid, variant, f"answered as {payload.get('variant')}")
    payload.setdefault("degraded", response.headers.get("x-rag-degraded", ""))
    payload.setdefault("cache", response.headers.get("x-rag-cache", ""))
    return judge_answer(question, variant, payload, k)


def _no_nan(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _no_nan(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_no_nan(item) for item in value]
    return value
