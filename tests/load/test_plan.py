"""LoadPlan validation, serialisation and the send schedule."""

from __future__ import annotations

import numpy as np
import pytest

from gameday.config import LoadProfile
from gameday.errors import LoadError
from gameday.load.plan import LoadPlan, join_url, schedule

URL = "http://127.0.0.1:8080/tabular"


def test_schedule_is_reproducible_for_a_seed_and_differs_across_seeds() -> None:
    plan = LoadPlan(base_url=URL, arrival="poisson", rate_per_s=200, duration_s=5, seed=3)
    again = LoadPlan(base_url=URL, arrival="poisson", rate_per_s=200, duration_s=5, seed=3)
    other = LoadPlan(base_url=URL, arrival="poisson", rate_per_s=200, duration_s=5, seed=4)
    assert np.array_equal(schedule(plan), schedule(again))
    assert not np.array_equal(schedule(plan)[:50], schedule(other)[:50])


def test_poisson_schedule_has_the_mean_rate_and_exponential_gaps() -> None:
    plan = LoadPlan(base_url=URL, arrival="poisson", rate_per_s=500, duration_s=60, warmup_s=0)
    times = schedule(plan)
    gaps = np.diff(times)
    # 30,000 expected arrivals: the count's standard deviation is ~0.6 %, so 3 % is generous.
    assert times.size == pytest.approx(30_000, rel=0.03)
    assert gaps.mean() == pytest.approx(1 / 500, rel=0.03)
    assert gaps.std() == pytest.approx(gaps.mean(), rel=0.05)  # exponential: std == mean
    assert times[0] == 0.0 and times[-1] < 60


def test_constant_schedule_is_exactly_spaced_and_covers_warmup_plus_duration() -> None:
    plan = LoadPlan(base_url=URL, arrival="constant", rate_per_s=40, duration_s=2, warmup_s=0.5)
    times = schedule(plan, t0_s=1000.0)
    assert times.size == 100
    assert times[0] == 1000.0
    assert np.allclose(np.diff(times), 0.025, rtol=0, atol=1e-9)
    assert times[-1] < 1000.0 + 2.5


def test_plan_refuses_more_than_five_million_sends() -> None:
    with pytest.raises(LoadError, match="bound"):
        LoadPlan(base_url=URL, rate_per_s=20_000, duration_s=300, warmup_s=0)


@pytest.mark.parametrize("url", ["http://10.0.0.5:8080", "http://example.com/tabular",
                                 "ftp://127.0.0.1/", "127.0.0.1:8080"])
def test_plan_refuses_a_target_that_is_not_loopback(url: str) -> None:
    with pytest.raises(LoadError, match="base_url"):
        LoadPlan(base_url=url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://127.10.0.1:1/x",
                                 "http://[::1]:8080", "http://localhost:8080/"])
def test_plan_accepts_loopback_targets(url: str) -> None:
    assert LoadPlan(base_url=url).base_url == url


def test_plan_round_trips_through_json() -> None:
    plan = LoadPlan(base_url=URL, arrival="constant", rate_per_s=12.5, start_at_s=1.7e9)
    assert LoadPlan.from_json(plan.to_json()) == plan


def test_plan_json_with_a_misspelt_key_is_an_error_naming_it() -> None:
    raw = {**LoadPlan(base_url=URL).to_dict(), "rate_per_sec": 5}
    with pytest.raises(LoadError, match="rate_per_sec"):
        LoadPlan.from_dict(raw, source="p.json")


def test_plan_json_with_a_wrong_type_names_the_field() -> None:
    raw = {**LoadPlan(base_url=URL).to_dict(), "concurrency": "many"}
    with pytest.raises(LoadError, match="concurrency"):
        LoadPlan.from_dict(raw)


def test_plan_from_profile_copies_the_profile_and_targets_the_edge() -> None:
    profile = LoadProfile(rate_per_s=80, duration_s=30, warmup_s=2, seed=11, concurrency=64)
    plan = LoadPlan.from_profile(profile, URL, start_at_s=123.0)
    assert (plan.rate_per_s, plan.duration_s, plan.warmup_s, plan.seed, plan.concurrency) == \
        (80, 30, 2, 11, 64)
    assert (plan.base_url, plan.start_at_s, plan.lag_bound_s) == (URL, 123.0, profile.lag_bound_s)


@pytest.mark.parametrize("base", ["http://127.0.0.1:8080/tabular", "http://127.0.0.1:8080/tabular/"])
def test_join_url_keeps_the_edge_prefix(base: str) -> None:
    assert join_url(base, "/predict") == "http://127.0.0.1:8080/tabular/predict"
    assert join_url("http://127.0.0.1:8080", "/predict") == "http://127.0.0.1:8080/predict"
