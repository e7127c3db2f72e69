from __future__ import annotations

import json

import pytest

from gameday.errors import MeasurementError
from gameday.records import REQUEST_COLUMNS
from reports import build_reports


def test_the_sample_run_passes_and_gets_all_three_reports(built_sample):
    run_dir, summary = built_sample
    assert (summary.verdict, summary.exit_code) == ("pass", 0)
    for name in ("summary.json", "report.html", "junit.xml", "summary.md"):
        assert (run_dir / name).stat().st_size > 0
    assert not list(run_dir.glob(".*.partial"))


def test_a_breached_slo_fails_the_run(tmp_path, sample):
    run_dir = sample.write_sample_run(tmp_path / "run")
    suite = json.loads((run_dir / "suite.json").read_text())
    suite["slos"].append({"kind": "rto", "threshold_s": 1.0})  # recovery takes ~1.5 s
    (run_dir / "suite.json").write_text(json.dumps(suite))
    summary = build_reports(run_dir)
    assert (summary.verdict, summary.exit_code) == ("fail", 1)
    assert "rto<=1s[region-outage]" in summary.reason


def test_a_harness_error_makes_the_verdict_error_with_its_message(tmp_path, sample):
    run_dir = sample.write_sample_run(tmp_path / "run", harness_error="fault proxy vanished")
    summary = build_reports(run_dir)
    assert (summary.verdict, summary.exit_code) == ("error", 2)
    assert summary.reason == "fault proxy vanished"


def test_an_interrupted_run_still_gets_a_partial_report(tmp_path, sample):
    run_dir = sample.write_sample_run(tmp_path / "run", interrupted=True)
    summary = build_reports(run_dir)
    assert (summary.verdict, summary.exit_code) == ("error", 2)
    assert summary.reason.startswith("interrupted: SIGINT during fault")
    for name in ("report.html", "junit.xml", "summary.md"):
        assert (run_dir / name).is_file()
    document = json.loads((run_dir / "summary.json").read_text())
    assert document["scenarios"][0]["fault_end_s"] is None  # interrupted before the rollback


def test_a_saturated_generator_makes_the_run_inconclusive(tmp_path, sample):
    summary = build_reports(sample.write_sample_run(tmp_path / "run", saturated=True))
    assert (summary.verdict, summary.exit_code) == ("inconclusive", 2)
    assert "could not keep its schedule" in summary.reason
    assert "not the system" in summary.reason


def test_a_run_without_requests_is_an_error_but_still_reported(tmp_path, sample):
    run_dir = sample.write_sample_run(tmp_path / "run")
    (run_dir / "requests-gen0.csv").unlink()
    summary = build_reports(run_dir)
    assert (summary.verdict, summary.exit_code) == ("error", 2)
    assert "no request records" in summary.reason
    assert "no request records in this run" in (run_dir / "report.html").read_text()


def test_a_folder_without_suite_json_is_a_measurement_error(tmp_path):
    (tmp_path / "events.jsonl").write_text("")
    with pytest.raises(MeasurementError, match=r"suite\.json"):
        build_reports(tmp_path)


def test_reports_are_recomputed_identically_from_the_folder(built_sample):
    run_dir, _ = built_sample
    first = (run_dir / "summary.json").read_text()
    build_reports(run_dir)
    assert (run_dir / "summary.json").read_text() == first


def test_damaged_request_records_are_a_measurement_error_naming_the_file(tmp_path, sample):
    run_dir = sample.write_sample_run(tmp_path / "run")
    with (run_dir / "requests-gen0.csv").open("a") as handle:
        # a row with every field, one of them not a number
        fields = ["not-a-time", "1", "2", "tabular", "predict", "region-a", "200", "1"]
        fields += [""] * (len(REQUEST_COLUMNS) - len(fields) - 1) + ["0.1"]
        handle.write(",".join(fields) + "\r\n")
    with pytest.raises(MeasurementError, match=r"requests-gen0\.csv: unreadable request records"):
        build_reports(run_dir)


def test_request_records_of_the_first_file_format_still_read(tmp_path):
    from gameday.records import read_requests
    old = ("scheduled_s,start_s,end_s,stack,endpoint,region,status,ok,error_kind,ttft_s,itl_s,"
           "seq,latency_s\r\n1.0,1.0,1.1,tabular,predict,region-a,200,1,,,,,0.1\r\n")
    (tmp_path / "requests-gen0.csv").write_text(old)
    [record] = read_requests(tmp_path)
    assert (record.status, record.ok, record.question, record.recall) == (200, True, "", None)
