"""The RAG load as the generator child sends it, against a real replica: streamed questions
timed token by token and judged, numbered ingests the store really holds, and probes that
follow the ingests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gameday.load import LoadPlan, LoadProcess
from gameday.records import RequestRecord, read_requests
from tests.pgcluster import PgCluster
from tests.targets.rag.conftest import SEEDED_DOCUMENTS

INGEST_RATE_PER_S = 3.0
INGESTS = 12  # 4 s at 3/s


@dataclass
class MixedRun:
    records: list[RequestRecord]
    run_key: str


def _plan(url: str, endpoint: str, rate_per_s: float, start_at_s: float, **extra: object
          ) -> LoadPlan:
    return LoadPlan(base_url=url, stack="rag", endpoint=endpoint, arrival="constant",
                    rate_per_s=rate_per_s, duration_s=4.0, warmup_s=0.0, timeout_s=5.0,
                    concurrency=8, lag_bound_s=0.2, start_at_s=start_at_s, run_key="mix1",
                    documents=SEEDED_DOCUMENTS, **extra)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def mixed_run(replica: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MixedRun]:
    """Asks at 4/s, ingests at 3/s and probes at 2/s (following the ingests 2 s behind),
    all for 4 s from the same start, each its own generator child."""
    run_dir: Path = tmp_path_factory.mktemp("rag-load")
    start_at_s = time.time() + 6.0
    plans = {"ask": _plan(replica, "ask", 4, start_at_s),
             "ingest": _plan(replica, "ingest", INGEST_RATE_PER_S, start_at_s),
             "probe": _plan(replica, "probe", 2, start_at_s,
                            follow_rate_per_s=INGEST_RATE_PER_S, follow_lag_s=2.0)}
    generators = [LoadProcess.start(plan, run_dir, name=name) for name, plan in plans.items()]
    try:
        for generator in generators:
            assert generator.wait(timeout_s=60) == 0, generator.log_tail()
    finally:
        for generator in generators:
            generator.stop()
    yield MixedRun(read_requests(run_dir), "mix1")


def _of(run: MixedRun, endpoint: str) -> list[RequestRecord]:
    return [r for r in run.records if r.endpoint == endpoint]


def test_every_streamed_answer_is_recorded_with_its_token_timing(mixed_run: MixedRun) -> None:
    asks = _of(mixed_run, "ask")
    assert len(asks) == 16
    for record in asks:
        assert record.ok and record.stream == "complete", record
        assert record.ttft_s is not None and 0 < record.ttft_s <= record.latency_s
        assert len(record.itl_s) >= 1 and all(gap >= 0 for gap in record.itl_s)
        assert record.variant in ("vector", "hybrid") and record.cache in ("hit", "miss")
        assert record.question.startswith("kb-") and record.recall in (0.0, 1.0)
        assert record.correct in (0.0, 1.0) and record.f1 is not None


def test_the_answers_are_judged_against_their_labelled_questions(mixed_run: MixedRun) -> None:
    asks = _of(mixed_run, "ask")
    recall = sum(r.recall or 0.0 for r in asks) / len(asks)
    assert recall >= 0.75, f"recall {recall:.2f}"


def test_every_ingest_is_acknowledged_with_its_seq_and_stored_once(
        mixed_run: MixedRun, cluster: PgCluster) -> None:
    ingests = _of(mixed_run, "ingest")
    assert sorted(r.seq for r in ingests if r.seq is not None) == list(range(INGESTS))
    assert all(r.ok and r.status == 201 for r in ingests)
    stored = cluster.sql(cluster.primary, "SELECT seq FROM rag_documents WHERE run_key = %s "
                         "ORDER BY seq", (mixed_run.run_key,))
    assert [row[0] for row in stored] == list(range(INGESTS))


def test_probes_alternate_corpus_questions_and_questions_about_recent_ingests(
        mixed_run: MixedRun) -> None:
    probes = _of(mixed_run, "probe")
    fresh = [r for r in probes if r.question.startswith("fresh-")]
    assert fresh and len(fresh) < len(probes)
    for record in fresh:
        # sent about 2 s behind the ingest that wrote the document it asks about
        assert record.seq is not None and record.question.endswith(f"{record.seq:08d}-q0")
        assert record.seq <= (record.scheduled_s - fresh[0].scheduled_s + 2) * INGEST_RATE_PER_S
    acked_s = {r.seq: r.end_s for r in _of(mixed_run, "ingest") if r.ok}
    # answerable: its document was acknowledged (and had time to reach the replica's node)
    # before the question was asked
    due = [r for r in fresh if acked_s.get(r.seq, float("inf")) < r.scheduled_s - 0.5]
    assert due, "no probe came after its document was acknowledged"
    assert all(r.recall == 1.0 for r in due), [(r.seq, r.recall, r.degraded) for r in due]

