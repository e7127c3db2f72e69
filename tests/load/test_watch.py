"""The generator's self-watch: late sends over a sliding window."""

from __future__ import annotations

from typing import Any

import pytest

from gameday.load.watch import SelfWatch


def _feed(watch: SelfWatch, lags_s: list[float], rate_per_s: float,
          t0_s: float = 0.0) -> list[dict[str, Any]]:
    alarms = []
    for index, lag_s in enumerate(lags_s):
        figures = watch.observe(index, lag_s, t0_s + index / rate_per_s + lag_s)
        if figures is not None:
            alarms.append(figures)
    return alarms


def test_watch_stays_quiet_while_under_one_percent_of_sends_are_late() -> None:
    watch = SelfWatch(3000, lag_bound_s=0.010)
    lags_s = [0.05 if index % 200 == 0 else 0.001 for index in range(3000)]  # 0.5 %
    assert _feed(watch, lags_s, rate_per_s=1000) == []
    assert watch.late == 15 and not watch.summary()["saturated"]


def test_watch_trips_once_with_figures_when_over_one_percent_are_late() -> None:
    watch = SelfWatch(3000, lag_bound_s=0.010)
    lags_s = [0.05 if index % 20 == 0 else 0.001 for index in range(3000)]  # 5 %
    alarms = _feed(watch, lags_s, rate_per_s=1000)
    assert len(alarms) == 1
    assert alarms[0]["late_in_window"] >= 3
    assert alarms[0]["late_fraction"] > 0.01
    assert alarms[0]["max_lag_in_window_s"] == pytest.approx(0.05)
    assert watch.summary()["saturated"]


def test_one_late_send_at_a_low_rate_is_not_saturation() -> None:
    watch = SelfWatch(20, lag_bound_s=0.010)
    assert _feed(watch, [0.001] * 9 + [0.5] + [0.001] * 10, rate_per_s=10) == []


def test_watch_forgets_late_sends_older_than_its_window() -> None:
    watch = SelfWatch(4000, lag_bound_s=0.010, min_late=3)
    # 2 late sends, then 2 s later 2 more: never 3 within one second.
    lags_s = [0.02 if index in (0, 1, 2000, 2001) else 0.0 for index in range(4000)]
    assert _feed(watch, lags_s, rate_per_s=1000) == []


def test_summary_gives_lag_percentiles_of_observed_sends() -> None:
    watch = SelfWatch(200, lag_bound_s=0.010)
    _feed(watch, [index / 1000 for index in range(101)], rate_per_s=100)
    summary = watch.summary()
    assert summary["sent"] == 101
    assert summary["lag_p50_s"] == pytest.approx(0.050)
    assert summary["lag_max_s"] == pytest.approx(0.100)
