from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from reports import build_reports


def test_junit_has_a_run_suite_and_one_suite_per_scenario_with_a_case_per_slo(built_sample):
    run_dir, _ = built_sample
    root = ET.parse(run_dir / "junit.xml").getroot()
    assert root.tag == "testsuites"
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert set(suites) == {"run", "region-outage"}
    run_cases = [case.get("name") for case in suites["run"].findall("testcase")]
    assert run_cases == ["availability>=99%(outside_faults)", "p99<=250ms(outside_faults)"]
    scenario_cases = [case.get("name") for case in suites["region-outage"].findall("testcase")]
    assert scenario_cases == ["rto<=5s[region-outage]"]
    assert root.get("tests") == "3" and root.get("failures") == "0"
    properties = {p.get("name"): p.get("value")
                  for p in suites["region-outage"].find("properties")}
    assert properties["target_region"] == "region-a" and properties["rto_s"]


def test_junit_counts_failures_and_carries_the_breach_message(tmp_path, sample):
    run_dir = sample.write_sample_run(tmp_path / "run")
    suite = json.loads((run_dir / "suite.json").read_text())
    suite["slos"] += [{"kind": "rto", "threshold_s": 1.0},
                      {"kind": "availability", "objective": 0.99, "scope": "during_faults"}]
    (run_dir / "suite.json").write_text(json.dumps(suite))
    build_reports(run_dir)
    root = ET.parse(run_dir / "junit.xml").getroot()
    failures = root.findall(".//testcase/failure")
    assert len(failures) == 2 == int(root.get("failures"))
    assert int(root.get("tests")) == 5
    by_suite = {s.get("name"): int(s.get("failures")) for s in root.findall("testsuite")}
    assert by_suite == {"run": 1, "region-outage": 1}
    assert all(f.get("message") for f in failures)


def test_a_harness_error_shows_up_as_an_error_case(tmp_path, sample):
    run_dir = sample.write_sample_run(tmp_path / "run", harness_error="platform died")
    build_reports(run_dir)
    root = ET.parse(run_dir / "junit.xml").getroot()
    [error] = root.findall(".//testcase[@name='harness']/error")
    assert error.get("message") == "platform died" and root.get("errors") == "1"
