from __future__ import annotations

import pytest

from gameday.config import LoadProfile
from gameday.measure import generator_health
from gameday.records import EventKind

LOAD = LoadProfile(rate_per_s=10, lag_bound_s=0.010)


def test_a_generator_on_schedule_is_healthy(make_steady):
    health = generator_health(make_steady(0.0, 20.0, lag_s=0.001), LOAD)
    assert not health.saturated and health.why == ""
    assert health.achieved_rate_per_s == pytest.approx(10.0)
    assert health.scheduled_rate_per_s == pytest.approx(10.0)
    assert health.lag_p50_s == pytest.approx(0.001) and health.lag_max_s == pytest.approx(0.001)
    assert (health.requests, health.late_sends) == (200, 0)


def test_more_than_one_percent_late_sends_saturates(make_steady, join):
    records = join(make_steady(0.0, 19.7), make_steady(19.7, 20.0, lag_s=0.05))  # 3 of 200
    health = generator_health(records, LOAD)
    assert health.late_sends == 3 and health.late_fraction == pytest.approx(0.015)
    assert health.saturated and "late" in health.why


def test_one_percent_late_is_still_within_bounds(make_steady, join):
    records = join(make_steady(0.0, 19.8), make_steady(19.8, 20.0, lag_s=0.05))  # 2 of 200
    assert not generator_health(records, LOAD).saturated


def test_sending_slower_than_the_schedule_saturates(make_request):
    # each send starts a little later than the last: 10/s scheduled, ~9/s sent, no single
    # send late enough to be counted late until the end
    records = [make_request(i * 0.1, lag_s=i * 0.0111) for i in range(50)]
    health = generator_health(records, LoadProfile(rate_per_s=10, lag_bound_s=10.0))
    assert health.achieved_rate_per_s == pytest.approx(9.0, rel=0.01)
    assert health.saturated and "scheduled" in health.why


def test_a_poisson_schedule_below_its_nominal_rate_is_not_saturation(make_steady):
    health = generator_health(make_steady(0.0, 20.0, spacing_s=0.125), LOAD)  # 8/s realised
    assert health.target_rate_per_s == 10 and not health.saturated


def test_the_generators_own_flag_is_reported_but_does_not_decide_alone(make_steady,
                                                                         make_event):
    events = [make_event(5.0, EventKind.GENERATOR_SATURATED, late=3)]
    health = generator_health(make_steady(0.0, 20.0), LOAD, events)
    assert health.flagged_live and not health.saturated


def test_no_requests_gives_no_figures(make_steady):
    health = generator_health([], LOAD)
    assert health.requests == 0 and health.achieved_rate_per_s is None
    assert health.lag_p99_s is None and not health.saturated
