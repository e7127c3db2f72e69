"""Model versions around a fault (gameday.measure.versions), on hand-made requests with every
count worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from gameday.measure.versions import VersionCounts, version_windows
from gameday.measure.windows import FaultWindow


def test_a_hot_swap_counts_versions_failures_slow_answers_and_mixing() -> None:
    # one request a second, 0..19 s; the swap in region-a from 5 s to 15 s
    t = np.arange(20, dtype=np.float64)
    end = t + 0.01
    end[8] = t[8] + 0.5  # slow (SLO 0.25 s)
    ok = np.ones(20, dtype=np.bool_)
    ok[9] = False
    region = np.array(["region-a"] * 20)
    region[12] = "region-b"
    version = np.array(["1"] * 7 + ["2", "2", "", "1", "2", "2", "2", "2", "2", "2", "2", "2",
                                    "2"])
    (window,) = version_windows(t, end, ok, region, version,
                                [FaultWindow("swap", "region-a", 5.0, 15.0)],
                                latency_slo_s=0.25, margin_s=3.0)
    # inside: 5..14; target region-a: all but 12; 9 failed (no version); 10 answered v1
    assert window.target == VersionCounts(requests=9, by_version={"1": 3, "2": 5}, failed=1,
                                          slowed=1)
    assert window.others == VersionCounts(requests=1, by_version={"2": 1}, failed=0, slowed=0)
    assert window.final_version == "2"
    assert window.mixed == 1  # v2 first answered at 7; 10 flapped back to v1
    assert window.switched_after_s == pytest.approx(2.01)  # 7's answer, from the start at 5
    assert window.before == VersionCounts(requests=3, by_version={"1": 3}, failed=0, slowed=0)
    assert window.after == VersionCounts(requests=3, by_version={"2": 3}, failed=0, slowed=0)


def test_a_window_still_open_runs_to_the_end_of_the_data_and_nothing_named_mixes_nothing(
) -> None:
    t = np.arange(6, dtype=np.float64)
    (window,) = version_windows(t, t + 0.01, np.ones(6, dtype=np.bool_),
                                np.array(["region-a"] * 6), np.array([""] * 6),
                                [FaultWindow("stall", "region-a", 2.0, None)],
                                latency_slo_s=1.0)
    assert window.target.requests == 4 and window.target.by_version == {}
    assert (window.final_version, window.mixed) == ("", 0)


def test_the_rollback_switching_back_is_no_mix() -> None:
    """A clean swap to v2 at 3 s, rolled back from 7 s: v1 answers again after 7."""
    t = np.arange(12, dtype=np.float64)
    version = np.array(["1"] * 3 + ["2"] * 5 + ["1"] * 4)
    (window,) = version_windows(t, t + 0.01, np.ones(12, dtype=np.bool_),
                                np.array(["region-a"] * 12), version,
                                [FaultWindow("swap", "region-a", 2.0, 9.0,
                                             rollback_from_s=7.5)],
                                latency_slo_s=1.0)
    assert window.target.by_version == {"1": 2, "2": 5}  # 2 and 8 answered v1
    assert (window.final_version, window.mixed) == ("2", 0)
    assert window.switched_after_s == pytest.approx(1.01)


def test_a_release_that_kept_the_old_version_switched_nothing() -> None:
    """A broken version 3 that failed to load: version 1 answers throughout."""
    t = np.arange(10, dtype=np.float64)
    (window,) = version_windows(t, t + 0.01, np.ones(10, dtype=np.bool_),
                                np.array(["region-a"] * 10), np.array(["1"] * 10),
                                [FaultWindow("broken", "region-a", 3.0, 7.0)],
                                latency_slo_s=1.0)
    assert (window.final_version, window.mixed, window.switched_after_s) == ("1", 0, None)
