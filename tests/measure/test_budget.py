"""Error budget and burn-rate arithmetic against hand-computed cases (gameday.measure.budget):
100 requests, one a second from T0; the bad ones named in each test."""

from __future__ import annotations

import pytest

from gameday.measure.arrays import RequestArrays
from gameday.measure.budget import BudgetObjective, BurnAlert, budget_figures, objectives_of
from gameday.measure.windows import FaultWindow
from gameday.records import RequestRecord
from gameday.slos import AvailabilitySlo, LatencySlo

T0 = 1_764_061_200.0
SPAN = (T0, T0 + 100.0)


def requests(bad: set[int], *, slow: set[int] = frozenset()) -> RequestArrays:
    records = []
    for k in range(100):
        at_s = T0 + k + 0.5
        latency_s = 0.5 if k in slow else 0.01
        records.append(RequestRecord(at_s, at_s, at_s + latency_s, "tabular", "predict",
                                     "" if k in bad else "region-a", 503 if k in bad else 200,
                                     k not in bad, "http_5xx" if k in bad else ""))
    return RequestArrays.of(records)


def judge(objective: BudgetObjective, arrays: RequestArrays,
          windows: tuple[FaultWindow, ...] = ()):
    return budget_figures(objective, arrays, windows, warmup_end_s=None, span=SPAN,
                          bucket_s=1.0)


def test_occurrences_budget_consumed_and_burn_rate():
    figures = judge(BudgetObjective(name="a", target=0.99, scope="all"), requests({5, 6, 55}))
    assert (figures.requests, figures.good) == (100, 97)
    assert figures.sli == pytest.approx(0.97) and not figures.met
    assert figures.budget == pytest.approx(1.0)  # (1 - 0.99) x 100 requests
    assert figures.consumed == pytest.approx(3.0) and figures.remaining == pytest.approx(-2.0)
    assert figures.burn_rate == pytest.approx(3.0)  # 0.03 / 0.01


def test_a_budget_within_its_allowance_is_met():
    figures = judge(BudgetObjective(name="a", target=0.95, scope="all"), requests({5, 6, 55}))
    assert figures.met and figures.consumed == pytest.approx(3 / 5)
    assert figures.burn_rate == pytest.approx(0.6)


def test_timeslices_count_slices_under_their_slice_target():
    # 10 s slices: slice 0 holds 2 bad of 10 (0.8), slice 5 one (0.9); both under 0.95
    objective = BudgetObjective(name="t", target=0.9, scope="all", budgeting="timeslices",
                                slice_s=10.0, slice_target=0.95)
    figures = judge(objective, requests({5, 6, 55}))
    assert (figures.units, figures.good_units) == (10, 8)
    assert figures.sli == pytest.approx(0.8) and not figures.met
    assert figures.budget == pytest.approx(1.0) and figures.consumed == pytest.approx(2.0)


def test_ratio_timeslices_average_the_slices_ratios():
    objective = BudgetObjective(name="r", target=0.99, scope="all",
                                budgeting="ratio_timeslices", slice_s=10.0)
    figures = judge(objective, requests({5, 6, 55}))
    assert figures.sli == pytest.approx((0.8 + 0.9 + 8) / 10)
    assert figures.consumed == pytest.approx(0.03 / 0.01)


def test_a_latency_bound_makes_slow_answers_bad():
    objective = BudgetObjective(name="l", target=0.95, scope="all", max_latency_s=0.25)
    figures = judge(objective, requests(set(), slow={1, 2, 3}))
    assert figures.good == 97 and figures.met


def test_short_forms_translate_to_the_same_model():
    (availability,) = objectives_of(AvailabilitySlo(kind="availability", objective=0.999))
    assert (availability.target, availability.require_ok, availability.max_latency_s) == \
        (0.999, True, None)
    (latency,) = objectives_of(LatencySlo(kind="latency", percentile=99, threshold_s=0.25))
    # "p99 within 250 ms" is "99 % of requests within 250 ms", failed ones by their latency
    assert (latency.target, latency.require_ok, latency.max_latency_s) == (0.99, False, 0.25)


def test_scope_leaves_the_fault_window_out():
    window = FaultWindow("outage", "region-a", T0 + 50.0, T0 + 60.0)
    objective = BudgetObjective(name="o", target=0.99, scope="outside_faults")
    figures = judge(objective, requests({52, 53, 54}), (window,))
    assert figures.requests == 90 and figures.good == 90 and figures.met


FAST = BurnAlert(name="fast", severity="page", op="gte", threshold=10.0, lookback_s=24.0)


def test_a_burn_alert_needs_its_long_and_short_window_over_the_threshold():
    # period 100 s onto a 100 s span: windows unscaled, long 24 s, short 2 s. Requests go at
    # +k.5. At +52: long (28, 52] holds k = 28..51, 2 bad: 8.3x, under 10. At +53: long
    # (29, 53] holds k = 29..52, 3 bad: 12.5x; short (51, 53]: k = 51, 52, both bad: 100x
    objective = BudgetObjective(name="b", target=0.99, scope="all", period_s=100.0,
                                alerts=(FAST,))
    (firing,) = judge(objective, requests({50, 51, 52, 53, 54})).alerts
    assert (firing.long_window_s, firing.short_window_s) == (24.0, 2.0)
    assert firing.fired_at_s == (T0 + 53.0,)
    assert firing.max_burn_rate == pytest.approx(5 / 24 / 0.01)


def test_alert_after_waits_for_the_condition_to_hold():
    held = BurnAlert(name="held", severity="page", op="gte", threshold=10.0, lookback_s=24.0,
                     alert_after_s=2.0)
    objective = BudgetObjective(name="b", target=0.99, scope="all", period_s=100.0,
                                alerts=(held,))
    (firing,) = judge(objective, requests({50, 51, 52, 53, 54})).alerts
    assert firing.fired_at_s == (T0 + 55.0,)  # firing from +53 on


def test_windows_scale_with_the_period_and_stop_at_the_bucket():
    # a 1 h window of a 30 d period onto 100 s: 0.14 s, so the 1 s bucket
    alert = BurnAlert(name="h", severity="page", op="gte", threshold=14.4, lookback_s=3600.0)
    objective = BudgetObjective(name="b", target=0.99, scope="all", alerts=(alert,))
    (firing,) = judge(objective, requests(set())).alerts
    assert (firing.long_window_s, firing.short_window_s) == (1.0, 1.0)
    assert not firing.fired and firing.max_burn_rate == 0.0
    slow_period = BudgetObjective(name="b", target=0.99, scope="all", period_s=1000.0,
                                  alerts=(alert,))
    (firing,) = judge(slow_period, requests(set())).alerts
    assert firing.long_window_s == pytest.approx(360.0)
    assert firing.short_window_s == pytest.approx(30.0)


def test_nothing_in_scope_is_no_figure_and_not_met():
    window = FaultWindow("outage", "region-a", T0, T0 + 101.0)
    figures = judge(BudgetObjective(name="d", target=0.9, scope="outside_faults"),
                    requests(set()), (window,))
    assert figures.sli is None and not figures.met
