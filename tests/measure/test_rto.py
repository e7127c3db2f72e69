from __future__ import annotations

import pytest

from gameday.config import RtoSlo, Scenario, Suite
from gameday.measure import fault_windows, measure_rto, scenario_rtos
from gameday.records import EventKind, RequestRecord

FAULT_S = 10.0
SPACING_S = 0.1


def rto_of(records, **overrides):
    options = {"fault_start_s": FAULT_S, "faulted_region": "region-a",
               "stability_window_s": 5.0, "latency_slo_s": 0.25, **overrides}
    return measure_rto(records, **options)


def test_no_failure_at_all_gives_rto_zero_and_nothing_detected(make_steady):
    rto = rto_of(make_steady(0.0, 30.0))
    assert rto.recovered and rto.rto_s == 0.0 and rto.recover_s == 0.0
    assert rto.detect_s is None and rto.failover_s is None
    assert rto.bad_requests == 0


def test_rto_ends_at_the_first_fully_successful_window(make_steady, join):
    # ground truth: every request scheduled in [10, 12) fails, region-b serves from 12 s on
    records = join(make_steady(0.0, 10.0), make_steady(10.0, 12.0, ok=False),
                   make_steady(12.0, 30.0, region="region-b", latency_s=0.040))
    rto = rto_of(records)
    assert rto.recovered
    assert rto.rto_s == pytest.approx(2.0, abs=SPACING_S)
    assert rto.recovered_at_s == pytest.approx(12.0)
    assert rto.detect_s == pytest.approx(0.010)  # the first failure's end
    assert rto.failover_s == pytest.approx(2.040)  # first region-b answer's end
    assert rto.resolution_s == pytest.approx(SPACING_S)
    assert (rto.requests, rto.bad_requests, rto.failed_requests) == (20, 20, 20)


def test_never_recovered_when_failures_last_to_the_end(make_steady, join):
    rto = rto_of(join(make_steady(0.0, 10.0), make_steady(10.0, 30.0, ok=False)))
    assert not rto.recovered and rto.rto_s is None and rto.recover_s is None
    assert rto.detect_s == pytest.approx(0.010)
    assert rto.bad_requests == 200


def test_not_recovered_when_the_data_ends_before_a_full_stability_window(make_steady, join):
    records = join(make_steady(0.0, 10.0), make_steady(10.0, 12.0, ok=False),
                   make_steady(12.0, 16.0))  # 4 s of good data < W = 5 s
    assert not rto_of(records).recovered


def test_flapping_recovery_does_not_count(make_steady, join):
    records = join(make_steady(10.0, 11.0, ok=False),
                   make_steady(11.0, 13.0),  # good for 2 s < W
                   make_steady(13.0, 14.0, ok=False),  # bad again
                   make_steady(14.0, 30.0))
    rto = rto_of(records)
    assert rto.rto_s == pytest.approx(4.0, abs=SPACING_S)
    assert rto.bad_requests == 20


def test_slow_but_ok_requests_are_bad_for_rto(make_steady, join):
    records = join(make_steady(10.0, 13.0, latency_s=0.400),  # ok, but over the 250 ms bound
                   make_steady(13.0, 30.0))
    rto = rto_of(records)
    assert rto.rto_s == pytest.approx(3.0, abs=SPACING_S)
    assert rto.detect_s == pytest.approx(0.400)
    assert (rto.bad_requests, rto.failed_requests, rto.slow_requests) == (30, 0, 30)


def test_failover_without_any_failed_request(make_steady, join):
    records = join(make_steady(0.0, 10.5), make_steady(10.5, 30.0, region="region-b"))
    rto = rto_of(records)
    assert rto.rto_s == 0.0 and rto.detect_s is None
    assert rto.failover_s == pytest.approx(0.510)


def test_failover_ignores_answers_from_the_faulted_region_and_failed_answers(make_request):
    records = [make_request(10.1, ok=False, region="region-b"),  # a 503 from region-b
               make_request(10.2, region="region-a"),
               make_request(10.3, region="region-b", latency_s=0.05)]
    assert rto_of(records).failover_s == pytest.approx(0.35)


