"""A game day's report, rebuilt from its folder alone: the edge run of test_edge_section (a
region-a outage from +10 s to +14 s) driven by an operator, who injected it at +9.5 s, noted
the failover at +11 s and rolled it back at +12 s (the fault window closing at +14 s); a
second scenario, replica-kill, was never injected before the load ended.

The operator's rollback is not a stop condition's abort: the run is judged on its SLOs
(pass, exit 0), the scenario's SLOs included; the scenario not run tested nothing, so its
RTO SLO is left out of the verdict (and skipped in JUnit) and the reason says so.

The same run without an operator, its second scenario not run because the first overran the
schedule, could not test what its suite asks: inconclusive, exit 2, and a JUnit error."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gameday.operator_log import OPERATOR_CONDITION, OperatorLog
from gameday.records import Event, EventKind, EventLog
from gameday.triggers import AtOffsets, OperatorTrigger
from reports import build_reports
from reports.incidents import find_incidents
from tests.reports.test_edge_section import T0, write_edge_run

HYPOTHESIS = "region-b takes the load within 5 s"
NOTE = "failover seen at the edge <b>fast</b>"


def _with_replica_kill(run_dir: Path, *, game_day: bool) -> None:
    write_edge_run(run_dir, sweep=None)
    suite = json.loads((run_dir / "suite.json").read_text())
    suite["scenarios"].append({"name": "replica-kill", "experiment": "experiments/x.json"})
    suite["slos"].append({"kind": "rto", "threshold_s": 10})
    if game_day:
        suite["gameday"] = {"hypothesis": HYPOTHESIS}
    (run_dir / "suite.json").write_text(json.dumps(suite))


def _game_day_run(run_dir: Path) -> Path:
    _with_replica_kill(run_dir, game_day=True)
    log = OperatorLog(run_dir)
    log.record("hypothesis", text=HYPOTHESIS, t_s=T0 - 1)
    log.record("inject", scenario="region-outage", t_s=T0 + 9.4)
    log.record("note", text=NOTE, t_s=T0 + 11)
    log.record("roll_back", scenario="region-outage", text="operator: roll back now",
               t_s=T0 + 12)
    events = EventLog(run_dir / "events.jsonl")
    events.emit(EventKind.SCENARIO_ABORTED, "region-outage", t_s=T0 + 14.6,
                reason="operator: roll back now", condition=OPERATOR_CONDITION, at_s=T0 + 12,
                journal_status="interrupted")
    events.emit(EventKind.SCENARIO_NOT_RUN, "replica-kill", t_s=T0 + 20,
                reason=OperatorTrigger.not_run_reason, trigger=OperatorTrigger.name)
    return run_dir


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = _game_day_run(tmp_path_factory.mktemp("gameday") / "20260101T000000Z-gd")
    build_reports(run_dir)
    return run_dir


def test_an_operator_rollback_is_judged_and_a_scenario_not_run_is_left_out(built: Path) -> None:
    summary = json.loads((built / "summary.json").read_text())
    assert (summary["verdict"], summary["exit_code"]) == ("pass", 0)
    assert "scenario replica-kill was not run" in summary["reason"]
    rto = {s["scenario"]: s for s in summary["slos"] if s["kind"] == "rto"}
    assert rto["region-outage"]["passed"]  # judged on the window the operator ended
    assert not rto["replica-kill"]["passed"]  # measured as never started, but left out


def test_the_summary_holds_the_hypothesis_actions_and_notes(built: Path) -> None:
    day = json.loads((built / "summary.json").read_text())["game_day"]
    assert day["hypothesis"] == HYPOTHESIS and day["notes"] == [NOTE]
    assert [(a["action"], a["scenario"]) for a in day["actions"]] == [
        ("inject", "region-outage"), ("note", ""), ("roll_back", "region-outage")]
    assert [a["t_s"] for a in day["actions"]] == [T0 + 9.4, T0 + 11, T0 + 12]
    assert [r["scenario"] for r in day["rolled_back_by_operator"]] == ["region-outage"]
    assert [n["scenario"] for n in day["not_run"]] == ["replica-kill"]
    harness = [(e["what"], e["scenario"]) for e in day["timeline"] if e["who"] == "harness"]
    assert ("fault in force", "region-outage") in harness
    assert harness.index(("fault in force", "region-outage")) < harness.index(
        ("fault window closed (rollback returned)", "region-outage"))


def test_the_report_has_the_game_day_section_and_marks_the_actions(built: Path) -> None:
    html = (built / "report.html").read_text()
    section = html[html.index('id="game-day"'):html.index("<h2>Timeline</h2>")]
    assert HYPOTHESIS in section
    assert "failover seen at the edge &lt;b&gt;fast&lt;/b&gt;" in section  # escaped
    assert 'id="rolled-back-region-outage"' in section and "at +12.0 s" in section
    assert 'id="not-run-replica-kill"' in section
    rows = section.count('<tr class="operator">')
    assert rows == 3
    assert "+9.4 s" in section and "+14.0 s" in section  # the inject; the window's close
    assert 'id="aborted-region-outage"' not in html  # not a stop condition's banner
    assert "note: failover seen at the edge" in html  # the chart's marker label
    assert "inject region-outage" in html


def test_junit_skips_the_scenario_not_run(built: Path) -> None:
    root = ET.parse(built / "junit.xml").getroot()
    cases = {(suite.get("name"), case.get("name")): [child.tag for child in case]
             for suite in root.iter("testsuite") for case in suite.iter("testcase")}
    assert "skipped" in cases[("replica-kill", "rto")]
    assert "skipped" in cases[("replica-kill", "steady_state")]
    assert "failure" not in cases[("region-outage", "rto")]


def test_a_run_without_an_operator_has_no_game_day(tmp_path: Path) -> None:
    run_dir = write_edge_run(tmp_path / "20260101T000000Z-edge-run", sweep=None)
    build_reports(run_dir)
    assert json.loads((run_dir / "summary.json").read_text())["game_day"] is None
    assert 'id="game-day"' not in (run_dir / "report.html").read_text()


def test_a_scheduled_scenario_the_schedule_left_no_time_for_makes_the_run_inconclusive(
        tmp_path: Path) -> None:
    run_dir = tmp_path / "20260101T000000Z-scheduled"
    _with_replica_kill(run_dir, game_day=False)
    EventLog(run_dir / "events.jsonl").emit(
        EventKind.SCENARIO_NOT_RUN, "replica-kill", t_s=T0 + 20,
        reason=AtOffsets.not_run_reason, trigger=AtOffsets.name)
    summary = build_reports(run_dir)
    assert (summary.verdict, summary.exit_code) == ("inconclusive", 2)
    assert "scenario replica-kill was not run" in summary.reason
    assert "lengthen load.duration_s" in summary.reason
    root = ET.parse(run_dir / "junit.xml").getroot()
    [suite] = [s for s in root.iter("testsuite") if s.get("name") == "replica-kill"]
    [case] = [c for c in suite.iter("testcase") if c.get("name") == "schedule"]
    error = case.find("error")
    assert error is not None and error.get("type") == "scenario_not_run"
    assert "overran their slots" in (error.text or "")


def test_a_not_run_event_without_a_trigger_is_a_game_day_s() -> None:
    """Game days were the only source of ``scenario_not_run`` before it named its trigger:
    their run folders rebuild to the verdict they had."""
    [not_run] = find_incidents([Event(T0, EventKind.SCENARIO_NOT_RUN, "replica-kill",
                                      {"reason": "the load ended"})], {}).not_run
    assert not not_run.by_schedule
