"""The Triton figures on hand-made samples, each expected figure worked out by hand.

Two servers, scraped from t = 1000 s (the load start), 5 s buckets, region-a's outage from
1010 to 1020 s. triton-server-a1 serves 20 inferences/s in batches of 4 until it is killed,
and comes back with its counters restarted from zero (1022 s). triton-server-b1 takes the
failover load in batches of 10, queueing 70 % of its server time, then idles; no server
answers a scrape between 1015 and 1020 s (an empty bucket).

Deltas (inferences, executions, requests, request / queue / compute µs) per interval:

    a1  1000→1002→1004→1006   40, 10, 40, 40000 / 16000 / 20000 each       outside
    a1  1006→1022             30,  3, 30, 30000 / 21000 /  6000 (reset)    during (overlaps)
    a1  1022→1024             40, 10, 40, 40000 / 16000 / 20000            outside
    b1  1001→1003             20,  5, 20, 20000 /  8000 / 10000            outside
    b1  1003→1011            400, 40, 400, 400000 / 280000 / 80000, 5 rejected, pending 12
    b1  1011→1013            200, 20, 200, 200000 / 140000 / 40000, pending 3, queue p99 12 ms
    b1  1013→1021, 1021→1023  nothing (during, outside)
"""

from __future__ import annotations

import pytest

from gameday.measure.triton import TritonFigures, TritonStats, triton_figures
from gameday.measure.windows import FaultWindow
from gameday.tritonrecords import TritonSample

A1, B1 = "triton-server-a1", "triton-server-b1"
WINDOWS = [FaultWindow("region-outage", "region-a", 1010.0, 1020.0)]


def _sample(member: str, t_s: float, counts: tuple[int, int, int], us: tuple[int, int, int],
            *, rejected: int = 0, pending: int = 0, queue_p99_us: float | None = None,
            version: str = "1", gpu: tuple[float, float] | None = None) -> TritonSample:
    """``counts``: cumulative inferences, executions, successes; ``us``: cumulative request,
    queue and compute-infer microseconds."""
    return TritonSample(
        t_s=t_s, member=member, region="region-a" if member == A1 else "region-b",
        model="fraud", version=version, inference_count=counts[0], exec_count=counts[1],
        request_success=counts[2], request_failure=rejected,
        failure_by_reason={"REJECTED": rejected, "OTHER": 0}, request_us=us[0],
        queue_us=us[1], compute_infer_us=us[2], pending_requests=pending,
        queue_p99_us=queue_p99_us, gpu_utilization=None if gpu is None else gpu[0],
        gpu_memory_used_bytes=None if gpu is None else gpu[1],
        gpu_memory_total_bytes=None if gpu is None else 8e9)


def _samples() -> list[TritonSample]:
    a1 = [_sample(A1, 1000, (100, 25, 100), (100000, 40000, 50000)),
          _sample(A1, 1002, (140, 35, 140), (140000, 56000, 70000)),
          _sample(A1, 1004, (180, 45, 180), (180000, 72000, 90000)),
          _sample(A1, 1006, (220, 55, 220), (220000, 88000, 110000)),
          _sample(A1, 1022, (30, 3, 30), (30000, 21000, 6000)),  # restarted
          _sample(A1, 1024, (70, 13, 70), (70000, 37000, 26000))]
    b1 = [_sample(B1, 1001, (0, 0, 0), (0, 0, 0)),
          _sample(B1, 1003, (20, 5, 20), (20000, 8000, 10000)),
          _sample(B1, 1011, (420, 45, 420), (420000, 288000, 90000), rejected=5, pending=12,
                  queue_p99_us=9000),
          _sample(B1, 1013, (620, 65, 620), (620000, 428000, 130000), rejected=5, pending=3,
                  queue_p99_us=12000),
          _sample(B1, 1021, (620, 65, 620), (620000, 428000, 130000), rejected=5),
          _sample(B1, 1023, (620, 65, 620), (620000, 428000, 130000), rejected=5)]
    return sorted(a1 + b1, key=lambda s: s.t_s)


