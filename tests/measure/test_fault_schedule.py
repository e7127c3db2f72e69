"""Fault schedules drawn from failure rates (gameday.measure.fault_schedule): the counts a
run meets follow the sped-up Poisson rate, offsets stay inside the run, and a seed repeats."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gameday.measure.fault_schedule import draw_schedule, expected_faults
from gameday.measure.forecast import MONTH_S

RATES = {"region_outage": 4.0, "host_failure": 1.0, "gpu_failure": 0.0}
EXPERIMENTS = {"region_outage": ["region-outage", "region-isolation"],
               "host_failure": ["replica-kill"], "gpu_failure": ["triton-server-kill"]}


def test_a_run_meets_the_sped_up_rate_times_its_share_of_the_month() -> None:
    # 4 a month, sped up 21,600×, over a 60 s run: 4 × 21,600 × 60 / 2,592,000 = 2 a run
    assert expected_faults(4.0, duration_s=60, speedup=21_600) == pytest.approx(2.0)
    draws = 4000
    counts = np.array([sum(f.failure_class == "region_outage"
                           for f in draw_schedule(RATES, EXPERIMENTS, duration_s=60,
                                                  speedup=21_600, seed=seed))
                       for seed in range(draws)])
    assert abs(counts.mean() - 2.0) < 5 * math.sqrt(2.0 / draws)  # Poisson: variance = mean


def test_offsets_are_sorted_inside_the_run_and_name_one_of_the_classes_experiments() -> None:
    schedule = draw_schedule(RATES, EXPERIMENTS, duration_s=120, speedup=MONTH_S / 120 * 5,
                             seed=5)
    assert schedule, "5 region outages and 1.25 host failures a run on average"
    offsets = [fault.offset_s for fault in schedule]
    assert offsets == sorted(offsets) and all(0 <= offset < 120 for offset in offsets)
    for fault in schedule:
        assert fault.experiment in EXPERIMENTS[fault.failure_class]
    assert all(fault.failure_class != "gpu_failure" for fault in schedule)  # rate 0


def test_the_same_seed_draws_the_same_schedule() -> None:
    draw = dict(duration_s=300, speedup=50_000)
    assert draw_schedule(RATES, EXPERIMENTS, seed=9, **draw) == \
        draw_schedule(RATES, EXPERIMENTS, seed=9, **draw)


@pytest.mark.parametrize("bad", [dict(duration_s=0, speedup=1), dict(duration_s=10, speedup=0)])
def test_a_run_needs_a_duration_and_a_speedup(bad: dict) -> None:
    with pytest.raises(ValueError):
        draw_schedule(RATES, EXPERIMENTS, seed=0, **bad)


def test_a_class_without_an_experiment_is_refused() -> None:
    with pytest.raises(ValueError, match="no experiment"):
        draw_schedule({"bad_release": 1.0}, {}, duration_s=10, speedup=1, seed=0)
