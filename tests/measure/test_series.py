"""Prometheus range snapshots read back, and the counter and gauge integrals on them, against
numbers worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gameday.measure.series import (
    counter_increase,
    counter_increases,
    gauge_integral,
    read_metrics,
)
from tests.measure import cost_run as run


def _arrays(points):
    return (np.array([t for t, _ in points], dtype=np.float64),
            np.array([v for _, v in points], dtype=np.float64))


def test_a_counter_increase_counts_from_zero_after_a_reset():
    # 10, 12, 14, then the process restarts: 1, 3
    t, v = _arrays([(0, 10), (1, 12), (2, 14), (3, 1), (4, 3)])
    assert counter_increase(t, v, 0, 4) == pytest.approx(2 + 2 + 1 + 2)


def test_a_counter_increase_is_interpolated_at_the_window_edges():
    t, v = _arrays([(0, 0), (10, 5), (20, 15)])
    # 2.5 s into a 0.5/s interval, to 5 s into a 1/s one
    assert counter_increase(t, v, 2.5, 15) == pytest.approx(3.75 + 5)
    # a reset interval grows linearly from 0 to its sample: half of 4 by its middle
    t, v = _arrays([(0, 100), (2, 4), (4, 8)])
    assert counter_increase(t, v, 1, 4) == pytest.approx(2 + 4)


def test_nothing_is_counted_outside_a_series_samples():
    t, v = _arrays([(10, 100), (20, 110)])
    assert counter_increase(t, v, 0, 15) == pytest.approx(5)
    assert counter_increase(t, v, 20, 40) == 0
    assert counter_increase(t[:1], v[:1], 0, 40) == 0
    assert counter_increase(t, v, 15, 15) == 0


def test_counter_increases_per_bucket_add_up_to_the_whole():
    t, v = _arrays([(0, 0), (1, 1), (2, 5), (3, 2), (4, 4)])  # reset at 3
    edges = np.array([0.0, 0.5, 2.5, 4.0])
    parts = counter_increases(t, v, edges)
    assert parts == pytest.approx([0.5, 0.5 + 4 + 1, 1 + 2])
    assert parts.sum() == pytest.approx(counter_increase(t, v, 0, 4))


def test_a_gauge_integral_is_the_trapezoid_rule_between_samples():
    t, v = _arrays([(0, 2), (2, 4), (4, 4)])
    assert gauge_integral(t, v, 0, 4) == pytest.approx(6 + 8)
    # interpolated at the edges: from 1 s (value 3) to 3 s (value 4)
    assert gauge_integral(t, v, 1, 3) == pytest.approx((3 + 4) / 2 + 4)
    assert gauge_integral(t, v, -5, 10) == pytest.approx(14)  # nothing beyond the samples


def test_a_gauge_gap_longer_than_max_gap_counts_nothing():
    t, v = _arrays([(0, 1), (1, 1), (10, 1), (11, 1)])  # the member was gone from 1 to 10 s
    assert gauge_integral(t, v, 0, 11) == pytest.approx(11)
    assert gauge_integral(t, v, 0, 11, max_gap_s=1.5) == pytest.approx(2)
    assert gauge_integral(t, v, 0.5, 10.5, max_gap_s=1.5) == pytest.approx(1)


def test_snapshots_are_read_with_their_labels_in_time_order(tmp_path: Path):
    labels = run.member("tabular", "api", "region-a", "tabular-api-a1")
    run.write_metrics(tmp_path, {"cpu_seconds": [(labels, [(2.0, 3.0), (1.0, 1.5)])]},
                      empty=["gpus"])
    metrics = read_metrics(tmp_path, ("cpu_seconds", "resident_bytes", "gpus"))
    [series] = metrics.of("cpu_seconds")
    assert series.label("replica") == "tabular-api-a1" and series.label("region") == "region-a"
    assert series.t_s.tolist() == [1.0, 2.0] and series.values.tolist() == [1.5, 3.0]
    assert metrics.missing(("cpu_seconds", "resident_bytes", "gpus")) == ("resident_bytes",)
    assert "resident_bytes.json was not saved" in metrics.why_missing("resident_bytes")


def test_no_metrics_folder_or_no_prometheus_is_said_never_raised(tmp_path: Path):
    assert read_metrics(tmp_path, ("cpu_seconds",)).why_missing("cpu_seconds") == \
        "no metrics/ folder in the run folder"
    run.write_metrics(tmp_path, {}, error="http://127.0.0.1:9090: connection refused")
    why = read_metrics(tmp_path, ("cpu_seconds",)).why_missing("cpu_seconds")
    assert why == "Prometheus unavailable: http://127.0.0.1:9090: connection refused"


def test_a_damaged_snapshot_names_its_file(tmp_path: Path):
    run.write_metrics(tmp_path, {"cpu_seconds": []})
    path = tmp_path / "metrics" / "cpu_seconds.json"
    path.write_text(json.dumps({"result": [{"metric": {}, "values": [["x", "1"]]}]}))
    why = read_metrics(tmp_path, ("cpu_seconds",)).why_missing("cpu_seconds")
    assert str(path) in why and "not a Prometheus range snapshot" in why
