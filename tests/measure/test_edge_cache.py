"""The edge cache's figures on a synthetic run folder: requests with the real RecordWriter, a
fault window with the real EventLog, each bucket's hit ratio known by construction."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.measure import fault_windows
from gameday.measure.edge_cache import cache_figures
from gameday.measure.waf_log import EdgeRequests
from gameday.records import EventKind, EventLog, RecordWriter, RequestRecord, read_events

T0 = 1_764_061_200.0


def answer(at_s: float, cache: str, *, ok: bool = True, latency_s: float = 0.02,
           region: str | None = None) -> RequestRecord:
    """One request at ``T0 + at_s``; one the cache served says region ``edge``."""
    if region is None:
        region = "edge" if cache in ("HIT", "STALE", "UPDATING") else ("region-a" if ok else "")
    return RequestRecord(T0 + at_s, T0 + at_s, T0 + at_s + latency_s, "tabular", "predict",
                         region, 200 if ok else 0, ok, "" if ok else "timeout",
                         edge_cache=cache, waf="" if not ok else "blocking")


RECORDS = [
    # bucket 0 (0-1 s), the warm-up: 3 through the cache, 2 served
    answer(0.1, "MISS", latency_s=0.030), answer(0.4, "HIT", latency_s=0.002),
    answer(0.6, "HIT", latency_s=0.004), answer(0.8, "NONE"),
    # bucket 1: nothing through the cache
    answer(1.5, "NONE"),
    # bucket 2, the fault (2-3 s): 2 stale answers, 2 that failed (no edge answer)
    answer(2.1, "STALE", latency_s=0.003), answer(2.3, "UPDATING", latency_s=0.005),
    answer(2.5, "", ok=False, latency_s=1.0), answer(2.7, "", ok=False, latency_s=1.0),
    # bucket 3: a hit and two misses after the fault
    answer(3.2, "HIT", latency_s=0.001), answer(3.5, "MISS", latency_s=0.040),
    answer(3.8, "EXPIRED", latency_s=0.050),
]


def write_run(run_dir: Path) -> Path:
    run_dir.mkdir(parents=True)
    with RecordWriter(run_dir / "requests-gen0.csv") as writer:
        for record in RECORDS:
            writer.write(record)
    log = EventLog(run_dir / "events.jsonl")
    log.emit(EventKind.LOAD_START, t_s=T0)
    log.emit(EventKind.FAULT_START, "region-outage", t_s=T0 + 2, target_region="region-a")
    log.emit(EventKind.FAULT_END, "region-outage", t_s=T0 + 3)
    return run_dir


@pytest.fixture
def cache(tmp_path):
    run_dir = write_run(tmp_path / "run")
    return cache_figures(EdgeRequests.read(run_dir), fault_windows(read_events(run_dir)),
                         bucket_s=1.0, origin_s=T0, warmup_end_s=T0 + 1)


def test_each_bucket_has_its_hit_ratio_over_the_answers_through_the_cache(cache):
    assert [(b.through_cache, b.served) for b in cache.buckets] == [(3, 2), (0, 0), (2, 2),
                                                                    (3, 1)]
    ratios = [b.hit_ratio for b in cache.buckets]
    assert ratios[0] == pytest.approx(2 / 3) and ratios[1] is None
    assert ratios[2] == 1.0 and ratios[3] == pytest.approx(1 / 3)
    assert [b.start_s - T0 for b in cache.buckets] == [0.0, 1.0, 2.0, 3.0]


def test_during_the_fault_the_cache_served_stale_answers_and_the_rest_failed(cache):
    [window] = cache.windows
    assert window.scenario == "region-outage" and window.target_region == "region-a"
    assert (window.requests, window.through_cache, window.served, window.stale,
            window.failed) == (4, 2, 2, 2, 2)
    assert window.hit_ratio == 1.0


def test_the_run_wide_hit_ratio_leaves_the_warm_up_out(cache):
    # after 1 s: through the cache STALE, UPDATING, HIT, MISS, EXPIRED; served 3
    assert (cache.through_cache, cache.served, cache.stale) == (5, 3, 2)
    assert cache.hit_ratio == pytest.approx(3 / 5)
    assert cache.statuses == {"EXPIRED": 1, "HIT": 1, "MISS": 1, "STALE": 1, "UPDATING": 1}


def test_hits_are_timed_against_misses(cache):
    # hits after the warm-up: 3, 5 and 1 ms; misses 40 and 50 ms (nearest rank)
    assert cache.hits_timed == 3 and cache.misses_timed == 2
    assert cache.hit_p50_s == pytest.approx(0.003, abs=1e-6)
    assert cache.hit_p99_s == pytest.approx(0.005, abs=1e-6)
    assert cache.miss_p50_s == pytest.approx(0.040, abs=1e-6)
    assert cache.miss_p99_s == pytest.approx(0.050, abs=1e-6)


def test_a_run_with_nothing_through_the_cache_has_no_cache_figures(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with RecordWriter(run_dir / "requests-gen0.csv") as writer:
        writer.write(answer(0.5, "NONE"))
        writer.write(answer(0.7, "", ok=False))
    assert cache_figures(EdgeRequests.read(run_dir), [], bucket_s=1.0, origin_s=T0,
                         warmup_end_s=None) is None


def test_an_answer_from_region_edge_counts_as_served_by_the_cache(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with RecordWriter(run_dir / "requests-gen0.csv") as writer:
        writer.write(answer(0.5, "", region="edge"))
        writer.write(answer(0.7, "MISS"))
    figures = cache_figures(EdgeRequests.read(run_dir), [], bucket_s=1.0, origin_s=T0,
                            warmup_end_s=None)
    assert (figures.through_cache, figures.served, figures.hit_ratio) == (2, 1, 0.5)
