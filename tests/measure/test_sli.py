from __future__ import annotations

import numpy as np
import pytest

from gameday.measure import (
    RequestArrays,
    aggregate,
    aggregate_slis,
    bucket_slis,
    fault_windows,
    percentile,
)
from gameday.records import EventKind, RequestRecord


def test_buckets_are_aligned_to_the_first_scheduled_time_and_gaps_are_kept(make_request):
    records = [make_request(100.3), make_request(101.2), make_request(103.4)]
    buckets = bucket_slis(records, bucket_s=1.0)
    assert [b.start_s for b in buckets] == pytest.approx([100.3, 101.3, 102.3, 103.3])
    assert [b.requests for b in buckets] == [2, 0, 0, 1]
    assert buckets[1].availability is None and buckets[1].p99_s is None


def test_bucket_counts_errors_and_availability(make_request):
    records = [make_request(0.1 * i, ok=i % 4 != 0) for i in range(10)]
    [bucket] = bucket_slis(records, bucket_s=1.0)
    assert (bucket.requests, bucket.ok, bucket.errors) == (10, 7, 3)
    assert bucket.availability == pytest.approx(0.7)


def test_latency_counts_from_the_scheduled_time_not_the_late_start(make_request):
    stalled = make_request(0.0, latency_s=0.300, lag_s=0.290)  # sent late, answered fast
    [bucket] = bucket_slis([stalled], bucket_s=1.0)
    assert bucket.p50_s == pytest.approx(0.300)


def test_latency_percentiles_include_failed_requests(make_request):
    records = [make_request(0.01 * i, latency_s=0.010) for i in range(98)]
    records += [make_request(0.99, ok=False, latency_s=2.0), make_request(0.995, ok=False,
                                                                          latency_s=2.0)]
    assert aggregate(records).p99_s == pytest.approx(2.0)


def test_percentiles_are_nearest_rank_observed_values():
    values_s = np.arange(1, 101, dtype=np.float64)
    assert percentile(values_s, 50) == 50
    assert percentile(values_s, 99) == 99
    assert percentile(values_s, 99.5) == 100
    assert percentile(np.array([]), 99) is None


def test_served_share_is_per_region_and_unserved_requests_are_left_out(make_request):
    records = [make_request(0.0, region="region-a"), make_request(0.1, region="region-b"),
               make_request(0.2, region="region-b"), make_request(0.3, ok=False)]
    [bucket] = bucket_slis(records, bucket_s=1.0)
    assert dict(bucket.served_share) == {"region-a": 0.25, "region-b": 0.5}


def test_aggregates_leave_out_warmup_and_split_by_fault_window(make_steady, join, make_event):
    warmup = make_steady(0.0, 3.0, ok=False)  # failures during warm-up count for nothing
    before = make_steady(3.0, 10.0)
    outage = make_steady(10.0, 12.0, ok=False)
    after = make_steady(12.0, 20.0, region="region-b")
    windows = fault_windows([make_event(10.0, EventKind.FAULT_START, "outage"),
                             make_event(12.0, EventKind.FAULT_END, "outage")])
    slis = aggregate_slis(join(warmup, before, outage, after), windows, warmup_end_s=3.0)
    assert (slis.overall.requests, slis.overall.errors) == (170, 20)
    assert slis.outside_faults.availability == 1.0
    assert (slis.during_faults.requests, slis.during_faults.availability) == (20, 0.0)
    assert {r: a.requests for r, a in slis.by_region.items()} == {"region-a": 70,
                                                                   "region-b": 80}


def test_a_request_still_in_flight_when_the_fault_began_is_during_it(make_request, make_event):
    """A slow answer sent just before a region died is the fault's casualty: counting it
    outside faults would charge the fault's damage to the steady state."""
    windows = fault_windows([make_event(10.0, EventKind.FAULT_START, "outage")])
    in_flight = make_request(9.95, ok=False, latency_s=1.0)
    done_before = make_request(9.0, latency_s=0.5)
    slis = aggregate_slis([in_flight, done_before], windows, warmup_end_s=None)
    assert slis.outside_faults.requests == 1 and slis.during_faults.requests == 1
    assert slis.during_faults.errors == 1


def test_an_open_fault_window_reaches_the_end_of_data(make_steady, make_event):
    windows = fault_windows([make_event(5.0, EventKind.FAULT_START, "outage")])
    slis = aggregate_slis(make_steady(0.0, 60.0), windows, warmup_end_s=None)
    assert slis.during_faults.requests == 550


def test_an_empty_run_has_no_buckets_and_no_figures():
    assert bucket_slis([], bucket_s=1.0) == []
    slis = aggregate_slis(RequestArrays.of([]), [], warmup_end_s=None)
    assert slis.overall.requests == 0
    assert slis.overall.availability is None and slis.overall.p99_s is None
    assert dict(slis.by_region) == {}


def test_buckets_can_be_aligned_to_the_load_start(make_request):
    records = [make_request(100.3), make_request(101.2)]
    buckets = bucket_slis(records, bucket_s=1.0, origin_s=100.0)
    assert [b.start_s for b in buckets] == [100.0, 101.0]
    assert [b.requests for b in buckets] == [1, 1]


def test_bucket_breaks_failures_down_by_error_kind_and_http_status():
    records = [RequestRecord(0.1 * i, 0.1 * i, 0.1 * i + 0.01, "tabular", "predict", region,
                             status, ok, kind)
               for i, (region, status, ok, kind) in enumerate([
                   ("region-a", 200, True, ""), ("", 0, False, "timeout"),
                   ("", 503, False, "http_5xx"), ("", 503, False, "http_5xx"),
                   ("region-a", 200, False, "payload"), ("", 0, False, "connection")])]
    [bucket] = bucket_slis(records, bucket_s=1.0)
    assert bucket.errors_by_kind == {"timeout": 1, "http_5xx": 2, "payload": 1, "connection": 1}
    assert bucket.errors_by_status == {0: 2, 503: 2, 200: 1}  # a 200 with a bad payload
    assert sum(bucket.errors_by_kind.values()) == bucket.errors
