"""A real run through HAProxy: ``gameday run`` kills region-a mid-load, the edge fails over.

The platform is stood up once for the module (so the run does not own it) and the CLI is run
as a user runs it. Ground truth for the measured figures is what the kill action itself
recorded: when it sent SIGKILL to region-a's processes.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import pytest

from gameday.platforms.local.platform import LocalPlatform
from gameday.records import read_edge_samples
from tests.runs.run_helpers import RunFolder, left_on_a_shared_platform, run_gameday, write_suite


def _restore_started_s(run: RunFolder) -> float:
    """When the rollback began restoring region-a (the journal's own timestamp). The fault
    window ends when the rollback *returned*; by then the restarted region may already be back
    at the edge (the restore waits for health; the edge re-admits after rise x inter), so a
    region-a answer before that is not a failed failover."""
    journal = json.loads((run.path / "journal-region-outage.json").read_text())
    return datetime.fromisoformat(journal["rollbacks"][0]["start"]).timestamp()


@pytest.fixture(scope="module")
def outage_run(local_platform: LocalPlatform,
               tmp_path_factory: pytest.TempPathFactory) -> RunFolder:
    work = tmp_path_factory.mktemp("outage-run")
    suite = write_suite(work / "suite.yaml")
    result = run_gameday("run", str(suite), "--runs-dir", str(work / "runs"),
                         home=local_platform.home.root)
    assert result.returncode == 0, result.stdout + result.stderr
    return RunFolder.only_one_in(work / "runs")


def test_the_run_folder_holds_every_artefact(outage_run: RunFolder) -> None:
    for name in ("suite.json", "events.jsonl", "journal-region-outage.json", "summary.json",
                 "report.html", "junit.xml"):
        assert (outage_run.path / name).is_file(), name
    assert list(outage_run.path.glob("requests*.csv"))
    assert outage_run.summary["verdict"] == "pass"
    assert outage_run.summary["scenarios"][0]["journal_status"] == "completed"


def test_rto_and_its_parts_match_the_real_kill(outage_run: RunFolder) -> None:
    fault_start = outage_run.event("fault_start")
    output = fault_start.detail["output"]
    signalled_by_s = output["signalled_by_s"]
    (scenario,) = outage_run.summary["scenarios"]
    rto = scenario["rto"]
    # the window opens when the kill action returned: after the signals, by its own check
    assert signalled_by_s <= scenario["fault_start_s"] == fault_start.t_s
    assert rto["recovered"] and 0 <= rto["rto_s"] <= 2.0
    # detect = end of the first bad request ending at/after the fault start, from the records
    slo_s = rto["latency_slo_s"]
    bad_ends = sorted(r.end_s for r in outage_run.requests if r.end_s >= fault_start.t_s
                      and not (r.ok and r.latency_s <= slo_s))
    if bad_ends:  # no failure seen is possible (the edge marked region-a down in time)
        assert rto["detect_s"] == pytest.approx(bad_ends[0] - fault_start.t_s, abs=1e-3)
        assert rto["detect_s"] <= rto["rto_s"] + 1.0
    else:
        assert rto["detect_s"] is None
    assert rto["failover_s"] is not None and rto["failover_s"] <= rto["rto_s"] + 1.0
    # no answer from region-a for a request sent after the kill, until the restore began
    restore_s = _restore_started_s(outage_run)
    after_kill = [r for r in outage_run.requests
                  if signalled_by_s < r.start_s and r.end_s < restore_s]
    assert after_kill and not [r for r in after_kill if r.ok and r.region == "region-a"]


def test_failover_answers_come_from_region_b(outage_run: RunFolder) -> None:
    fault_start_s = outage_run.event("fault_start").t_s
    restore_s = _restore_started_s(outage_run)
    during = [r for r in outage_run.requests if fault_start_s < r.start_s
              and r.end_s < restore_s]
    ok = [r for r in during if r.ok]
    assert len(ok) >= 0.9 * len(during)
    assert {r.region for r in ok} == {"region-b"}
    before = [r for r in outage_run.requests if r.end_s < fault_start_s - 1 and r.ok]
    assert {r.region for r in before} == {"region-a"}  # region-b is the backup


def test_the_run_left_the_platform_up_with_no_fault_in_force(outage_run: RunFolder,
                                                             local_platform: LocalPlatform) -> None:
    assert local_platform.is_up()
    assert left_on_a_shared_platform(local_platform, outage_run.path) == []
    assert local_platform.reset_faults() == []


def test_an_impossible_slo_fails_the_run_with_exit_1(local_platform: LocalPlatform,
                                                     tmp_path: Path) -> None:
    suite = write_suite(tmp_path / "suite.yaml", duration_s=12, offset_s=3, fault_duration_s=3)
    for attempt in range(2):
        runs = tmp_path / f"runs-{attempt}"
        result = run_gameday("run", str(suite), "--runs-dir", str(runs),
                             "--set", "slos.1.threshold_s=0.0001", home=local_platform.home.root)
        run = RunFolder.only_one_in(runs)
        # a starved CI host can make the generator miss its schedule: that run is rightly
        # inconclusive (exit 2) whatever its SLOs say; it measured the machine, so run it again
        if not run.summary["load"]["saturated"]:
            break
    assert result.returncode == 1, result.stdout + result.stderr
    summary = run.summary
    assert summary["verdict"] == "fail" and summary["exit_code"] == 1
    failed = [slo for slo in summary["slos"] if not slo["passed"]]
    assert [slo["kind"] for slo in failed] == ["latency"]
    suite_xml = ET.parse(run.path / "junit.xml").getroot()
    failures = [case.get("name") for case in suite_xml.iter("testcase")
                if case.find("failure") is not None]
    assert failures == ["latency.p99.outside_faults"]


def test_the_edge_view_shows_region_a_marked_down_after_the_kill_and_up_again(
        outage_run: RunFolder) -> None:
    output = outage_run.event("fault_start").detail["output"]
    fault_end_s = outage_run.summary["scenarios"][0]["fault_end_s"]
    samples = read_edge_samples(outage_run.path)
    region_a = sorted({s.server for s in samples if s.region == "region-a"})
    assert region_a == ["tabular-api-a1", "tabular-api-a2"]
    for server in region_a:
        states = [(s.t_s, s.up) for s in samples if s.server == server]
        assert states[0][1] is True, states  # up when the watch started
        down_s = next(t_s for t_s, up in states if not up)
        assert output["signalled_from_s"] <= down_s <= fault_end_s  # marked down by the kill
        assert states[-1][1] is True and states[-1][0] > down_s  # and up again after restore
    assert {s.up for s in samples if s.region == "region-b"} == {True}