def test_an_answer_from_the_edge_cache_is_no_failover(make_request):
    # the edge's cache answered (stale) while region-a was down; region-b took over later
    records = [make_request(10.1, region="edge", latency_s=0.005),
               make_request(10.2, region="edge", latency_s=0.005),
               make_request(12.0, region="region-b", latency_s=0.05)]
    assert rto_of(records).failover_s == pytest.approx(2.05)


def test_bad_requests_before_the_fault_do_not_delay_recovery(make_steady, join):
    records = join(make_steady(5.0, 9.0, ok=False), make_steady(9.0, 30.0))
    rto = rto_of(records)
    assert rto.rto_s == 0.0 and rto.detect_s is None


def test_a_request_in_flight_at_the_fault_counts_for_detection(make_request, make_steady, join):
    in_flight = make_request(9.95, ok=False, latency_s=0.3)  # refused when the region died
    rto = rto_of(join([in_flight], make_steady(10.0, 30.0)))
    assert rto.detect_s == pytest.approx(0.25)
    assert rto.rto_s == 0.0  # it was scheduled before the fault: not in any window after it


def test_no_data_after_the_fault_is_not_a_recovery(make_steady):
    rto = rto_of(make_steady(0.0, 9.0))
    assert not rto.recovered and rto.rto_s is None


def test_scenario_rtos_use_the_logged_fault_start_and_target(make_steady, join, make_event):
    suite = Suite(name="s", scenarios=[Scenario(name="outage", experiment="e.json",
                                                target_region="region-b")],
                  slos=[RtoSlo(kind="rto", threshold_s=5)])
    windows = fault_windows([make_event(10.0, EventKind.FAULT_START, "outage",
                                        target_region="region-a")])
    records = join(make_steady(0.0, 10.0), make_steady(10.0, 11.0, ok=False),
                   make_steady(11.0, 30.0, region="region-b"))
    rtos = scenario_rtos(records, windows, suite)
    assert list(rtos) == ["outage"]
    assert rtos["outage"].rto_s == pytest.approx(1.0, abs=SPACING_S)
    assert rtos["outage"].failover_s == pytest.approx(1.010)  # region-a was the faulted one


def test_a_fault_nobody_noticed_has_no_parts_from_a_later_fault(make_steady, join):
    """Two faults in one run: the first harmless (a hot-swap), the second failing requests;
    the first's detect and failover are not the second's."""
    good_a = make_steady(0.0, 20.0)
    later = [RequestRecord(t, t, t + 0.01, "tabular", "predict", "", 0, False, "timeout")
             for t in (12.0, 12.1)]
    records = join(good_a, later)
    rto = measure_rto(records, fault_start_s=5.0, faulted_region="region-a",
                      stability_window_s=2.0, latency_slo_s=0.25, fault_end_s=8.0)
    assert rto.rto_s == 0.0 and rto.detect_s is None and rto.failover_s is None
    unbounded = measure_rto(records, fault_start_s=5.0, faulted_region="region-a",
                            stability_window_s=2.0, latency_slo_s=0.25)
    assert unbounded.detect_s == pytest.approx(7.01)  # what it said before the bound


def test_two_generators_sending_at_the_same_instants_still_recover(make_steady, join):
    """A write generator and a probe generator scheduled at the same instants (1 s apart):
    the writes fail until 21 s after the fault, the probes never. The request after the last
    bad write is its twin at the same instant (the row after it), so recovery must be looked
    for from the first request scheduled strictly later (rag suite, clean clone: "never")."""
    writes = join(make_steady(0.0, FAULT_S, spacing_s=1.0),
                  make_steady(FAULT_S, FAULT_S + 21.0, spacing_s=1.0, ok=False),
                  make_steady(FAULT_S + 21.0, 60.0, spacing_s=1.0, region="region-b"))
    probes = make_steady(0.0, 60.0, spacing_s=1.0, region="region-b")
    records = sorted([*writes, *probes], key=lambda r: (r.scheduled_s, r.ok))  # bad write first
    rto = rto_of(records)
    assert rto.recovered
    assert rto.rto_s == pytest.approx(21.0, abs=1e-6)
    assert rto.bad_requests == 21
