"""A real run with a stop condition: region-a is killed for 30 s behind an edge that checks
slowly (every 1 s, 3 failures to go down, no passive observation), so every request fails
for a few seconds and the budget burns at ~100x; the burn-rate stop condition aborts the
scenario within its window, the region is restored (not 30 s later), nothing is left
injected, the run goes on and says ``aborted`` (exit 3).

Ground truth: the kill action's own record of when it signalled, the journal's rollback start,
and the request records read here with the csv module.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from conftest import platform_up
from gameday.edge_options import EdgeOptions, HealthOptions
from gameday.platforms.local.platform import LocalPlatform
from tests.runs.run_helpers import RunFolder, left_on_a_shared_platform, run_gameday, write_suite

LONG_WINDOW_S = 2.0


@pytest.fixture(scope="module")
def slow_edge(trained_artifacts: Path,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    edge = EdgeOptions(health=HealthOptions(inter_ms=1000, fall=3, rise=2, observe="none"))
    with platform_up(tmp_path_factory.mktemp("gameday-home"), edge=edge) as platform:
        yield platform


@pytest.fixture(scope="module")
def aborted_run(slow_edge: LocalPlatform, tmp_path_factory: pytest.TempPathFactory
                ) -> RunFolder:
    work = tmp_path_factory.mktemp("stop-run")
    path = write_suite(work / "suite.yaml", duration_s=24, offset_s=4, fault_duration_s=30,
                       slos=[{"kind": "availability", "objective": 0.99,
                              "scope": "outside_faults"}])
    suite = yaml.safe_load(path.read_text())
    suite["edge"] = {"health_check": "deep",
                     "health": {"inter_ms": 1000, "fall": 3, "rise": 2, "observe": "none"}}
    suite["stop_conditions"] = [{"name": "fast-burn", "burn_rate": {
        "target": 0.99, "threshold": 14.4, "long_window_s": LONG_WINDOW_S,
        "short_window_s": 0.5}}]
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    result = run_gameday("run", str(path), "--runs-dir", str(work / "runs"),
                         home=slow_edge.home.root)
    assert result.returncode == 3, result.stdout + result.stderr
    return RunFolder.only_one_in(work / "runs")


def test_the_burn_aborts_the_scenario_within_its_window(aborted_run: RunFolder) -> None:
    kill = aborted_run.event("fault_start").detail["output"]
    journal = json.loads((aborted_run.path / "journal-region-outage.json").read_text())
    rollback_s = datetime.fromisoformat(journal["rollbacks"][0]["start"]).timestamp()
    assert journal["status"] == "interrupted"
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]
    assert journal["gameday_stop"]["condition"] == "fast-burn"
    # the first failed answer, from the records themselves
    with next(aborted_run.path.glob("requests*.csv")).open() as handle:
        failed = sorted(float(r["end_s"]) for r in csv.DictReader(handle) if r["ok"] != "1"
                        and float(r["scheduled_s"]) >= kill["signalled_from_s"] - 1)
    assert failed, "the outage failed no request: nothing to stop"
    taken_s = rollback_s - failed[0]
    print(f"rollback began {taken_s:.2f} s after the first failed answer, "
          f"{rollback_s - kill['signalled_by_s']:.2f} s after the kill (fault asked for 30 s)")
    assert taken_s <= LONG_WINDOW_S + 1.0  # the watch checks every 0.25 s, records flush 0.5 s


def test_the_run_says_aborted_and_leaves_nothing_injected(aborted_run: RunFolder,
                                                          slow_edge: LocalPlatform) -> None:
    summary = aborted_run.summary
    assert (summary["verdict"], summary["exit_code"]) == ("aborted", 3)
    assert "stop condition fast-burn" in summary["reason"]
    aborted = aborted_run.event("scenario_aborted")
    assert aborted.scenario == "region-outage" and aborted.detail["condition"] == "fast-burn"
    assert 'id="aborted-region-outage"' in (aborted_run.path / "report.html").read_text()
    assert left_on_a_shared_platform(slow_edge, aborted_run.path) == []
