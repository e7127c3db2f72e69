from __future__ import annotations

import numpy as np
import pytest

from gameday.measure import fault_windows, in_scope, load_start_s, scope_span_s, warmup_end_s
from gameday.records import EventKind


def test_fault_window_spans_action_return_to_rollback_return(make_event):
    events = [make_event(100.0, EventKind.LOAD_START),
              make_event(110.0, EventKind.FAULT_START, "outage", target_region="region-a"),
              make_event(114.5, EventKind.FAULT_END, "outage")]
    [window] = fault_windows(events)
    assert (window.scenario, window.target_region) == ("outage", "region-a")
    assert (window.start_s, window.end_s) == (110.0, 114.5)


def test_fault_window_keeps_when_its_action_and_its_rollbacks_started(make_event):
    events = [make_event(110.0, EventKind.FAULT_START, "swap", target_region="region-a",
                         action_started_s=108.5),
              make_event(120.0, EventKind.FAULT_END, "swap", rollback_started_s=119.25)]
    [window] = fault_windows(events)
    assert (window.injecting_from_s, window.rollback_from_s) == (108.5, 119.25)


def test_fault_window_without_rollback_stays_open_to_the_end_of_data(make_event):
    [window] = fault_windows([make_event(10.0, EventKind.FAULT_START, "outage")])
    assert window.end_s is None
    assert window.contains(np.array([9.9, 10.0, 1e6])).tolist() == [False, True, True]


def test_fault_end_closes_the_window_of_its_own_scenario(make_event):
    events = [make_event(10.0, EventKind.FAULT_START, "a", target_region="region-a"),
              make_event(11.0, EventKind.FAULT_START, "b", target_region="region-b"),
              make_event(12.0, EventKind.FAULT_END, "b"),
              make_event(13.0, EventKind.FAULT_END, "a")]
    windows = {w.scenario: (w.start_s, w.end_s) for w in fault_windows(events)}
    assert windows == {"a": (10.0, 13.0), "b": (11.0, 12.0)}


def test_requests_belong_to_a_window_by_scheduled_time_start_included_end_excluded(make_event):
    windows = fault_windows([make_event(10.0, EventKind.FAULT_START, "x"),
                             make_event(12.0, EventKind.FAULT_END, "x")])
    scheduled_s = np.array([9.99, 10.0, 11.0, 12.0])
    assert in_scope(scheduled_s, windows, "during_faults").tolist() == [False, True, True, False]
    assert in_scope(scheduled_s, windows, "outside_faults").tolist() == [True, False, False, True]
    assert in_scope(scheduled_s, windows, "all").all()


def test_warmup_end_comes_from_the_event_else_from_load_start_plus_the_suite_warmup(make_event):
    logged = [make_event(0.0, EventKind.LOAD_START), make_event(2.5, EventKind.WARMUP_END)]
    assert warmup_end_s(logged, 0.0, warmup_s=3.0) == 2.5
    assert warmup_end_s([make_event(0.0, EventKind.LOAD_START)], 0.2, warmup_s=3.0) == 3.0
    assert warmup_end_s([], 7.0, warmup_s=3.0) == 10.0
    assert warmup_end_s([], None, warmup_s=3.0) is None


def test_load_start_at_time_zero_is_not_mistaken_for_missing(make_event):
    assert load_start_s([make_event(0.0, EventKind.LOAD_START)], 5.0) == 0.0
    assert load_start_s([], 5.0) == 5.0


def test_scope_spans_count_the_seconds_of_each_scope_and_overlaps_once(make_event):
    windows = fault_windows([
        make_event(10.0, EventKind.FAULT_START, "a"), make_event(14.0, EventKind.FAULT_END, "a"),
        make_event(12.0, EventKind.FAULT_START, "b"), make_event(16.0, EventKind.FAULT_END, "b"),
        make_event(25.0, EventKind.FAULT_START, "c")])  # never rolled back: open to the end
    assert scope_span_s(windows, "during_faults", 3.0, 30.0) == pytest.approx(6.0 + 5.0)
    assert scope_span_s(windows, "outside_faults", 3.0, 30.0) == pytest.approx(27.0 - 11.0)
    assert scope_span_s(windows, "all", 3.0, 30.0) == pytest.approx(27.0)
    assert scope_span_s(windows, "during_faults", 13.0, 15.0) == pytest.approx(2.0)
    assert scope_span_s([], "all", 5.0, 5.0) == 0.0
