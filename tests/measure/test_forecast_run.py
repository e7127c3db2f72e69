"""What a forecast reads from a run folder (gameday.measure.forecast_run): the objective it
judges a month by, each scenario's measured figures, and a folder it cannot read named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gameday.config import AvailabilitySlo, LatencySlo, Scenario, Slo, Suite
from gameday.errors import ConfigError
from gameday.measure.forecast_run import DEFAULT_OBJECTIVE, read_run

SCENARIO = {"name": "region-outage", "fault_start_s": 100.0,
            "rto": {"rto_s": 2.5, "recovered": True, "requests": 50, "bad_requests": 12,
                    "failed_requests": 10, "detect_s": 0.1},
            "database": {"rpo": {"measured": True, "lost": 3, "rpo_s": 0.4}},
            "journal_status": "completed"}


def write_folder(run_dir: Path, slos: list[Slo], scenarios: list[dict] | None = None) -> Path:
    run_dir.mkdir()
    suite = Suite(name="r", slos=slos, scenarios=[
        Scenario(name="region-outage", experiment=Path("experiments/region-outage.json"))])
    (run_dir / "suite.json").write_text(json.dumps(suite.model_dump(mode="json")))
    summary = {"schema": "gameday.summary/1", "verdict": "pass",
               "scenarios": [SCENARIO] if scenarios is None else scenarios, "slos": []}
    (run_dir / "summary.json").write_text(json.dumps(summary))
    return run_dir


def test_the_objective_is_the_strictest_availability_slo_outside_faults(tmp_path: Path) -> None:
    run = read_run(write_folder(tmp_path / "run", [
        AvailabilitySlo(kind="availability", objective=0.99),
        AvailabilitySlo(kind="availability", objective=0.9995, scope="during_faults"),
        AvailabilitySlo(kind="availability", objective=0.995, scope="all")]))
    assert run.objective == 0.995 and "availability>=99.5%(all)" in run.objective_from


def test_a_suite_without_an_availability_slo_gets_the_stated_default(tmp_path: Path) -> None:
    run = read_run(write_folder(tmp_path / "run",
                                [LatencySlo(kind="latency", threshold_s=0.25)]))
    assert run.objective == DEFAULT_OBJECTIVE == 0.999
    assert "assumed" in run.objective_from


def test_each_scenario_carries_its_experiment_rto_window_and_rpo(tmp_path: Path) -> None:
    run = read_run(write_folder(tmp_path / "run",
                                [AvailabilitySlo(kind="availability", objective=0.99)]))
    (scenario,) = run.scenarios
    assert (scenario.experiment, scenario.rto_s, scenario.requests) == ("region-outage", 2.5, 50)
    assert (scenario.failed_requests, scenario.bad_requests) == (10, 12)
    assert (scenario.lost_writes, scenario.rpo_s) == (3, 0.4)


def test_a_fault_that_never_started_or_never_recovered_is_told(tmp_path: Path) -> None:
    never = {"name": "region-outage", "fault_start_s": None,
             "rto": {"rto_s": None, "recovered": False}}
    run = read_run(write_folder(tmp_path / "run",
                                [AvailabilitySlo(kind="availability", objective=0.99)],
                                [never]))
    assert run.scenarios[0].fault_started is False and run.scenarios[0].rto_s is None


@pytest.mark.parametrize(("damage", "where"), [
    (lambda d: (d / "summary.json").write_text("{not json"), "summary.json: not valid JSON"),
    (lambda d: (d / "summary.json").write_text(json.dumps(
        {"schema": "gameday.summary/1", "scenarios": [{"name": "x", "rto": {"requests": -1}}]})),
     "summary.json: scenarios.0.rto.requests"),
    (lambda d: (d / "suite.json").unlink(), "not a run folder (no suite.json)"),
], ids=["not-json", "negative-count", "no-suite"])
def test_an_unreadable_run_folder_is_a_config_error_naming_the_file(tmp_path: Path, damage,
                                                                    where: str) -> None:
    run_dir = write_folder(tmp_path / "run", [AvailabilitySlo(kind="availability",
                                                              objective=0.99)])
    damage(run_dir)
    with pytest.raises(ConfigError) as raised:
        read_run(run_dir)
    assert where in str(raised.value)
