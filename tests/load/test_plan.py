"""LoadPlan validation, serialisation and the send schedule."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from gameday.config import LoadProfile, load_suite
from gameday.errors import ConfigError, LoadError
from gameday.load.plan import LoadPlan, RateStep, Share, join_url, schedule, steps_detail

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


# -- steps: a piecewise-constant rate ---------------------------------------------------------

def _schedule_before_steps(plan: LoadPlan) -> np.ndarray:
    """The schedule as it was computed before plans had steps (the reference to keep)."""
    total_s = plan.warmup_s + plan.duration_s
    if plan.arrival == "constant":
        return np.arange(math.ceil(total_s * plan.rate_per_s - 1e-9),
                         dtype=np.float64) / plan.rate_per_s
    rng = np.random.default_rng(plan.seed)
    expected = plan.rate_per_s * total_s
    chunk = int(expected + 6 * math.sqrt(expected) + 16)
    offsets = np.concatenate(([0.0], np.cumsum(rng.exponential(1.0 / plan.rate_per_s, chunk))))
    while offsets[-1] < total_s:
        more = offsets[-1] + np.cumsum(rng.exponential(1.0 / plan.rate_per_s, size=chunk))
        offsets = np.concatenate((offsets, more))
    return offsets[offsets < total_s]


@pytest.mark.parametrize("arrival", ["constant", "poisson"])
@pytest.mark.parametrize(("rate_per_s", "duration_s", "warmup_s", "seed"),
                         [(50, 40, 3, 7), (7.3, 17.1, 1.3, 1), (4000, 5, 0.5, 11), (0.5, 9, 0, 3)])
def test_a_plan_without_steps_gives_exactly_the_schedule_it_gave_before(
        arrival: str, rate_per_s: float, duration_s: float, warmup_s: float, seed: int) -> None:
    plan = LoadPlan(base_url=URL, arrival=arrival, rate_per_s=rate_per_s,  # type: ignore[arg-type]
                    duration_s=duration_s, warmup_s=warmup_s, seed=seed)
    assert np.array_equal(schedule(plan, t0_s=1.7e9), _schedule_before_steps(plan) + 1.7e9)


def _surge(arrival: str = "constant", seed: int = 7) -> LoadPlan:
    """100 req/s; x4 from 20 s after a 2 s warm-up, back to 100 at 40 s, to the end at 60 s."""
    return LoadPlan(base_url=URL, arrival=arrival, rate_per_s=100, duration_s=60,  # type: ignore[arg-type]
                    warmup_s=2, seed=seed, steps=(RateStep(20, 400), RateStep(40, 100)))


def test_a_constant_schedule_changes_its_spacing_at_each_step() -> None:
    times = schedule(_surge("constant"))
    pieces = [(0, 22, 0.01), (22, 42, 0.0025), (42, 62, 0.01)]
    for start_s, end_s, gap_s in pieces:
        inside = times[(times >= start_s) & (times < end_s)]
        assert inside[0] == pytest.approx(start_s)  # each step starts with a send
        assert inside.size == round((end_s - start_s) / gap_s)
        assert np.allclose(np.diff(inside), gap_s, rtol=0, atol=1e-9)
    assert times.size == _surge().expected_sends == 2200 + 8000 + 2000


def test_a_poisson_schedule_with_steps_has_each_piece_at_its_rate_and_is_seeded() -> None:
    times = schedule(_surge("poisson"))
    assert np.array_equal(times, schedule(_surge("poisson")))
    assert not np.array_equal(times[:50], schedule(_surge("poisson", seed=8))[:50])
    assert times[0] == 0.0 and np.all(np.diff(times) > 0) and times[-1] < 62
    for start_s, end_s, rate in [(0, 22, 100), (22, 42, 400), (42, 62, 100)]:
        count = np.count_nonzero((times >= start_s) & (times < end_s))
        expected = rate * (end_s - start_s)
        assert abs(count - expected) < 4 * math.sqrt(expected)  # 4 standard deviations


def test_the_send_bound_counts_the_steps() -> None:
    LoadPlan(base_url=URL, rate_per_s=100, duration_s=300, warmup_s=0)
    with pytest.raises(LoadError, match="steps included"):
        LoadPlan(base_url=URL, rate_per_s=100, duration_s=300, warmup_s=0,
                 steps=(RateStep(10, 20_000),))


@pytest.mark.parametrize("steps", [(RateStep(5, 10), RateStep(5, 20)), (RateStep(30, 10),),
                                   (RateStep(-1, 10),), (RateStep(1, 0),)])
def test_a_plan_refuses_steps_out_of_order_outside_the_duration_or_without_a_rate(
        steps: tuple[RateStep, ...]) -> None:
    with pytest.raises(LoadError, match=r"plan\.steps\["):
        LoadPlan(base_url=URL, duration_s=30, steps=steps)


def test_a_plan_with_steps_and_workers_round_trips_through_json() -> None:
    plan = LoadPlan(base_url=URL, steps=(RateStep(1.5, 200), RateStep(3, 50)), workers=3)
    assert LoadPlan.from_json(plan.to_json()) == plan
    raw = {**plan.to_dict(), "steps": [{"at_s": 1, "rate": 2}]}
    with pytest.raises(LoadError, match="steps"):
        LoadPlan.from_dict(raw)


def test_a_profile_surge_by_factor_becomes_plan_steps_at_absolute_rates() -> None:
    profile = LoadProfile(rate_per_s=80, duration_s=60, workers=2,
                          steps=[{"at_s": 20, "factor": 4}, {"at_s": 40, "factor": 1}])
    plan = LoadPlan.from_profile(profile, URL)
    assert plan.steps == (RateStep(20, 320), RateStep(40, 80)) and plan.workers == 2
    assert steps_detail(plan, t0_s=1000.0) == [{"at_s": 1023.0, "rate_per_s": 320.0},
                                               {"at_s": 1043.0, "rate_per_s": 80.0}]


@pytest.mark.parametrize(("steps", "message"), [
    ([{"at_s": 20, "factor": 4}, {"at_s": 10, "factor": 1}], "strictly increasing"),
    ([{"at_s": 40, "factor": 2}], "inside duration_s"),
    ([{"at_s": 5}], "exactly one of rate_per_s or factor"),
    ([{"at_s": 5, "factor": 2, "rate_per_s": 10}], "exactly one of rate_per_s or factor"),
    ([{"at_s": 5, "factor": 1000}], "the bound is 20000"),
    ([{"at_s": -1, "factor": 2}], "greater than or equal to 0"),
])
def test_a_profile_with_bad_steps_is_refused_with_a_clear_message(
        steps: list[dict[str, float]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LoadProfile(duration_s=40, steps=steps)  # type: ignore[arg-type]


def test_a_database_profile_takes_no_steps_and_no_workers() -> None:
    with pytest.raises(ValidationError, match="one rate"):
        LoadProfile(target="database", steps=[{"at_s": 1, "factor": 2}])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="one process"):
        LoadProfile(target="database", workers=2)


# -- the edge's cache and its second entry --------------------------------------------------

def test_a_profile_s_distinct_bodies_reach_the_plan_and_survive_its_json() -> None:
    plan = LoadPlan.from_profile(LoadProfile(distinct_bodies=16), URL)
    assert plan.distinct_bodies == 16 and LoadPlan.from_json(plan.to_json()) == plan
    default = LoadPlan.from_profile(LoadProfile(), URL)
    assert default.distinct_bodies is None and LoadPlan.from_json(default.to_json()) == default


@pytest.mark.parametrize("count", [0, 4097, -3])
def test_distinct_bodies_out_of_range_are_refused_by_the_profile_and_the_plan(
        count: int) -> None:
    with pytest.raises(ValidationError, match=r"distinct_bodies: expected 1\.\.4096"):
        LoadProfile(distinct_bodies=count)
    with pytest.raises(LoadError, match=r"plan.distinct_bodies: expected 1\.\.4096"):
        LoadPlan(base_url=URL, distinct_bodies=count)


def test_numbered_writes_take_no_distinct_bodies() -> None:
    with pytest.raises(ValidationError, match="numbered writes"):
        LoadProfile(stack="rag", endpoint="ingest", distinct_bodies=4)
    with pytest.raises(ValidationError, match="numbered writes"):
        LoadProfile(target="database", endpoint="writes", distinct_bodies=4)


def test_a_bad_distinct_bodies_in_a_suite_file_names_the_file_and_the_field(
        tmp_path: Path) -> None:
    suite = tmp_path / "cache.yaml"
    suite.write_text("name: cache\nallow_no_slos: true\n"
                     "load: {stack: tabular, endpoint: predict, distinct_bodies: 0}\n")
    with pytest.raises(ConfigError) as raised:
        load_suite(suite)
    assert raised.value.field == "load.distinct_bodies"
    assert "expected 1..4096" in str(raised.value) and str(suite) in str(raised.value)


def test_the_edge_without_its_waf_is_a_target_the_load_plans_for_like_the_edge() -> None:
    profile = LoadProfile(target="edge-no-waf", endpoint="attack", rate_per_s=50)
    assert LoadPlan.from_profile(profile, "http://127.0.0.1:8082/tabular").endpoint == "attack"
    with pytest.raises(ValidationError, match="edge-no-waf"):
        LoadProfile(target="edge-nowaf")  # type: ignore[arg-type]


# -- shares: workers split one schedule -----------------------------------------------------

def test_worker_shares_interleave_to_exactly_the_one_process_schedule() -> None:
    offsets = schedule(_surge("poisson"))
    shares = [Share.of_worker(offsets, worker, 3) for worker in range(3)]
    assert sum(share.size for share in shares) == offsets.size
    merged = np.empty_like(offsets)
    for share in shares:
        merged[share.first::share.stride] = share.offsets_s
    assert np.array_equal(merged, offsets)
    assert shares[1].rate_per_s(_surge()) == pytest.approx(100 / 3)
