"""The resources-and-cost part of the reports, rebuilt from the run folder alone: the synthetic
cost run of ``tests.measure.cost_run`` (known CPU seconds, GiB-seconds and requests), with a
surge the autoscaler answered, with a series missing and with no metrics at all."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reports import build_reports
from tests.measure import cost_run as run

T0 = run.T0_S


def _with_autoscaling(run_dir: Path) -> Path:
    run.write_cost_run(run_dir, slos=[run.cost_slo(max_per_1k=0.5)],
                       steps=[{"at_s": T0 + 10, "rate_per_s": 32.0},
                              {"at_s": T0 + 20, "rate_per_s": 8.0}])
    run.append_autoscaler(run_dir, [
        {"kind": "decision", "t_s": T0 + 12.5, "stack": "tabular", "component": "api",
         "region": "region-a", "current": 2, "desired": 4, "reason": "cpu above target"},
        {"kind": "scaled", "t_s": T0 + 16, "started_s": T0 + 12.5, "stack": "tabular",
         "component": "api", "region": "region-a", "from": 2, "to": 4, "members": []}])
    series = run.resource_series()
    series["member_up"] = [(labels, [(t, 1.0) for t, _ in points])
                           for labels, points in series["resident_bytes"]]
    run.write_metrics(run_dir, series)
    return run_dir


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    run_dir = _with_autoscaling(tmp_path_factory.mktemp("cost") / "20260101T000000Z-cost-run")
    return run_dir, build_reports(run_dir)


def _cell(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[html.index(">", start) + 1:html.index("<", start)]


def _banner(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start:html.index("</div>", start)]


def test_the_page_has_the_cost_section_its_tables_and_charts(built):
    run_dir, _ = built
    html = (run_dir / "report.html").read_text()
    assert '<h2 id="cost">Resources and cost</h2>' in html
    assert _cell(html, "cost-per-1k-tabular-outside_faults-region-a") == "0.1528"  # 0.011/72 k
    assert _cell(html, "cost-standby-tabular-outside_faults-region-b") == "0.01400"
    assert _cell(html, "cost-per-1k-standby-tabular-outside_faults-all") == "0.3472"
    assert _cell(html, "cost-per-1k-tabular-fault-region-outage-region-b") == "0.2000"
    assert "Platform overhead (charged to no stack)" in html and ">fault-proxy<" in html
    assert "test prices, 2026-01-01" in _cell(html, "cost-source") and "EUR" in html
    assert 'id="cost-over-time"' in html and 'id="replicas-vs-load"' in html
    assert _cell(html, "scale-reaction-tabular-0") == "2.50 s"
    assert _cell(html, "scale-ready-tabular-0") == "3.50 s"


def test_summary_json_has_the_cost_and_autoscaling_figures(built):
    run_dir, _ = built
    document = json.loads((run_dir / "summary.json").read_text())
    stacks = {(c["stack"], c["phase"]): c for c in document["cost"]["stacks"]}
    assert stacks["tabular", "outside_faults"]["per_1k"] == pytest.approx(0.011 / 72 * 1000)
    assert stacks["tabular", "outside_faults"]["standby_cost"] == pytest.approx(0.014)
    assert document["cost"]["currency"] == "EUR" and document["cost"]["missing"] == []
    [step] = document["autoscaling"]["steps"]
    assert step["reaction_s"] == pytest.approx(2.5)
    assert step["time_to_ready_s"] == pytest.approx(3.5)
    [slo] = [s for s in document["slos"] if s["kind"] == "cost"]
    assert slo["passed"] and slo["measured"] == pytest.approx(0.025 / 72 * 1000)


def test_the_markdown_summary_has_a_cost_line(built):
    run_dir, _ = built
    markdown = (run_dir / "summary.md").read_text()
    assert "**Cost** (EUR, steady state): tabular 0.1528 per 1,000 successful requests" in \
        markdown
    assert "| `cost.tabular.all.outside_faults` |" in markdown


def test_a_missing_cpu_seconds_series_is_named_and_its_slo_is_a_junit_error(tmp_path):
    run_dir = _with_autoscaling(tmp_path / "run")
    (run_dir / "metrics" / "cpu_seconds.json").unlink()
    summary = build_reports(run_dir)
    html = (run_dir / "report.html").read_text()
    assert "Missing series: cpu_seconds." in _banner(html, "cost-missing")
    assert 'id="cost-over-time"' not in html
    [result] = [r for r in summary.slos if r.kind == "cost"]
    assert not result.passed and "cpu_seconds" in result.measurement_error
    root = ET.parse(run_dir / "junit.xml").getroot()
    [case] = [c for c in root.iter("testcase") if c.get("name") ==
              "cost.tabular.all.outside_faults"]
    error = case.find("error")
    assert error is not None and error.get("type") == "not_measured"
    assert case.find("failure") is None
    assert root.get("errors") == "1"
    assert summary.verdict == "fail" and "(not measured)" in summary.reason


def test_a_run_without_metrics_still_builds_and_names_the_missing_series(tmp_path):
    run_dir = run.write_cost_run(tmp_path / "run", metrics=False)
    build_reports(run_dir)
    html = (run_dir / "report.html").read_text()
    banner = _banner(html, "cost-missing")
    assert "cpu_seconds, resident_bytes, gpus" in banner
    assert "no metrics/ folder in the run folder" in banner
    assert 'id="cost-over-time"' not in html and 'id="autoscaling"' not in html
    document = json.loads((run_dir / "summary.json").read_text())
    assert document["cost"]["missing"] == ["cpu_seconds", "resident_bytes", "gpus"]
    assert document["autoscaling"] is None