def _figures(samples: list[TritonSample] | None = None,
             warmup_end_s: float | None = None) -> TritonFigures:
    return triton_figures(_samples() if samples is None else samples, WINDOWS,
                          warmup_end_s=warmup_end_s, origin_s=1000.0, bucket_s=5.0)


def test_during_the_outage_the_failover_server_batches_ten_and_queues_most_of_its_time(
        ) -> None:
    during = _figures().scopes["during_faults"]
    assert (during.inferences, during.executions, during.requests) == (630, 63, 630)
    assert during.batch_size == pytest.approx(10.0)  # 630 / 63
    assert during.queue_per_request_s == pytest.approx(700e-6)  # 441000 µs / 630
    assert during.compute_per_request_s == pytest.approx(200e-6)  # 126000 µs / 630
    assert during.server_per_request_s == pytest.approx(1e-3)  # 630000 µs / 630
    assert during.queue_share == pytest.approx(0.7)  # 441000 / 630000
    # a1: 30 over its 16 s interval across the outage; b1: 600 over 8 + 2 + 8 s
    assert during.inferences_per_s == pytest.approx(30 / 16 + 600 / 18)
    assert during.failures == 5 and during.failures_by_reason == {"OTHER": 0, "REJECTED": 5}
    assert during.failures_per_s == pytest.approx(0 / 16 + 5 / 18)
    assert during.max_pending == 12 and during.queue_p99_max_s == pytest.approx(0.012)


def test_outside_faults_both_servers_batch_four() -> None:
    outside = _figures().scopes["outside_faults"]
    assert (outside.inferences, outside.executions, outside.requests) == (180, 45, 180)
    assert outside.batch_size == pytest.approx(4.0)
    assert outside.queue_per_request_s == pytest.approx(400e-6)  # 72000 µs / 180
    assert outside.compute_per_request_s == pytest.approx(500e-6)  # 90000 µs / 180
    assert outside.queue_share == pytest.approx(0.4)  # 72000 / 180000
    # a1: 160 over 6 + 2 s (its first scrape covers nothing); b1: 20 over 2 + 2 s
    assert outside.inferences_per_s == pytest.approx(20.0 + 5.0)
    assert outside.requests_per_s == pytest.approx(25.0)
    assert outside.failures == 0 and outside.queue_p99_max_s is None


def test_a_restarted_server_counts_from_zero_not_below_it() -> None:
    a1 = _figures().members[A1]
    assert a1["during_faults"].inferences == 30 and a1["during_faults"].executions == 3
    assert a1["all"].inferences == 190  # 3 x 40 + 30 + 40
    assert a1["all"].batch_size == pytest.approx(190 / 43)
    assert a1["all"].inferences_per_s == pytest.approx(190 / 24)  # 0 + 6 + 16 + 2 s


def test_the_whole_run_pools_every_server() -> None:
    every = _figures().scopes["all"]
    assert (every.inferences, every.executions, every.scrapes) == (810, 108, 12)
    assert every.batch_size == pytest.approx(7.5)
    assert every.inferences_per_s == pytest.approx(190 / 24 + 620 / 22)


def test_buckets_follow_the_failover_and_an_empty_bucket_has_no_figures() -> None:
    buckets = _figures().buckets
    assert [b.t_s for b in buckets] == [0.0, 5.0, 10.0, 15.0, 20.0]
    first, second, failover, empty, back = buckets
    assert first.inferences_per_s == pytest.approx(80 / 4 + 20 / 2)
    assert first.batch_size == pytest.approx(4.0) and first.requests == 100
    assert second.inferences_per_s == pytest.approx(20.0)  # b1 not scraped in it
    assert failover.inferences_per_s == pytest.approx(600 / 10)
    assert failover.batch_size == pytest.approx(10.0)
    assert failover.queue_per_request_s == pytest.approx(700e-6)
    assert failover.max_pending == 12
    assert failover.queue_p99_s == pytest.approx(0.012)  # the latest, not the first
    assert empty.requests == 0
    assert (empty.inferences_per_s, empty.batch_size, empty.queue_per_request_s,
            empty.max_pending, empty.queue_p99_s) == (None, None, None, None, None)
    assert back.inferences_per_s == pytest.approx(70 / 18 + 0 / 10)
    assert back.batch_size == pytest.approx(70 / 13)


