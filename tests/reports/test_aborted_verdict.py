"""A scenario a stop condition aborted is its own outcome: the run is ``aborted`` (exit 3),
neither pass nor breach; the report says which condition fired and when; the aborted
scenario's JUnit cases are skipped with the reason; run-wide SLOs are still judged."""

from __future__ import annotations

import json
from pathlib import Path

from gameday.records import EventKind, EventLog
from reports import build_reports
from tests.reports.test_edge_section import T0, write_edge_run


def test_an_aborted_scenario_makes_the_run_aborted_not_failed(tmp_path: Path) -> None:
    run_dir = write_edge_run(tmp_path / "20260101T000000Z-edge-run", sweep=None)
    EventLog(run_dir / "events.jsonl").emit(
        EventKind.SCENARIO_ABORTED, "region-outage", t_s=T0 + 14.2,
        reason="stop condition fast-burn: burn rate 50.0x over 1 s", condition="fast-burn",
        at_s=T0 + 11.5, journal_status="interrupted")
    build_reports(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert (summary["verdict"], summary["exit_code"]) == ("aborted", 3)
    assert "scenario region-outage aborted: stop condition fast-burn" in summary["reason"]
    html = (run_dir / "report.html").read_text()
    assert 'id="aborted-region-outage"' in html and "(at +11.5 s)" in html
    junit = (run_dir / "junit.xml").read_text()
    assert 'testcase name="stop_condition"' in junit
    assert "aborted: stop condition fast-burn" in junit
    assert 'testcase name="availability.outside_faults"' in junit  # still judged
