"""The RAG figures (gameday.measure.rag) and SLOs (rag_slo) on hand-made answers written to a
real request file and read back, each expected figure worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from gameday.measure.rag import (
    ANSWER_COLUMNS,
    Answers,
    Ingests,
    answer_stats,
    rag_buckets,
    rag_figures,
)
from gameday.measure.rag_slo import judge_rag_slo
from gameday.measure.windows import FaultWindow
from gameday.records import RecordWriter, RequestRecord, read_request_table
from gameday.slos import DegradedShareSlo, QualitySlo, TtftSlo


def answer(t_s: float, *, ok: bool = True, ttft_s: float | None = 0.2,
           itl: tuple[float, ...] = (0.02, 0.03), endpoint: str = "ask", question: str = "kb-1-q0",
           variant: str = "vector", cache: str = "miss", degraded: str = "",
           stream: str = "complete", resume_s: float | None = None,
           recall: float | None = 1.0, correct: float | None = 1.0,
           f1: float | None = 1.0, seq: int | None = None) -> RequestRecord:
    return RequestRecord(
        scheduled_s=t_s, start_s=t_s, end_s=t_s + 0.5, stack="rag", endpoint=endpoint,
        region="region-a" if ok else "", status=200 if ok else 503, ok=ok,
        error_kind="" if ok else "http_5xx", ttft_s=ttft_s if ok else None,
        itl_s=itl if ok else (), question=question, variant=variant, cache=cache if ok else "",
        degraded=degraded, stream=stream if ok else "", resume_s=resume_s,
        recall=recall if ok else None, correct=correct if ok else None, f1=f1 if ok else None,
        seq=seq)


def read_back(tmp_path: Path, records: list[RequestRecord]) -> Answers:
    with RecordWriter(tmp_path / "requests-gen0.csv") as writer:
        for record in records:
            writer.write(record)
        # an ingest and a tabular answer: not answers of the rag stack
        writer.write(RequestRecord(0.5, 0.5, 0.6, "rag", "ingest", "region-a", 201, True,
                                   seq=3))
        writer.write(RequestRecord(0.7, 0.7, 0.8, "tabular", "predict", "region-a", 200, True))
    return Answers.from_table(read_request_table(tmp_path, ANSWER_COLUMNS))


@pytest.fixture
def answers(tmp_path: Path) -> Answers:
    return read_back(tmp_path, [
        answer(1.0, ttft_s=0.1, itl=(0.01, 0.02, 0.03)),
        answer(2.0, ttft_s=0.3, cache="hit", recall=0.0, correct=0.0, f1=0.5),
        answer(3.0, ok=False),
        answer(4.0, ttft_s=0.5, degraded="embedder", variant="hybrid", recall=1.0, correct=0.0,
               f1=0.25, stream="resumed", resume_s=0.4),
        answer(6.0, endpoint="probe", question="fresh-20261202T000000Z-00000003-q0",
               ttft_s=0.2, recall=0.0, correct=0.0, f1=0.0, stream="duplicated",
               resume_s=0.8),
    ])


def test_only_the_rag_stacks_answers_are_read(answers: Answers) -> None:
    assert len(answers) == 5
    assert answers.endpoint.tolist() == ["ask", "ask", "ask", "ask", "probe"]
    assert answers.gaps.tolist() == [0.01, 0.02, 0.03, 0.02, 0.03, 0.02, 0.03, 0.02, 0.03]
    assert answers.gap_row.tolist() == [0, 0, 0, 1, 1, 3, 3, 4, 4]
    assert math.isnan(answers.ttft_s[2]) and math.isnan(answers.recall[2])


def test_the_figures_of_all_answers(answers: Answers) -> None:
    stats = answer_stats(answers)
    assert (stats.answers, stats.ok, stats.availability) == (5, 4, 0.8)
    # nearest rank over the four first tokens 0.1, 0.2, 0.3, 0.5
    assert (stats.ttft_p50_s, stats.ttft_p99_s, stats.without_token) == (0.2, 0.5, 1)
    assert stats.itl_p50_s == 0.02 and stats.itl_p99_s == 0.03
    assert stats.cache_hit_share == 1 / 4  # of the four that came back
    assert (stats.degraded, stats.degraded_share, stats.degraded_by) == (1, 0.25,
                                                                        {"embedder": 1})
    assert (stats.recall.mean, stats.recall.n) == (0.5, 4)
    assert stats.exact_match.mean == 0.25
    assert stats.f1.mean == pytest.approx((1 + 0.5 + 0.25 + 0) / 4)
    assert 0 <= stats.recall.low < 0.5 < stats.recall.high <= 1
    assert (stats.streams_broken, stats.streams_resumed, stats.streams_duplicated,
            stats.streams_unrecovered) == (2, 1, 1, 0)
    assert (stats.resume_p50_s, stats.resume_max_s) == (0.4, 0.8)


def test_scopes_variants_modes_and_fresh_questions_apart(answers: Answers) -> None:
    window = FaultWindow("outage", "region-a", 2.5, 4.5)
    figures = rag_figures(answers, [window], warmup_end_s=1.5, origin_s=0.0, bucket_s=5.0)
    assert figures.scopes["all"].answers == 4  # the one at 1 s is warm-up
    assert figures.scopes["during_faults"].answers == 2  # 3 s and 4 s
    assert figures.scopes["outside_faults"].answers == 2
    assert set(figures.variants) == {"vector", "hybrid"}
    assert figures.variants["hybrid"]["during_faults"].degraded == 1
    assert figures.modes["degraded"].answers == 1 and figures.modes["normal"].answers == 2
    assert figures.questions["fresh"].answers == 1
    assert figures.questions["fresh"].recall.mean == 0.0
    assert figures.questions["base"].answers == 3


def test_buckets_cover_the_run_and_keep_the_warm_up(answers: Answers) -> None:
    buckets = rag_buckets(answers, origin_s=0.0, bucket_s=5.0)
    assert [b.t_s for b in buckets] == [0.0, 5.0]
    first, second = buckets
    assert (first.answers, first.ok, first.labelled) == (4, 3, 3)
    assert first.recall == pytest.approx(2 / 3) and first.fresh_recall is None
    assert first.ttft_p50_s == 0.3 and first.degraded_share == pytest.approx(1 / 3)
    assert (second.answers, second.fresh_recall, second.recall) == (1, 0.0, 0.0)


def test_the_ttft_slo_counts_an_answer_without_a_token_as_too_slow(answers: Answers) -> None:
    loose = TtftSlo(kind="ttft", percentile=50, threshold_s=0.35, scope="all")
    measured, passed, message, judged = judge_rag_slo(loose, answers, [], None)
    assert (measured, passed, judged) == (0.3, True, 5)  # 0.1 0.2 0.3 0.5 inf: median 0.3
    worst = TtftSlo(kind="ttft", percentile=99, threshold_s=10, scope="all")
    measured, passed, message, _ = judge_rag_slo(worst, answers, [], None)
    assert measured is None and not passed and "no first token" in message


def test_quality_and_degraded_share_slos(answers: Answers) -> None:
    recall = QualitySlo(kind="quality", metric="recall", objective=0.5)
    assert judge_rag_slo(recall, answers, [], None)[:2] == (0.5, True)
    exact = QualitySlo(kind="quality", metric="exact_match", objective=0.3)
    assert judge_rag_slo(exact, answers, [], None)[:2] == (0.25, False)
    degraded = DegradedShareSlo(kind="degraded_share", max_share=0.2, scope="all")
    measured, passed, message, judged = judge_rag_slo(degraded, answers, [], None)
    assert (measured, passed, judged) == (0.25, False, 4) and "embedder 1" in message


def test_a_probe_about_a_document_never_acknowledged_is_not_judged(tmp_path: Path) -> None:
    """Ingest 3 was acknowledged (``read_back`` writes it), 4 never was: a wrong answer about
    3 is a wrong answer (a lost document), one about 4 asked what nobody promised to know."""
    fresh = "fresh-20261202T000000Z-0000000{}-q0"
    answers = read_back(tmp_path, [
        answer(1.0, endpoint="probe", question=fresh.format(3), seq=3, recall=0.0,
               correct=0.0, f1=0.0),
        answer(2.0, endpoint="probe", question=fresh.format(4), seq=4, recall=0.0,
               correct=0.0, f1=0.0)])
    assert answers.recall[0] == 0.0 and math.isnan(answers.recall[1])
    stats = answer_stats(answers)
    assert (stats.recall.n, stats.unjudged, stats.ok) == (1, 1, 2)


def test_nothing_to_judge_fails(tmp_path: Path) -> None:
    empty = read_back(tmp_path, [])
    slo = QualitySlo(kind="quality", objective=0.5)
    assert judge_rag_slo(slo, empty, [], None)[:2] == (None, False)
    assert judge_rag_slo(slo, None, [], None)[:2] == (None, False)
    assert answer_stats(empty).availability is None
    assert np.isnan(answer_stats(empty).recall.mean)


def test_ingests_acknowledged_and_pending_per_scope(tmp_path: Path) -> None:
    def ingest(t_s: float, *, status: int = 201, degraded: str = "") -> RequestRecord:
        return RequestRecord(t_s, t_s, t_s + 0.2, "rag", "ingest", "region-a", status,
                             status == 201, "" if status == 201 else "http_5xx",
                             degraded=degraded, seq=int(t_s))
    with RecordWriter(tmp_path / "requests-ingest.csv") as writer:
        for record in (ingest(0.5), ingest(2.0), ingest(3.0, degraded="embedder"),
                       ingest(4.0, degraded="embedder"), ingest(5.0, status=503),
                       ingest(8.0)):
            writer.write(record)
        writer.write(answer(2.5))
    table = read_request_table(tmp_path, ANSWER_COLUMNS)
    ingests = Ingests.from_table(table)
    assert len(ingests.requests) == 6 and ingests.degraded.tolist().count("embedder") == 2
    figures = rag_figures(Answers.from_table(table), [FaultWindow("s", "region-a", 2.9, 6.0)],
                          warmup_end_s=1.0, origin_s=0.0, bucket_s=5, ingests=ingests)
    counts = {scope: (each.sent, each.acknowledged, each.pending)
              for scope, each in figures.ingests.items()}
    # the warm-up's ingest (0.5 s) is out; 3, 4, 5 s are during the fault
    assert counts == {"all": (5, 4, 2), "outside_faults": (2, 2, 0),
                      "during_faults": (3, 2, 2)}
    assert figures.ingests["during_faults"].availability == 2 / 3
    assert rag_figures(Answers.from_table(table), [], warmup_end_s=None, origin_s=0.0,
                       bucket_s=5).ingests == {}
