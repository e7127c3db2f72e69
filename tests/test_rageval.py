"""``gameday.rageval`` judges one answer and sums a variant up: figures checked by hand on a set
small enough to count (the real service is asked in ``tests/targets/rag/test_eval.py``)."""

from __future__ import annotations

import json

import pytest

from gameday.corpus import Question
from gameday.rageval import Failure, Judged, default_questions, evaluate, judge_answer, summarise

QUESTION = Question(qid="kb-000001-q0", text="Which team looks after kestrel-41?",
                    answer="Amber Falcon", doc_id="kb-000001")


def _source(doc_id: str, text: str) -> dict[str, object]:
    return {"doc_id": doc_id, "chunk": 0, "score": 0.5, "text": text}


def _judged(qid: str, variant: str, rank: int | None, exact: bool, f1: float, *,
            k: int = 2, cache: str = "miss", degraded: str = "") -> Judged:
    return Judged(qid=qid, variant=variant,
                  recall=1.0 if rank is not None and rank <= k else 0.0,
                  reciprocal_rank=0.0 if rank is None else 1 / rank,
                  exact=float(exact), f1=f1, cache=cache, degraded=degraded)


def test_an_answer_is_judged_by_its_first_gold_source_and_its_span() -> None:
    payload = {"variant": "vector", "cache": "miss", "degraded": "", "answer": "the Amber Falcon",
               "sources": [_source("kb-000002", "kestrel-14 is owned by the Amber Falcon team."),
                           _source("kb-000001", "kestrel-41 listens on port 4821."),
                           _source("kb-000001", "kestrel-41 is maintained by the Amber Falcon "
                                                "team.")]}
    at_two = judge_answer(QUESTION, "vector", payload, k=2)
    at_three = judge_answer(QUESTION, "vector", payload, k=3)
    # the twin's document holds the words but is not gold; the gold document's first chunk
    # lacks the answer: the first gold source is third
    assert at_two.reciprocal_rank == pytest.approx(1 / 3)
    assert (at_two.recall, at_three.recall) == (0.0, 1.0)
    assert (at_two.exact, at_two.f1) == (1.0, 1.0)  # SQuAD drops the article


def test_an_answer_without_sources_or_span_scores_zero() -> None:
    judged = judge_answer(QUESTION, "hybrid", {"variant": "hybrid", "sources": [],
                                               "answer": "Golden Falcon"}, k=5)
    assert (judged.recall, judged.reciprocal_rank, judged.exact) == (0.0, 0.0, 0.0)
    assert judged.f1 == pytest.approx(0.5)  # precision 1/2, recall 1/2


def _four_questions() -> tuple[list[Judged], list[Failure]]:
    """Vector: gold at ranks 1, 2, none, 3 (k = 2). Hybrid: gold first for q1-q3, q4 got a
    503; q2 answered degraded, q3 from the cache."""
    vector = [_judged("q1", "vector", 1, True, 1.0), _judged("q2", "vector", 2, True, 1.0),
              _judged("q3", "vector", None, False, 0.0),
              _judged("q4", "vector", 3, False, 0.5)]
    hybrid = [_judged("q1", "hybrid", 1, True, 1.0),
              _judged("q2", "hybrid", 1, False, 0.5, degraded="embedder"),
              _judged("q3", "hybrid", 1, True, 1.0, cache="hit")]
    return vector + hybrid, [Failure("q4", "hybrid", "HTTP 503")]


def test_a_variant_sums_up_to_hand_counted_figures() -> None:
    judged, failures = _four_questions()
    evaluation = summarise("http://127.0.0.1:1", 2, 4, judged, failures)
    vector, hybrid = evaluation.variants
    assert (vector.variant, vector.asked, vector.n) == ("vector", 4, 4)
    assert vector.mrr.mean == pytest.approx((1 + 1 / 2 + 0 + 1 / 3) / 4)
    assert vector.recall.mean == pytest.approx(2 / 4)
    # Wilson at 2 of 4, z = 1.96: centre 0.5, half-width 1.96 * sqrt(1/16 + 1.96²/64) / (1 +
    # 1.96²/4) = 0.350
    assert (vector.recall.low, vector.recall.high) == pytest.approx((0.150, 0.850), abs=1e-3)
    assert vector.exact_match.mean == pytest.approx(2 / 4)
    assert vector.f1.mean == pytest.approx((1 + 1 + 0 + 0.5) / 4)
    assert vector.mrr.low <= vector.mrr.mean <= vector.mrr.high
    assert (vector.errors, vector.degraded, vector.cache_hits) == ({}, {}, 0)
    assert (hybrid.asked, hybrid.n) == (4, 3)
    assert (hybrid.recall.mean, hybrid.mrr.mean) == (1.0, 1.0)
    assert (hybrid.recall.low, hybrid.recall.high) == pytest.approx((0.439, 1.0), abs=1e-3)
    assert hybrid.exact_match.mean == pytest.approx(2 / 3)
    assert hybrid.errors == {"HTTP 503": 1}
    assert (hybrid.degraded, hybrid.cache_hits) == ({"embedder": 1}, 1)


def test_the_difference_is_paired_over_the_questions_both_variants_answered() -> None:
    judged, failures = _four_questions()
    (difference,) = summarise("http://127.0.0.1:1", 2, 4, judged, failures).differences
    assert (difference.variant, difference.baseline, difference.n) == ("hybrid", "vector", 3)
    # q1-q3 only (q4 failed under hybrid): recall 1-1, 1-1, 1-0; rank 1-1, 1-1/2, 1-0
    assert difference.recall.mean == pytest.approx(1 / 3)
    assert difference.mrr.mean == pytest.approx((0 + 1 / 2 + 1) / 3)
    assert difference.exact_match.mean == pytest.approx((0 - 1 + 1) / 3)
    assert difference.f1.mean == pytest.approx((0 - 0.5 + 1) / 3)
    for estimate in (difference.recall, difference.mrr, difference.exact_match, difference.f1):
        assert -1.0 <= estimate.low <= estimate.mean <= estimate.high <= 1.0


def test_a_variant_with_no_answer_writes_null_figures_as_strict_json() -> None:
    failures = [Failure("q1", "vector", "ReadTimeout"), Failure("q1", "hybrid", "HTTP 502")]
    document = summarise("http://127.0.0.1:1", 5, 1, [], failures).as_dict()
    text = json.dumps(document, allow_nan=False)
    vector = json.loads(text)["variants"][0]
    assert (vector["n"], vector["asked"], vector["recall"]["mean"]) == (0, 1, None)
    assert vector["errors"] == {"ReadTimeout": 1}


def test_the_default_questions_are_two_per_base_document_and_can_be_capped() -> None:
    assert len(default_questions()) == 800
    capped = default_questions(limit=3)
    assert [q.qid for q in capped] == ["kb-000000-q0", "kb-000000-q1", "kb-000001-q0"]


def test_a_url_off_loopback_is_never_asked() -> None:
    with pytest.raises(ValueError, match="loopback"):
        evaluate("http://192.0.2.1:8080", [QUESTION], k=5)
