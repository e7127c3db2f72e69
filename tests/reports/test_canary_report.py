"""The serving canary in the reports: the sample run (region-a out from +10 to +14 s) with
canaries every 0.5 s to each region's server, region-a's failing from +10.5 s (1 s timeouts)."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from gameday.canaries import CanarySample, append_canary_samples
from reports import build_reports


def test_the_scenario_says_when_the_canary_failed_beside_when_the_edge_marked_down(
        tmp_path: Path, sample: ModuleType) -> None:
    run_dir = sample.write_sample_run(tmp_path / "20261202T000000Z-sample")
    samples = []
    for step in range(60):
        offset_s = step * 0.5
        for region in ("region-a", "region-b"):
            down = region == "region-a" and 10.5 <= offset_s < 14.0
            samples.append(CanarySample(
                t_s=sample.T0_S + offset_s, member=f"tabular-api-{region[-1]}1", region=region,
                stack="tabular", ok=not down, latency_s=1.0 if down else 0.01,
                status=0 if down else 200))
    append_canary_samples(run_dir, samples)
    build_reports(run_dir)
    (scenario,) = json.loads((run_dir / "summary.json").read_text())["scenarios"]
    # the fault started at +10 s; the first failing canary went at +10.5 s and gave up at +11.5
    assert scenario["canary_failed_s"] == pytest.approx(1.5, abs=0.05)
    assert scenario["edge_marked_down_s"] is not None
    html = (run_dir / "report.html").read_text()
    assert "canary failed" in html and "1.50 s" in html


def test_without_canaries_the_canary_column_is_empty(tmp_path: Path,
                                                     sample: ModuleType) -> None:
    run_dir = sample.write_sample_run(tmp_path / "20261202T000000Z-sample")
    build_reports(run_dir)
    (scenario,) = json.loads((run_dir / "summary.json").read_text())["scenarios"]
    assert scenario["canary_failed_s"] is None
