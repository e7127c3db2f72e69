from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime

import pytest

from reports import build_reports


def _suites(run_dir):
    root = ET.parse(run_dir / "junit.xml").getroot()
    return root, {suite.get("name"): suite for suite in root.findall("testsuite")}


def _case(suite, name):
    [case] = [c for c in suite.findall("testcase") if c.get("name") == name]
    return case


def _properties(element):
    return {p.get("name"): p.get("value") for p in element.find("properties")}


def _add_slos(run_dir, *slos):
    suite = json.loads((run_dir / "suite.json").read_text())
    suite["slos"] += list(slos)
    (run_dir / "suite.json").write_text(json.dumps(suite))


def test_junit_has_a_run_suite_and_one_suite_per_scenario_with_stable_case_names(built_sample):
    run_dir, _ = built_sample
    root, suites = _suites(run_dir)
    assert root.tag == "testsuites"
    assert set(suites) == {"run", "region-outage"}
    run_cases = [case.get("name") for case in suites["run"].findall("testcase")]
    assert run_cases == ["availability.outside_faults", "latency.p99.outside_faults",
                         "harness", "generator"]
    scenario_cases = [case.get("name") for case in suites["region-outage"].findall("testcase")]
    assert scenario_cases == ["rto", "steady_state", "rollback"]
    assert _case(suites["region-outage"], "rto").get("classname") == \
        "gameday.sample-outage.region-outage"
    assert root.get("tests") == "7" and root.get("failures") == "0" and root.get("errors") == "0"
    properties = _properties(suites["region-outage"])
    assert properties["target_region"] == "region-a" and properties["rto_s"]


def test_changing_a_threshold_keeps_the_case_name_and_moves_it_to_the_properties(tmp_path,
                                                                                 sample):
    names = []
    for threshold_s in (5, 1):
        run_dir = sample.write_sample_run(tmp_path / f"rto-{threshold_s}")
        suite = json.loads((run_dir / "suite.json").read_text())
        suite["slos"][2]["threshold_s"] = threshold_s
        (run_dir / "suite.json").write_text(json.dumps(suite))
        build_reports(run_dir)
        _, suites = _suites(run_dir)
        case = _case(suites["region-outage"], "rto")
        names.append(case.get("name"))
        assert _properties(case)["objective"] == str(threshold_s)
        assert float(_properties(case)["measured"]) == pytest.approx(1.5, abs=0.1)
    assert names == ["rto", "rto"]
    failure = case.find("failure")  # 1 s: breached
    assert "over the objective 1 s" in failure.get("message")


def test_every_case_has_a_real_time_and_every_suite_a_timestamp_from_the_run(built_sample,
                                                                             sample):
    run_dir, _ = built_sample
    root, suites = _suites(run_dir)
    run_start = datetime.fromisoformat(suites["run"].get("timestamp"))
    assert run_start.timestamp() == pytest.approx(sample.T0_S - 2.0)  # run_start event
    scenario_start = datetime.fromisoformat(suites["region-outage"].get("timestamp"))
    assert scenario_start.timestamp() == pytest.approx(sample.T0_S + 9.9)
    assert run_start.utcoffset().total_seconds() == 0
    # availability outside faults: 30 s of load less 3 s warm-up less the 4 s outage
    availability = _case(suites["run"], "availability.outside_faults")
    assert float(availability.get("time")) == pytest.approx(30 - 3 - 4, abs=0.2)
    # the scenario's cases: from scenario_start (9.9 s) to scenario_end (15 s)
    assert float(_case(suites["region-outage"], "rto").get("time")) == pytest.approx(5.1)
    assert float(suites["region-outage"].get("time")) == pytest.approx(5.1)
    assert all(float(case.get("time")) > 0 for case in root.iter("testcase"))


def test_junit_counts_failures_and_carries_the_breach_message(tmp_path, sample):
    run_dir = sample.write_sample_run(tmp_path / "run")
    _add_slos(run_dir, {"kind": "rto", "threshold_s": 1.0},
              {"kind": "availability", "objective": 0.99, "scope": "during_faults"})
    build_reports(run_dir)
    root, suites = _suites(run_dir)
    failures = root.findall(".//testcase/failure")
    assert len(failures) == 2 == int(root.get("failures"))
    assert int(root.get("tests")) == 9
    by_suite = {name: int(s.get("failures")) for name, s in suites.items()}
    assert by_suite == {"run": 1, "region-outage": 1}
    assert all(f.get("message") for f in failures)
    # two RTO SLOs in one scenario: the second gets a suffix, in suite order
    rto_cases = [c.get("name") for c in suites["region-outage"].findall("testcase")]
    assert rto_cases[:2] == ["rto", "rto.2"]
    assert _case(suites["region-outage"], "rto.2").find("failure") is not None


def test_a_harness_error_shows_up_as_an_error_case_and_slos_are_not_judged(tmp_path, sample):
    run_dir = sample.write_sample_run(tmp_path / "run", harness_error="platform died")
    build_reports(run_dir)
    root, suites = _suites(run_dir)
    [error] = root.findall(".//testcase[@name='harness']/error")
    assert error.get("message") == "platform died" and root.get("errors") == "1"
    assert error.get("type") == "harness_error"
    skipped = _case(suites["run"], "availability.outside_faults").find("skipped")
    assert skipped.get("message").startswith("not judged: platform died")
    assert root.get("failures") == "0"
