"""The dashboard's figures from a synthetic run folder whose story is known, written with the
real RecordWriter and EventLog: 10 req/s from T0, region-a serving; from +40 s to +50 s
region-a is down, a third of the requests fail and the rest go to region-b (200 ms); the
folder is read at +55 s. The expected figures are counted from that story by hand."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from gameday.config import AvailabilitySlo, LatencySlo, LoadProfile, Scenario, Suite
from gameday.live.dashboard import Screen, render, sparkline
from gameday.live.figures import RunView, first_availability
from gameday.operator_log import OPERATOR_CONDITION, OperatorLog
from gameday.records import EventKind, EventLog, RecordWriter, RequestRecord

T0 = 1_764_061_200.0
NOW = T0 + 55.0  # figures end SETTLE_S (1 s) before: at +54 s


def _suite(**changes: object) -> Suite:
    fields: dict[str, object] = {
        "name": "live", "load": LoadProfile(rate_per_s=10, warmup_s=5, duration_s=120),
        "scenarios": [Scenario(name="region-outage", experiment=Path("x.json")),
                      Scenario(name="replica-kill", experiment=Path("y.json"))],
        "slos": [LatencySlo(kind="latency", percentile=99, threshold_s=0.25),
                 AvailabilitySlo(kind="availability", objective=0.99)]}
    return Suite(**{**fields, **changes})  # type: ignore[arg-type]


def _record(k: int) -> RequestRecord:
    t_s = T0 + k / 10
    if 40 <= k / 10 < 50:
        if k % 3 == 0:
            return RequestRecord(t_s, t_s, t_s + 0.5, "tabular", "predict", "", 502, False,
                                 "http_5xx")
        return RequestRecord(t_s, t_s, t_s + 0.2, "tabular", "predict", "region-b", 200, True)
    return RequestRecord(t_s, t_s, t_s + 0.02, "tabular", "predict", "region-a", 200, True)


def _write_run(run_dir: Path) -> Path:
    run_dir.mkdir()
    with RecordWriter(run_dir / "requests-gen0.csv") as writer:
        for k in range(550):
            writer.write(_record(k))
    log = EventLog(run_dir / "events.jsonl")
    log.emit(EventKind.LOAD_START, t_s=T0)
    log.emit(EventKind.WARMUP_END, t_s=T0 + 5)
    log.emit(EventKind.SCENARIO_START, "region-outage", t_s=T0 + 39.5)
    log.emit(EventKind.FAULT_START, "region-outage", t_s=T0 + 40)
    return run_dir


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return _write_run(tmp_path / "run")


def _ended(since_s: float, until_s: float, *, failed: bool = False) -> int:
    """Requests of the story that ended in (T0 + since_s, T0 + until_s]."""
    return len([k for k in range(550) if since_s < _record(k).end_s - T0 <= until_s
                and (not failed or not _record(k).ok)])


def test_traffic_over_its_windows(run_dir: Path) -> None:
    figures = RunView(run_dir, _suite()).update(NOW)
    traffic = figures.traffic
    # requests/s and errors/s over the 5 s ending at +54 s; the 33 failures (k % 3 == 0 of
    # the outage's sends) end 0.5 s after their send, the last at +50.4 s
    assert traffic.requests_per_s == pytest.approx(_ended(49, 54) / 5)
    assert traffic.errors_per_s == pytest.approx(_ended(49, 54, failed=True) / 5) == 1.0
    assert traffic.p99_s == pytest.approx(0.5, abs=1e-6)  # the failed ones, from their send
    assert set(traffic.share) == {"region-a", "region-b", ""}
    assert sum(traffic.share.values()) == pytest.approx(1.0)
    assert traffic.share[""] == pytest.approx(_ended(44, 54, failed=True) / _ended(44, 54))
    region_a = len([k for k in range(550) if 44 < _record(k).end_s - T0 <= 54
                    and _record(k).region == "region-a"])
    assert traffic.share["region-a"] == pytest.approx(region_a / _ended(44, 54))
    assert len(traffic.per_s) == 60 and sum(traffic.errors_by_s) == 33


def test_burn_rates_against_the_first_availability_objective(run_dir: Path) -> None:
    suite = _suite()
    objective = first_availability(suite)
    assert objective is not None and objective.target == 0.99  # not the latency SLO
    burn = RunView(run_dir, suite).update(NOW).burn
    assert burn is not None
    rates = dict(burn.rates)
    assert rates[60.0] == pytest.approx(33 / _ended(-6, 54) / 0.01) == pytest.approx(6.11, 0.01)
    assert rates[5.0] == pytest.approx(_ended(49, 54, failed=True) / _ended(49, 54) / 0.01)


def test_no_availability_objective_means_no_burn_rate(run_dir: Path) -> None:
    suite = _suite(slos=[LatencySlo(kind="latency", percentile=99, threshold_s=0.25)])
    assert RunView(run_dir, suite).update(NOW).burn is None


def test_scenario_states_follow_the_event_log(run_dir: Path) -> None:
    view = RunView(run_dir, _suite())
    states = view.update(NOW, waiting=None).states
    assert states.scenarios["region-outage"].state == "fault"
    assert states.load_end_s == T0 + 125 and states.warmup_end_s == T0 + 5
    OperatorLog(run_dir).record("roll_back", scenario="region-outage", t_s=T0 + 54)
    assert view.update(NOW).states.scenarios["region-outage"].state == "rolling-back"
    log = EventLog(run_dir / "events.jsonl")
    log.emit(EventKind.FAULT_END, "region-outage", t_s=T0 + 56)
    log.emit(EventKind.SCENARIO_END, "region-outage", t_s=T0 + 57, status="interrupted")
    log.emit(EventKind.SCENARIO_ABORTED, "region-outage", t_s=T0 + 57,
             condition=OPERATOR_CONDITION, reason="operator: roll back now")
    states = view.update(NOW + 3, waiting="replica-kill").states
    outage = states.scenarios["region-outage"]
    assert (outage.state, outage.detail) == ("aborted", "rolled back by the operator")
    assert (outage.fault_start_s, outage.fault_end_s) == (T0 + 40, T0 + 56)
    assert states.scenarios["replica-kill"].state == "waiting"
    assert states.current is not None and states.current.name == "replica-kill"
    log.emit(EventKind.SCENARIO_NOT_RUN, "replica-kill", t_s=T0 + 125, reason="load ended")
    assert view.update(NOW + 70).states.scenarios["replica-kill"].state == "not-run"


def test_replication_lag_from_the_database_samples(run_dir: Path) -> None:
    view = RunView(run_dir, _suite())
    assert not view.update(NOW).database
    samples = [{"t_s": T0 + 50, "node": "rag-pg-a1", "region": "region-a", "up": True,
                "writable": True, "in_recovery": False, "lsn": 5000},
               {"t_s": T0 + 50, "node": "rag-pg-b1", "region": "region-b", "up": True,
                "writable": False, "in_recovery": True, "lsn": 4200}]
    (run_dir / "db.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    figures = view.update(NOW)
    assert figures.database and figures.replication is not None
    assert (figures.replication.lag_bytes, figures.replication.standby) == (800, "rag-pg-b1")


@pytest.mark.parametrize("width", [160, 80])
def test_the_screen_shows_every_panel_and_the_operator(run_dir: Path, width: int) -> None:
    OperatorLog(run_dir).record("inject", scenario="region-outage", t_s=T0 + 39)
    OperatorLog(run_dir).record("note", text="failover in 2 s", t_s=T0 + 44)
    figures = RunView(run_dir, _suite()).update(NOW, waiting="replica-kill")
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(render(Screen("live", "run-1", "the edge fails over", figures,
                                next_scenario="replica-kill", note=None, message="",
                                log=["standing up"]), width))
    text = console.export_text()
    print(text)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "WAITING: i injects it" in text  # on one line, at either width
    for title in ("Traffic", "Regions", "Error budget", "Database", "Scenarios", "Operator",
                  "Keys"):
        assert title in text
    assert "FAULT IN FORCE" in text and "inject replica-kill" in text
    assert "+00:44 note failover in 2 s" in text and "no database" in text
    assert "hypothesis: the edge fails over" in text


def test_a_sparkline_scales_to_its_peak() -> None:
    assert sparkline([0, 4, 8]) == "▁▅█"
    assert sparkline([0, 0]) == "▁▁"
