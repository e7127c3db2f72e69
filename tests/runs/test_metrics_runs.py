"""Runs and their metrics, as a user runs them (``gameday run`` on a platform that is up): the
run saves its Prometheus series and prices them; with Prometheus down it still completes,
its report names the missing series and a cost SLO is a JUnit error, never a pass."""

from __future__ import annotations

import json
import os
import signal
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

from gameday.platforms.local.platform import LocalPlatform
from tests.runs.run_helpers import RunFolder, run_gameday, write_suite

_COST = {"kind": "cost", "stack": "tabular", "max_per_1k": 1.0, "scope": "all"}


def _quiet_suite(tmp_path: Path) -> Path:
    path = write_suite(tmp_path / "suite.yaml", duration_s=8, rate_per_s=40)
    suite = yaml.safe_load(path.read_text())
    suite.update(name="test-metrics", scenarios=[],
                 slos=[{"kind": "availability", "objective": 0.9, "scope": "all"}, _COST])
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return path


def _cost_case(run: RunFolder) -> list[str]:
    root = ET.parse(run.path / "junit.xml").getroot()
    cases = [case for case in root.iter("testcase") if (case.get("name") or "")
             .startswith("cost.")]
    assert len(cases) == 1, [c.get("name") for c in root.iter("testcase")]
    return [child.tag for child in cases[0] if child.tag in ("failure", "error", "skipped")]


def test_a_run_saves_its_series_and_prices_the_requests(local_platform: LocalPlatform,
                                                        tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    done = run_gameday("run", str(_quiet_suite(tmp_path)), "--runs-dir", str(runs),
                       home=local_platform.home.root)
    assert done.returncode == 0, done.stdout + done.stderr
    run = RunFolder.only_one_in(runs)
    index = json.loads((run.path / "metrics" / "index.json").read_text())
    assert index["error"] == "" and {"cpu_seconds", "resident_bytes"} <= set(index["saved"])
    summary = json.loads((run.path / "summary.json").read_text())
    regions = {(r["region"], r["phase"]): r for r in summary["cost"]["regions"]}
    serving, standby = regions[("region-a", "all")], regions[("region-b", "all")]
    assert serving["served"] > 250 and serving["cpu_s"] > 0 and serving["per_1k"] > 0
    assert standby["served"] == 0 and standby["standby"] and standby["per_1k"] is None
    assert _cost_case(run) == []  # passed
    assert 'id="cost"' in (run.path / "report.html").read_text()


def test_with_prometheus_down_the_run_completes_and_cost_is_not_measured(
        local_platform: LocalPlatform, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    # frozen behind the harness's back (not a fault of its ledger, which the run would reset
    # first): Prometheus accepts connections and never answers, as a hung server does
    [prometheus] = [m for m in local_platform.members() if m.name == "metrics-prometheus"]
    assert prometheus.pid is not None
    os.kill(prometheus.pid, signal.SIGSTOP)
    try:
        done = run_gameday("run", str(_quiet_suite(tmp_path)), "--runs-dir", str(runs),
                           home=local_platform.home.root)
    finally:
        os.kill(prometheus.pid, signal.SIGCONT)
    run = RunFolder.only_one_in(runs)
    assert done.returncode == 1, done.stdout + done.stderr  # an SLO not met, not a crash
    index = json.loads((run.path / "metrics" / "index.json").read_text())
    assert index["saved"] == [] and "9490" in index["error"] and "timed out" in index["error"]
    summary = json.loads((run.path / "summary.json").read_text())
    assert "cpu_seconds" in summary["cost"]["measurement_error"]
    assert _cost_case(run) == ["error"]
    html = (run.path / "report.html").read_text()
    assert "cpu_seconds" in html and "resident_bytes" in html
    availability = [s for s in summary["slos"] if s["kind"] == "availability"]
    assert availability and availability[0]["passed"]  # the other figures stand