def test_a_server_bucket_without_requests_has_a_rate_of_zero_and_no_batch_size() -> None:
    b1_back = _figures().member_buckets[B1][4]
    assert b1_back.requests == 0 and b1_back.inferences_per_s == 0.0
    assert b1_back.batch_size is None and b1_back.queue_per_request_s is None
    assert b1_back.queue_share is None and b1_back.max_pending == 0


def test_the_warm_up_counts_in_the_buckets_but_not_in_the_scopes() -> None:
    figures = _figures(warmup_end_s=1001.5)
    # out: a1 1000→1000, 1000→1002 (40 inferences); b1 1001→1001, 1001→1003 (20)
    assert figures.scopes["all"].inferences == 810 - 40 - 20
    assert figures.buckets[0].requests == 100


def test_no_samples_give_figures_with_nothing_measured() -> None:
    figures = _figures([])
    assert figures.members == {} and figures.buckets == () and figures.member_buckets == {}
    for stats in figures.scopes.values():
        assert stats == TritonStats(
            scrapes=0, inferences=0, executions=0, requests=0, failures=0,
            failures_by_reason={}, inferences_per_s=None, requests_per_s=None,
            failures_per_s=None, batch_size=None, queue_per_request_s=None,
            compute_per_request_s=None, server_per_request_s=None, queue_share=None,
            max_pending=None, queue_p99_max_s=None, gpu_utilization=None,
            gpu_memory_used_max_bytes=None, gpu_memory_total_bytes=None)


def test_a_version_loaded_mid_run_counts_from_zero_and_adds_to_its_server() -> None:
    samples = [_sample(A1, 1000, (10, 5, 10), (0, 0, 0), pending=1),
               _sample(A1, 1002, (20, 10, 20), (0, 0, 0), pending=1),
               _sample(A1, 1002, (8, 2, 8), (0, 0, 0), version="2", pending=2)]
    every = _figures(samples).scopes["all"]
    assert every.inferences == 10 + 8 and every.executions == 5 + 2
    assert every.max_pending == 3  # 1 + 2, one server
    assert every.inferences_per_s == pytest.approx(18 / 2)


def test_gpu_figures_are_the_mean_utilisation_and_the_highest_memory_and_none_on_a_cpu(
        ) -> None:
    samples = [_sample(A1, 1000, (0, 0, 0), (0, 0, 0), gpu=(0.5, 1.0e9)),
               _sample(A1, 1001, (0, 0, 0), (0, 0, 0), gpu=(0.7, 1.2e9)),
               _sample(B1, 1001, (0, 0, 0), (0, 0, 0))]
    figures = _figures(samples)
    assert figures.scopes["all"].gpu_utilization == pytest.approx(0.6)
    assert figures.scopes["all"].gpu_memory_used_max_bytes == 1.2e9
    assert figures.scopes["all"].gpu_memory_total_bytes == 8e9
    assert figures.members[B1]["all"].gpu_utilization is None
    assert figures.buckets[0].gpu_memory_used_bytes == 1.2e9


def test_buckets_run_from_the_first_scrape_to_the_last_however_early_the_origin() -> None:
    figures = triton_figures(_samples(), WINDOWS, warmup_end_s=None, origin_s=0.0,
                             bucket_s=5.0)
    assert [b.t_s for b in figures.buckets] == [1000.0, 1005.0, 1010.0, 1015.0, 1020.0]
