"""A run judged against a baseline (``gameday run --baseline``): the judgement kept in the run
folder decides with the SLOs — a regression fails a run whose SLOs held, a clean judgement or a
Nodata one fails nothing — and shows in summary.json, junit.xml, summary.md and the report;
``gameday report`` rebuilds all of it after the baseline folder is gone."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gameday.cli import main
from reports import build_reports
from reports.compare import compare_runs
from reports.compare_page import write_judgement
from tests.cli.run_writer import WARMUP_S, write_run


def _judged_run(tmp_path: Path, **candidate: float) -> Path:
    base = write_run(tmp_path / "base", seed=1)
    run = write_run(tmp_path / "run", seed=2, **candidate)
    write_judgement(run, compare_runs(base, run))
    return run


def _baseline_case(run: Path) -> ET.Element:
    root = ET.parse(run / "junit.xml").getroot()
    return next(case for case in root.iter("testcase") if case.get("name") == "baseline")


def test_a_regression_fails_a_run_whose_slos_held(tmp_path: Path) -> None:
    run = _judged_run(tmp_path, shift_s=0.020)
    summary = build_reports(run)
    assert all(slo.passed for slo in summary.slos)
    assert summary.verdict == "fail" and summary.exit_code == 1
    assert summary.reason.startswith("regressed against baseline base: latency:tabular High (+")
    document = json.loads((run / "summary.json").read_text())
    assert document["baseline"]["regressed"] is True
    assert document["baseline"]["failed"] == ["latency:tabular"]
    case = _baseline_case(run)
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "regressed"
    assert "latency:tabular High" in (failure.get("message") or "")
    html = (run / "report.html").read_text()
    assert 'id="baseline-verdict" data-regressed="true">FAIL' in html
    assert (run / "compare.html").is_file()
    assert "Against the baseline" in (run / "summary.md").read_text()


def test_no_regression_keeps_the_pass_and_says_so(tmp_path: Path) -> None:
    run = _judged_run(tmp_path)
    summary = build_reports(run)
    assert summary.verdict == "pass" and summary.exit_code == 0
    assert "no regression against baseline base (pass)" in summary.reason
    assert _baseline_case(run).find("failure") is None


def test_a_nodata_judgement_fails_nothing_and_says_the_run_was_not_judged(
        tmp_path: Path) -> None:
    run = _judged_run(tmp_path, duration_s=WARMUP_S + 0.4)
    summary = build_reports(run)
    assert summary.verdict == "pass"
    assert "not judged against baseline base" in summary.reason
    assert _baseline_case(run).find("skipped") is not None


def test_the_report_rebuilds_from_the_run_folder_alone(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    run = _judged_run(tmp_path, shift_s=0.020)
    first = build_reports(run).reason
    shutil.rmtree(tmp_path / "base")
    assert main(["report", str(run)]) == 1
    capsys.readouterr()
    assert json.loads((run / "summary.json").read_text())["reason"] == first


def test_a_damaged_judgement_is_a_clear_error(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    run = _judged_run(tmp_path)
    (run / "baseline.json").write_text('{"schema": "something else"}')
    code = main(["report", str(run)])
    output = capsys.readouterr()
    assert code == 2
    assert "baseline.json" in output.out + output.err
    assert "Traceback" not in output.out + output.err
