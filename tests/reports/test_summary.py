from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from gameday.measure import RequestArrays
from reports import SCHEMA, build_reports
from reports.run_folder import RunFolder
from reports.summary import MAX_CHART_BUCKETS, summarize


def _strict_json(path):
    def refuse(constant):
        raise ValueError(f"{constant} in JSON")
    return json.loads(path.read_text(), parse_constant=refuse)


def test_summary_json_has_the_schema_fields_and_no_nan(built_sample):
    run_dir, _ = built_sample
    document = _strict_json(run_dir / "summary.json")
    assert document["schema"] == SCHEMA
    assert set(document) >= {"run_id", "suite", "platform", "started_at", "ended_at", "verdict",
                             "exit_code", "reason", "load", "scenarios", "slis", "slos"}
    assert document["run_id"] == "sample-run" and document["suite"] == "sample-outage"
    assert document["started_at"].endswith("Z")
    assert set(document["load"]) >= {"target_rate_per_s", "achieved_rate_per_s", "requests",
                                     "ok", "schedule_lag_p50_s", "schedule_lag_p99_s",
                                     "late_sends", "saturated"}
    assert set(document["slis"]) == {"overall", "by_region", "outside_faults", "during_faults"}
    assert set(document["slis"]["by_region"]) == {"region-a", "region-b"}
    [scenario] = document["scenarios"]
    assert set(scenario["rto"]) >= {"rto_s", "detect_s", "failover_s", "recovered",
                                    "resolution_s"}
    assert scenario["journal_status"] == "completed"


def test_the_measured_rto_matches_the_injected_outage(built_sample, sample):
    # ground truth of the sample: requests scheduled in [10, 11) s fail, region-b answers
    # from 11 s on, too slowly until 11.5 s, so recovery is at 11.5 s (+ one request spacing)
    run_dir, _ = built_sample
    [scenario] = _strict_json(run_dir / "summary.json")["scenarios"]
    rto = scenario["rto"]
    assert scenario["fault_start_s"] == sample.T0_S + 10.0
    assert scenario["fault_end_s"] == sample.T0_S + 14.0
    assert rto["recovered"] is True
    assert 1.5 <= rto["rto_s"] <= 1.5 + 5 * rto["resolution_s"]
    assert 0 < rto["detect_s"] < 0.1
    assert 1.3 < rto["failover_s"] < 1.5
    assert rto["resolution_s"] == pytest.approx(math.log(2) / 50, rel=0.15)  # Poisson median


def test_an_empty_run_writes_none_not_nan(tmp_path, sample):
    run_dir = sample.write_sample_run(tmp_path / "run")
    (run_dir / "requests-gen0.csv").unlink()
    build_reports(run_dir)
    document = _strict_json(run_dir / "summary.json")
    assert document["slis"]["overall"]["availability"] is None
    assert document["load"]["achieved_rate_per_s"] is None
    assert document["scenarios"][0]["rto"]["rto_s"] is None


def test_a_long_run_is_charted_in_wider_buckets_but_judged_on_every_request(sample):
    suite = sample.sample_suite()
    scheduled_s = np.arange(0.0, 4 * 3600.0, 0.5) + sample.T0_S  # 4 h at 2 req/s
    requests = RequestArrays(scheduled_s, scheduled_s, scheduled_s + 0.01,
                             np.ones(scheduled_s.size, dtype=bool),
                             np.full(scheduled_s.size, "region-a"),
                             np.full(scheduled_s.size, 200, dtype=np.int32),
                             np.full(scheduled_s.size, ""), np.full(scheduled_s.size, ""))
    folder = RunFolder(path=Path("long-run"), suite=suite, requests=requests, events=(),
                       journals={})
    summary = summarize(folder)
    assert len(summary.buckets) <= MAX_CHART_BUCKETS
    assert summary.chart_bucket_s == 10.0  # whole multiples of the suite's 1 s bucket
    assert summary.slis.overall.requests == scheduled_s.size - 6  # all but the 3 s warm-up
