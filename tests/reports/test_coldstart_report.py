"""The cold-start part of the reports: the sample run (region-a out from +10 to +14 s) with
region-a's server restarted when the region came back, rebuilt from the folder alone."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

from gameday.coldstarts import ColdStart, append_cold_start
from reports import build_reports


def test_a_cold_start_is_tabled_phase_by_phase_and_in_summary_json(
        tmp_path: Path, sample: ModuleType) -> None:
    run_dir = sample.write_sample_run(tmp_path / "20261202T000000Z-sample")
    start_s = sample.T0_S + 16.0
    append_cold_start(run_dir, ColdStart(
        member="tabular-api-a1", region="region-a", stack="tabular", pid=4242,
        process_start_s=start_s, live_s=start_s + 1.25, model_ready_s=start_s + 1.5,
        first_inference_s=start_s + 1.75, first_inference_latency_s=0.125, probe_failures=2,
        gave_up=False))
    summary = build_reports(run_dir)
    assert summary.cold_starts is not None
    (start,) = json.loads((run_dir / "summary.json").read_text())["cold_starts"]
    assert start["member"] == "tabular-api-a1"
    assert start["to_live_s"] == 1.25 and start["to_first_inference_s"] == 1.75
    assert start["probe_failures"] == 2
    html = (run_dir / "report.html").read_text()
    assert 'id="cold-starts"' in html
    assert 'id="cold-ready-tabular-api-a1-0">1.50 s<' in html
    assert 'id="cold-latency-tabular-api-a1-0">125.0 ms<' in html
    assert 'id="cold-probe-failures-tabular-api-a1-0">2<' in html


def test_a_run_without_coldstarts_jsonl_has_no_cold_start_section(
        tmp_path: Path, sample: ModuleType) -> None:
    run_dir = sample.write_sample_run(tmp_path / "20261202T000000Z-sample")
    summary = build_reports(run_dir)
    assert summary.cold_starts is None
    assert 'id="cold-starts"' not in (run_dir / "report.html").read_text()
    assert json.loads((run_dir / "summary.json").read_text())["cold_starts"] is None


def test_a_watched_run_without_a_cold_start_says_so(tmp_path: Path,
                                                    sample: ModuleType) -> None:
    run_dir = sample.write_sample_run(tmp_path / "20261202T000000Z-sample")
    (run_dir / "coldstarts.jsonl").touch()  # what the watch leaves when nothing restarted
    summary = build_reports(run_dir)
    assert summary.cold_starts == ()
    assert "no model server started during the run" in (run_dir / "report.html").read_text()
