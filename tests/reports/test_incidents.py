"""The verdict contract with the orchestrator: interruptions, deviated steady states and
failed rollbacks change the verdict (fabricated run folders: ``reports`` is pure)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from reports import build_reports


def _build(tmp_path, sample, **options):
    run_dir = sample.write_sample_run(tmp_path / "run", **options)
    return run_dir, build_reports(run_dir)


def _junit_case(run_dir, suite_name, case_name):
    root = ET.parse(run_dir / "junit.xml").getroot()
    [suite] = [s for s in root.findall("testsuite") if s.get("name") == suite_name]
    [case] = [c for c in suite.findall("testcase") if c.get("name") == case_name]
    return case


def test_an_interrupted_event_makes_the_run_an_error_that_says_so(tmp_path, sample):
    run_dir, summary = _build(tmp_path, sample, interrupted=True)
    assert (summary.verdict, summary.exit_code) == ("error", 2)
    assert summary.reason == ("interrupted: SIGINT during fault; the figures cover only part "
                              "of the run")
    document = json.loads((run_dir / "summary.json").read_text())
    assert document["interrupted"] == {"reason": "SIGINT", "phase": "fault",
                                       "load_stopped_by": ""}
    error = _junit_case(run_dir, "run", "harness").find("error")
    assert error.get("type") == "interrupted"


def test_a_load_stopped_by_a_signal_is_an_interrupted_run_not_an_slo_breach(tmp_path, sample):
    # the defect of issue 5: SIGINT stopped the load generator, the harness carried on and
    # blamed the system ("never recovered", exit 1) or passed it (exit 0)
    trouble = sample.SampleTrouble(load_stopped_by="SIGINT")
    run_dir, summary = _build(tmp_path, sample, trouble=trouble)
    assert (summary.verdict, summary.exit_code) == ("error", 2)
    assert summary.reason.startswith("interrupted: the load generator was stopped by SIGINT "
                                     "before the end of its schedule")
    assert summary.interruption.load_stopped_by == "SIGINT"
    assert _junit_case(run_dir, "run", "availability.outside_faults").find("skipped") is not None


def test_a_load_that_ran_its_whole_schedule_is_not_an_interruption(built_sample):
    run_dir, summary = built_sample
    assert summary.interruption is None and summary.verdict == "pass"
    assert json.loads((run_dir / "summary.json").read_text())["interrupted"] is None


def test_a_log_that_never_reaches_run_end_is_an_interrupted_run(tmp_path, sample):
    _, summary = _build(tmp_path, sample, trouble=sample.SampleTrouble(no_run_end=True))
    assert (summary.verdict, summary.exit_code) == ("error", 2)
    assert "without run_end" in summary.reason


def test_a_deviated_steady_state_fails_the_run_with_a_failing_steady_state_case(tmp_path,
                                                                                sample):
    run_dir, summary = _build(tmp_path, sample, trouble=sample.SampleTrouble(deviated=True))
    assert (summary.verdict, summary.exit_code) == ("fail", 1)
    assert summary.reason == ("the steady-state hypothesis deviated after the fault in "
                              "region-outage")
    failure = _junit_case(run_dir, "region-outage", "steady_state").find("failure")
    assert failure is not None and failure.get("type") == "steady_state_deviated"


def test_a_deviation_in_a_run_with_a_harness_error_is_still_a_harness_error(tmp_path, sample):
    _, summary = _build(tmp_path, sample, harness_error="fault proxy vanished",
                        trouble=sample.SampleTrouble(deviated=True))
    assert (summary.verdict, summary.exit_code, summary.reason) == \
        ("error", 2, "fault proxy vanished")


def test_a_rollback_failed_event_is_a_harness_error_naming_what_is_still_injected(tmp_path,
                                                                                  sample):
    trouble = sample.SampleTrouble(rollback_failed=("region-a held (SIGSTOP)",
                                                    "nft table gameday_isolate"),
                                   rollback_statuses=("failed",))
    run_dir, summary = _build(tmp_path, sample, trouble=trouble)
    assert (summary.verdict, summary.exit_code) == ("error", 2)
    assert summary.reason == ("rollback failed in region-outage (restore_region: region-a "
                              "members did not come back): still injected: region-a held "
                              "(SIGSTOP), nft table gameday_isolate")
    error = _junit_case(run_dir, "region-outage", "rollback").find("error")
    assert error.get("type") == "rollback_failed" and "nft table" in error.get("message")
    document = json.loads((run_dir / "summary.json").read_text())
    assert document["rollback_failures"][0]["still_injected"] == [
        "region-a held (SIGSTOP)", "nft table gameday_isolate"]


def test_a_failed_rollback_status_alone_is_a_harness_error_too(tmp_path, sample):
    trouble = sample.SampleTrouble(rollback_statuses=("succeeded", "failed"))
    _, summary = _build(tmp_path, sample, trouble=trouble)
    assert (summary.verdict, summary.exit_code) == ("error", 2)
    assert summary.reason.startswith("rollback failed in region-outage (rollback status "
                                     "failed): still injected: unknown")


def test_a_failed_rollback_in_the_journal_alone_is_a_harness_error(tmp_path, sample):
    run_dir = sample.write_sample_run(tmp_path / "run")
    journal_path = run_dir / "journal-region-outage.json"
    journal = json.loads(journal_path.read_text())
    journal["rollbacks"] = [{"activity": {"name": "restore-region"}, "status": "failed"}]
    journal_path.write_text(json.dumps(journal))
    summary = build_reports(run_dir)
    assert (summary.verdict, summary.exit_code) == ("error", 2)
    assert "rollback failed in region-outage" in summary.reason
