"""The reports of a database run folder whose truth is known by construction
(``tests/measure/database_run.py``): summary.json, junit.xml, report.html, summary.md and the
exit code of ``gameday report``."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from gameday.cli import main
from reports import build_reports
from tests.measure import database_run as run
from tests.measure.database_run import Variant

_PANELS = {"database-rpo": "RPO: every numbered write by outcome",
           "database-write-rto": "Write RTO and its parts",
           "database-replication": "Replication lag",
           "database-roles": "Node roles over time"}


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    run_dir = run.write_database_run(tmp_path_factory.mktemp("db") / "clean")
    return run_dir, build_reports(run_dir)


def _document(run_dir):
    return json.loads((run_dir / "summary.json").read_text())


def _scenario(run_dir):
    [scenario] = _document(run_dir)["scenarios"]
    return scenario["database"]


def _cases(run_dir):
    root = ET.parse(run_dir / "junit.xml").getroot()
    [suite] = [s for s in root.findall("testsuite") if s.get("name") == run.SCENARIO]
    return {case.get("name"): case for case in suite.findall("testcase")}


def test_a_clean_failover_within_its_objectives_passes(clean_run):
    _, summary = clean_run
    assert (summary.verdict, summary.exit_code) == ("pass", 0), summary.reason


def test_summary_json_has_the_database_figures_of_the_scenario(clean_run):
    run_dir, _ = clean_run
    database = _scenario(run_dir)
    rpo = database["rpo"]
    assert (rpo["lost"], rpo["lost_seqs"], rpo["unknown"]) == (3, list(run.LOST), 1)
    assert (rpo["acknowledged"], rpo["present"], rpo["lost_after_fault"]) == (920, 918, 0)
    assert rpo["rpo_s"] == pytest.approx(0.115, abs=1e-6)
    write_rto = database["write_rto"]
    assert write_rto["write_rto_s"] == pytest.approx(0.805, abs=1e-6)
    assert write_rto["detect_s"] == pytest.approx(0.005, abs=1e-6)
    assert write_rto["promote_s"] == pytest.approx(0.32, abs=1e-6)
    assert (write_rto["failed_writes"], write_rto["new_primary"]) == (80, "pg-b")
    assert database["split_brain"]["windows"] == [] and database["split_brain"]["measured"]
    assert database["replication_lag"]["max_lag_bytes"] == run.LAG_SPIKE_BYTES
    assert database["replication_lag"]["max_replay_lag_s"] == run.REPLAY_LAG_S
    assert (database["failover"], database["replication"]) == ("promote", "async")
    promoted = database["roles"][-1]
    assert (promoted["node"], promoted["state"]) == ("pg-b", "writable")
    assert promoted["since_fault_s"] == pytest.approx(0.32, abs=1e-6)
    top = _document(run_dir)["database"]
    assert top["writes"] == 1000 and top["errors"] == [] and top["audit"]["present"] == 918


def test_junit_has_a_case_per_database_slo_with_the_figure_and_its_parts(clean_run):
    run_dir, _ = clean_run
    cases = _cases(run_dir)
    assert {"rpo", "write_rto", "split_brain"} <= set(cases)
    rpo = cases["rpo"]
    properties = {p.get("name"): p.get("value") for p in rpo.find("properties")}
    assert (properties["lost"], properties["unknown"], properties["max_lost"]) == ("3", "1", "3")
    assert "3 of 920 acknowledged writes lost" in rpo.find("system-out").text
    assert "promote 0.32 s" in cases["write_rto"].find("system-out").text


def test_the_report_shows_the_database_panels_and_table(clean_run):
    run_dir, _ = clean_run
    html = (run_dir / "report.html").read_text()
    for div_id, title in _PANELS.items():
        assert f'id="{div_id}"' in html and title in html
    assert f'<td id="db-lost-{run.SCENARIO}">3 / 920</td>' in html
    assert f'<td id="db-write-rto-{run.SCENARIO}">0.81 s</td>' in html
    assert "Nothing fences the old primary" in html
    assert not re.search(r"<(script|link)[^>]+(src|href)=", html)  # still one file, no CDN
    assert html.count("Plotly.newPlot(") == 1 + len(_PANELS)
    assert 'id="database-errors"' not in html
    assert "### Database" in (run_dir / "summary.md").read_text()


def test_a_split_brain_fails_the_run_with_exit_1_and_shows_the_window(tmp_path):
    run_dir = run.write_database_run(tmp_path / "run", Variant(split_brain=True))
    assert main(["report", str(run_dir)]) == 1
    document = _document(run_dir)
    assert document["verdict"] == "fail" and "split_brain" in document["reason"]
    [window] = _scenario(run_dir)["split_brain"]["windows"]
    assert window["nodes"] == ["pg-a", "pg-b"]
    assert window["start_s"] - run.T0_S == pytest.approx(run.PROMOTED_S, abs=run.PROBE_EVERY_S)
    assert window["end_s"] - run.T0_S == pytest.approx(run.OLD_PRIMARY_WRITABLE_UNTIL_S,
                                                       abs=run.PROBE_EVERY_S)
    assert _cases(run_dir)["split_brain"].find("failure").get("type") == "slo_breach"
    assert "SPLIT BRAIN: pg-a + pg-b" in (run_dir / "report.html").read_text()


def test_a_run_without_an_audit_fails_its_rpo_slo_as_not_measured(tmp_path):
    run_dir = run.write_database_run(tmp_path / "run", Variant(audit="missing"))
    summary = build_reports(run_dir)
    assert (summary.verdict, summary.exit_code) == ("fail", 1)
    assert "(not measured)" in summary.reason
    rpo = _scenario(run_dir)["rpo"]
    assert not rpo["measured"] and "no audit.json" in rpo["error"] and rpo["lost"] is None
    assert _cases(run_dir)["rpo"].find("failure").get("type") == "not_measured"
    html = (run_dir / "report.html").read_text()
    assert 'id="database-errors"' in html and "RPO not measured" in html


def test_a_run_without_database_data_has_no_database_section(built_sample):
    run_dir, _ = built_sample
    assert _document(run_dir)["database"] is None
    assert all(scenario["database"] is None for scenario in _document(run_dir)["scenarios"])
    assert 'id="database-rpo"' not in (run_dir / "report.html").read_text()
