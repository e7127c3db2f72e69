"""The pacer sending the labelled set (endpoint ``attack``) and a repeating body pool
(``distinct_bodies``), run as the real generator child against a real local server that
marks its answers as the edge does."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gameday.load import LoadPlan, LoadProcess
from gameday.load.attacks import labelled_mix
from gameday.records import Event, EventKind, RequestRecord, read_events, read_requests
from tests.load.fake_edge import FakeEdge

Run = Callable[[LoadPlan, Path], tuple[list[RequestRecord], list[Event]]]
BLOCKS = ("sqli", "xss")  # the fake's WAF refuses these; traversal gets through


@pytest.fixture
def fake_edge() -> Iterator[FakeEdge]:
    edge = FakeEdge(blocks=BLOCKS)
    yield edge
    edge.close()


@dataclass
class AttackRun:
    plan: LoadPlan
    records: list[RequestRecord]
    events: list[Event]
    edge: FakeEdge


@pytest.fixture(scope="module")
def attack_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AttackRun]:
    """The tabular mix (61 requests) at 100 req/s for 1 s through a /tabular prefix."""
    edge = FakeEdge(blocks=BLOCKS)
    run_dir = tmp_path_factory.mktemp("attack")
    plan = LoadPlan(base_url=f"{edge.url}/tabular", endpoint="attack", arrival="constant",
                    rate_per_s=100.0, duration_s=1.0, warmup_s=0.0, timeout_s=1.0,
                    concurrency=20, seed=5)
    with LoadProcess.start(plan, run_dir) as generator:
        assert generator.wait(timeout_s=60) == 0, generator.log_tail()
    yield AttackRun(plan, read_requests(run_dir), read_events(run_dir), edge)
    edge.close()


def test_each_send_goes_with_its_own_path_body_and_label_in_the_mix_order(
        attack_run: AttackRun) -> None:
    plan, records = attack_run.plan, attack_run.records
    mix = labelled_mix("tabular", seed=plan.seed)
    assert len(records) == 100 > len(mix)
    ordered = sorted(records, key=lambda r: r.scheduled_s)
    assert [r.label for r in ordered] == [mix[i % len(mix)].label for i in range(100)]
    expected = Counter(("/tabular" + mix[i % len(mix)].path, mix[i % len(mix)].body,
                        mix[i % len(mix)].label) for i in range(100))
    assert Counter((s.path, s.body, s.label) for s in attack_run.edge.seen) == expected


def test_records_judge_each_answer_by_its_label_against_the_fake_s_ground_truth(
        attack_run: AttackRun) -> None:
    for record in attack_run.records:
        if record.label in BLOCKS:
            assert (record.status, record.waf, record.ok) == (403, "blocked", True)
        elif record.label == "oversized":  # the fake's own 413, then it closes the connection
            assert (record.status, record.region, record.ok) == (413, "", True)
        elif record.label == "traversal":  # got through: answered, or the fake's own 404
            assert (record.waf, record.ok) == ("blocking", False)
            assert (record.status, record.error_kind) in ((200, "payload"), (404, "http_4xx"))
        else:
            assert (record.label, record.status, record.ok) == ("benign", 200, True)
        assert record.endpoint == "attack"


def test_records_carry_the_edge_cache_status_of_each_answer(attack_run: AttackRun) -> None:
    records, events = attack_run.records, attack_run.events
    assert Counter(r.edge_cache for r in records) == \
        Counter(s.cache for s in attack_run.edge.seen)
    assert {r.edge_cache for r in records} == {"HIT", "MISS", "NONE"}
    (end,) = [e for e in events if e.kind == EventKind.LOAD_END]
    assert end.detail["ok"] == sum(r.ok for r in records)


def test_distinct_bodies_make_the_ordinary_load_repeat_its_bodies(
        fake_edge: FakeEdge, tmp_path: Path, quick_plan: Callable[..., LoadPlan],
        run_generator: Run) -> None:
    plan = quick_plan(f"{fake_edge.url}/tabular", rate_per_s=40.0, distinct_bodies=3)
    records, _ = run_generator(plan, tmp_path)
    assert len(records) == 20 and all(r.ok for r in records)
    assert len({s.body for s in fake_edge.seen}) == 3
    assert {s.path for s in fake_edge.seen} == {"/tabular/predict"}
    assert Counter(r.edge_cache for r in records) == {"MISS": 3, "HIT": 17}
    assert {(r.waf, r.label) for r in records} == {("blocking", "")}


def test_distinct_bodies_cut_the_labelled_mix_short(
        fake_edge: FakeEdge, tmp_path: Path, quick_plan: Callable[..., LoadPlan],
        run_generator: Run) -> None:
    plan = quick_plan(f"{fake_edge.url}/tabular", endpoint="attack", distinct_bodies=4,
                      seed=5)
    run_generator(plan, tmp_path)
    first = labelled_mix("tabular", seed=5, count=4)
    assert {(s.path, s.body) for s in fake_edge.seen} == \
        {("/tabular" + r.path, r.body) for r in first}
