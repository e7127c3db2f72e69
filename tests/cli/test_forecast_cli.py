"""`gameday forecast RUN_DIR` on a synthetic run folder whose summary.json the real report
builder wrote (suite.json from a real Suite, requests with the real RecordWriter, events with
the real EventLog), and its bad input: exit 2 naming the file and the field.

The story (seconds since load start T0): a request every 0.1 s to 40 s, warm-up to 2 s,
served by region-a in 10 ms. region-outage (experiments/region-outage.json) from 10 to 14 s:
the requests scheduled in [10, 12) fail, region-b answers from 12 s: RTO 2 s, 20 of 20
failed, 2 s unavailable. replica-kill from 25 to 27 s: in [25, 26) every other request fails
(the last at 25.8 s): RTO 0.9 s, 5 of the 9 requests in [25, 25.9) failed, 0.5 s
unavailable. Two regions and 2 replicas × 2 regions = 4 hosts, so the shipped rates give
region_outage 2 × 27 / 366 × 30 and host_failure 4 × 53 / (2,048 × 54) × 30 a month; the
strictest availability SLO outside faults is 0.995 (budget 0.005 × 30 d = 12,960 s).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from gameday.config import AvailabilitySlo, LoadProfile, Scenario, Suite
from gameday.measure.failure_rates import DEFAULT_RATES_FILE
from gameday.records import EventKind, EventLog, RecordWriter, RequestRecord
from reports import build_reports
from tests.cli.conftest import CliResult

Cli = Callable[..., CliResult]
T0 = 1_764_061_200.0
REGION_RATE = 2 * 27 / 366 * 30
HOST_RATE = 4 * 53 / (2048 * 54) * 30


def _request(k: int) -> RequestRecord:
    at_s = T0 + round(k * 0.1, 6)
    since_s = round(k * 0.1, 6)
    failed = 10 <= since_s < 12 or (25 <= since_s < 26 and k % 2 == 0)
    region = "region-b" if 12 <= since_s < 14 else "region-a"
    if failed:
        return RequestRecord(at_s, at_s, at_s + 0.5, "tabular", "predict", "", 502, False,
                             "http_5xx")
    return RequestRecord(at_s, at_s, at_s + 0.010, "tabular", "predict", region, 200, True)


def write_run(run_dir: Path) -> Path:
    run_dir.mkdir(parents=True)
    suite = Suite(name="forecast-run",
                  load=[LoadProfile(rate_per_s=10, duration_s=40, warmup_s=2,
                                    arrival="constant")],
                  scenarios=[Scenario(name="region-outage",
                                      experiment=Path("experiments/region-outage.json")),
                             Scenario(name="kill-one",
                                      experiment=Path("experiments/replica-kill.json"))],
                  slos=[AvailabilitySlo(kind="availability", objective=0.99),
                        AvailabilitySlo(kind="availability", objective=0.5,
                                        scope="during_faults"),
                        AvailabilitySlo(kind="availability", objective=0.995, scope="all")])
    (run_dir / "suite.json").write_text(json.dumps(suite.model_dump(mode="json")))
    with RecordWriter(run_dir / "requests-gen0.csv") as writer:
        for k in range(400):
            writer.write(_request(k))
    log = EventLog(run_dir / "events.jsonl")
    log.emit(EventKind.RUN_START, t_s=T0 - 1)
    log.emit(EventKind.LOAD_START, t_s=T0)
    log.emit(EventKind.WARMUP_END, t_s=T0 + 2)
    for name, start_s in (("region-outage", 10.0), ("kill-one", 25.0)):
        log.emit(EventKind.SCENARIO_START, name, t_s=T0 + start_s - 0.5)
        log.emit(EventKind.FAULT_START, name, t_s=T0 + start_s, target_region="region-a")
        log.emit(EventKind.FAULT_END, name, t_s=T0 + start_s + 4, target_region="region-a")
        log.emit(EventKind.SCENARIO_END, name, t_s=T0 + start_s + 4.5, deviated=False)
        (run_dir / f"journal-{name}.json").write_text(json.dumps(
            {"status": "completed", "deviated": False, "rollbacks": [{"status": "succeeded"}]}))
    log.emit(EventKind.LOAD_END, t_s=T0 + 40.1)
    log.emit(EventKind.RUN_END, t_s=T0 + 40.5)
    return run_dir


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = write_run(tmp_path_factory.mktemp("forecast") / "20260101T000000Z-forecast-run")
    build_reports(folder)
    return folder


def test_the_forecast_costs_each_measured_class_and_writes_its_json(run_dir: Path, cli: Cli,
                                                                    tmp_path: Path) -> None:
    target = tmp_path / "forecast.json"
    result = cli("forecast", str(run_dir), "--months", "2000", "--seed", "3",
                 "--json", str(target))
    assert result.code == 0, result.output
    flat = " ".join(result.stdout.split())
    assert "region_outage" in flat and "host_failure" in flat
    assert "expected downtime 8.88 s" in flat
    assert "assumptions:" in flat and "availability>=99.5%(all)" in flat
    document = json.loads(target.read_text())
    classes = {each["impact"]["name"]: each for each in document["classes"]}
    assert classes["region_outage"]["impact"]["impact_s"] == pytest.approx(2.0, rel=1e-6)
    assert classes["host_failure"]["impact"]["impact_s"] == pytest.approx(0.5, rel=1e-6)
    assert classes["region_outage"]["impact"]["rate_per_month"] == pytest.approx(REGION_RATE)
    assert classes["host_failure"]["impact"]["rate_per_month"] == pytest.approx(HOST_RATE)
    expected_s = REGION_RATE * 2.0 + HOST_RATE * 0.5
    assert document["expected_downtime_s"] == pytest.approx(expected_s, rel=1e-6)
    assert document["objective"] == 0.995
    assert document["budget_s"] == pytest.approx(12_960.0)
    assert document["expected_burn"] == pytest.approx(expected_s / 12_960.0, rel=1e-6)
    assert classes["region_outage"]["impact"]["scenarios"] == ["region-outage"]
    assert classes["host_failure"]["impact"]["scenarios"] == ["kill-one"]
    assert classes["bad_release"]["left_out"] == "no rate"  # deploys per month not given
    assert (document["months"], document["seed"]) == (2000, 3)


def test_an_objective_given_on_the_command_line_replaces_the_suites(run_dir: Path,
                                                                    cli: Cli) -> None:
    result = cli("forecast", str(run_dir), "--months", "10", "--objective", "0.9999")
    assert result.code == 0, result.output
    assert "objective 99.99 %" in result.stdout and "given (--objective)" in result.stdout


def test_a_folder_without_a_summary_is_not_a_run_folder(tmp_path: Path, cli: Cli) -> None:
    result = cli("forecast", str(tmp_path))
    assert result.code == 2
    assert f"{tmp_path}: not a run folder" in result.output.replace("\n", " ")


def _rates(tmp_path: Path, edit: Callable[[dict], object]) -> Path:
    document = yaml.safe_load(DEFAULT_RATES_FILE.read_text())
    edit(document)
    path = tmp_path / "rates.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.mark.parametrize(("edit", "field", "expected"), [
    (lambda d: d["classes"]["gpu_failure"].update(rat=1), "classes.gpu_failure.rat",
     "unknown key"),
    (lambda d: d["classes"]["region_outage"].update(observed=None, rate=-0.5),
     "classes.region_outage.rate", "greater than or equal to 0"),
    (lambda d: d["fleet"].update(hosts=-1), "fleet.hosts", "greater than or equal to 0"),
], ids=["misspelt-key", "negative-rate", "negative-fleet"])
def test_a_bad_rates_file_exits_2_naming_the_file_and_the_field(
        run_dir: Path, cli: Cli, tmp_path: Path, edit: Callable[[dict], object], field: str,
        expected: str) -> None:
    rates = _rates(tmp_path, edit)
    result = cli("forecast", str(run_dir), "--rates", str(rates))
    assert result.code == 2, result.output
    flat = result.output.replace("\n", " ")
    assert f"{rates}: {field}" in flat, flat
    assert expected in flat


def test_a_summary_of_another_schema_names_the_file_and_field(run_dir: Path, cli: Cli,
                                                              tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "suite.json").write_text((run_dir / "suite.json").read_text())
    summary = json.loads((run_dir / "summary.json").read_text())
    (copy / "summary.json").write_text(json.dumps({**summary, "schema": "gameday.summary/9"}))
    result = cli("forecast", str(copy))
    assert result.code == 2
    assert f"{copy / 'summary.json'}: schema" in result.output.replace("\n", " ")


@pytest.mark.parametrize("argv", [["--objective", "1.5"], ["--months", "0"],
                                  ["--untested-impact-s", "-1"]])
def test_bad_options_exit_2(run_dir: Path, cli: Cli, argv: list[str]) -> None:
    result = cli("forecast", str(run_dir), *argv)
    assert result.code == 2, result.output
