"""Degraded answers counted apart from ok, per stack, reason, scope and scenario."""

from __future__ import annotations

import numpy as np

from gameday.measure.arrays import RequestArrays
from gameday.measure.degraded import degraded_figures
from gameday.measure.windows import FaultWindow
from gameday.records import RequestRecord


def _records(n: int) -> list[RequestRecord]:
    """One request a second from t=0; 5 failed ones at t 50..54."""
    return [RequestRecord(scheduled_s=float(t), start_s=float(t), end_s=t + 0.01,
                          stack="tabular", endpoint="predict", region="region-a",
                          status=500 if 50 <= t < 55 else 200, ok=not 50 <= t < 55,
                          error_kind="http_5xx" if 50 <= t < 55 else "")
            for t in range(n)]


def test_marked_good_answers_are_counted_by_reason_inside_and_outside_the_faults() -> None:
    requests = RequestArrays.of(_records(100))
    stacks = np.full(100, "tabular", dtype="<U20")
    degraded = np.full(100, "", dtype="<U20")
    degraded[20:30] = "features-down"  # inside the store-down window [20, 30)
    degraded[50:60] = "features-stale"  # 50..54 failed: not good answers, not counted
    degraded[90] = "features-down"  # outside every window
    windows = [FaultWindow("store-down", "region-a", 20.0, 30.0),
               FaultWindow("stale", "region-a", 50.0, 60.0)]
    (figures,) = degraded_figures(requests, stacks, degraded, windows)
    assert figures.stack == "tabular" and figures.good == 95
    assert figures.degraded == 10 + 5 + 1
    assert figures.by_reason == {"features-down": 11, "features-stale": 5}
    assert (figures.during_faults, figures.outside_faults) == (15, 1)
    assert figures.by_scenario == {"store-down": 10, "stale": 5}
    assert figures.share == 16 / 95


def test_no_entry_without_a_mark_unless_the_suite_turned_the_fallback_on() -> None:
    requests = RequestArrays.of(_records(10))
    stacks = np.full(10, "tabular", dtype="<U20")
    none = np.full(10, "", dtype="<U20")
    assert degraded_figures(requests, stacks, none, []) == ()
    (figures,) = degraded_figures(requests, stacks, none, [], always=["tabular"])
    assert figures.degraded == 0 and figures.good == 10 and figures.by_reason == {}


def test_the_rag_stack_is_left_to_its_own_figures() -> None:
    requests = RequestArrays.of(_records(10))
    stacks = np.full(10, "rag", dtype="<U20")
    marked = np.full(10, "store", dtype="<U20")
    assert degraded_figures(requests, stacks, marked, []) == ()


def test_a_regions_store_lag_is_the_sample_time_minus_its_newest_materialised_event() -> None:
    from gameday.measure.degraded import store_lags
    from gameday.measure.series import Series

    t_s = np.arange(100.0, 130.0)
    fresh = Series({"region": "region-a"}, t_s, t_s - 1.0)  # a tick a second: 1 s behind
    # region-b's materializer frozen from 110 to 120: its newest event stays at 110
    frozen = np.where((t_s >= 110) & (t_s < 120), 110.0, t_s - 1.0)
    lagging = Series({"region": "region-b"}, t_s, frozen)
    window = FaultWindow("lag", "region-b", 110.0, 120.0)
    a, b = store_lags([lagging, fresh], [window])
    assert (a.region, b.region) == ("region-a", "region-b")
    assert a.max_by_scenario == {"lag": 1.0}
    assert b.max_by_scenario == {"lag": 9.0} and max(b.lag_s) == 9.0


def test_samples_before_the_first_tick_are_no_lag() -> None:
    from gameday.measure.degraded import store_lags
    from gameday.measure.series import Series

    t_s = np.arange(100.0, 105.0)
    (lag,) = store_lags([Series({"region": "region-a"}, t_s,
                                np.array([0.0, 0.0, 101.5, 102.5, 103.5]))], [])
    assert lag.t_s == (102.0, 103.0, 104.0) and lag.lag_s == (0.5, 0.5, 0.5)
