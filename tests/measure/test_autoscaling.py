"""How the autoscaler answered a surge, on a synthetic autoscaler.jsonl, load steps and
member_up series whose reaction, readiness and over-provisioning are known by construction.

The story (seconds since load start): 8 req/s, ×4 from 10 s, back to 8 from 20 s. Region-a
runs a1 and a2, region-b b1. The first scale-up decision after the step is region-a's at
12.5 s (2 -> 4); its change took effect at 16 s (a3 and a4 up from 16 to 25 s). An older
change of region-a (begun at 5 s, done at 13 s) must not be taken for it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.measure.arrays import ARRAY_COLUMNS
from gameday.measure.autoscaler_log import load_steps, offered_rates, read_autoscaler_log
from gameday.measure.autoscaling import AutoscalingFigures, Objectives, autoscaling_figures
from gameday.measure.series import read_metrics
from gameday.measure.served import StackRequests
from gameday.records import EventKind, EventLog, read_events, read_request_table
from tests.measure import cost_run as run

T0 = run.T0_S
STEPS = [{"at_s": T0 + 10, "rate_per_s": 32.0}, {"at_s": T0 + 20, "rate_per_s": 8.0}]


def _decision(t: float, region: str, current: int, desired: int) -> dict:
    return {"kind": "decision", "t_s": T0 + t, "stack": "tabular", "component": "api",
            "region": region, "current": current, "ready": current, "metric": 0.9,
            "target": 0.8, "raw_desired": desired, "recommended": desired, "desired": desired,
            "reason": "cpu above target" if desired > current else "within tolerance",
            "limited_by": None, "metric_name": "cpu_utilization"}


def _scaled(started: float, done: float, region: str, old: int, new: int) -> dict:
    return {"kind": "scaled", "t_s": T0 + done, "started_s": T0 + started, "stack": "tabular",
            "component": "api", "region": region, "from": old, "to": new,
            "members": [f"tabular-api-a{n}" for n in range(old + 1, new + 1)]}


def _up(replica: str, region: str, start: int = 0, end: int = 30):
    return (run.member("tabular", "api", region, replica),
            [(T0 + s, 1.0) for s in range(start, end + 1)])


def _write(run_dir: Path) -> Path:
    run.write_cost_run(run_dir, steps=STEPS)
    run.append_autoscaler(run_dir, [
        _decision(9, "region-a", 2, 2), _scaled(5, 13, "region-a", 1, 2),
        _decision(11, "region-a", 2, 2), _decision(12.5, "region-a", 2, 4),
        _decision(13, "region-b", 1, 2), _scaled(12.5, 16, "region-a", 2, 4),
        _decision(22, "region-a", 4, 2)])
    with (run_dir / "autoscaler.jsonl").open("a") as handle:
        handle.write('{"kind": "decision", "t_s": ')  # a crashed writer's torn last line
    run.write_metrics(run_dir, {"member_up": [
        _up("tabular-api-a1", "region-a"), _up("tabular-api-a2", "region-a"),
        _up("tabular-api-a3", "region-a", 16, 25), _up("tabular-api-a4", "region-a", 16, 25),
        _up("tabular-api-b1", "region-b"),
        (run.member("edge", "haproxy", "edge", "edge-1"), [(T0 + s, 1.0) for s in range(31)])]})
    return run_dir


OBJECTIVES = Objectives(availability=0.99, latency_percentile=99, latency_threshold_s=0.5)


def _figures(run_dir: Path, objectives: Objectives = OBJECTIVES) -> AutoscalingFigures | None:
    events = read_events(run_dir)
    requests = StackRequests.from_table(read_request_table(run_dir, [*ARRAY_COLUMNS, "stack"]))
    return autoscaling_figures(read_autoscaler_log(run_dir), load_steps(events, "tabular"),
                               offered_rates(events, "tabular"),
                               read_metrics(run_dir, ("member_up",)), requests,
                               ["tabular", "triton"], objectives, to_s=T0 + 30, origin_s=T0,
                               bucket_s=5.0)


@pytest.fixture(scope="module")
def figures(tmp_path_factory) -> AutoscalingFigures:
    result = _figures(_write(tmp_path_factory.mktemp("scale") / "run"))
    assert result is not None
    return result


def test_the_load_steps_come_from_the_load_start_event(figures):
    up, down = figures.load_steps
    assert (up.at_s, up.from_rate_per_s, up.to_rate_per_s, up.upward) == (T0 + 10, 8, 32, True)
    assert (down.at_s, down.to_rate_per_s, down.upward) == (T0 + 20, 8, False)
    assert len(figures.steps) == 1  # one figure per upward step


def test_reaction_time_is_from_the_step_to_the_first_scale_up_decision(figures):
    [step] = figures.steps
    assert step.reaction_s == pytest.approx(2.5)
    assert (step.component, step.region) == ("api", "region-a")


def test_time_to_ready_is_from_that_decision_to_the_change_it_began(figures):
    [step] = figures.steps
    assert step.time_to_ready_s == pytest.approx(16 - 12.5)  # not the older change done at 13
    assert (step.scaled_from, step.scaled_to) == (2, 4)


def test_over_provisioning_counts_replica_seconds_above_the_pre_surge_count(figures):
    [step] = figures.steps
    assert step.pre_surge_replicas == 3  # a1, a2, b1; the edge is not the stack's
    assert step.down_at_s == T0 + 20
    assert step.over_provisioned_replica_s == pytest.approx(2 * 6)  # two extra, 20 to 25 s
    assert step.back_to_pre_surge_s == pytest.approx(6.0)


def test_the_slo_during_scale_out_is_judged_on_the_requests_until_ready(figures):
    [step] = figures.steps
    # tabular requests scheduled in [10, 16): 24, of which the 4 of [12, 13) failed in the
    # outage and the one at 10 s (k = 40) was a 500
    assert (step.requests, step.failed) == (24, 5)
    assert step.availability == pytest.approx(19 / 24) and step.slo_held is False
    assert step.latency_s == pytest.approx(0.010, abs=1e-6)


def test_replicas_and_decisions_are_kept_for_the_chart(figures):
    series = {(r.component, r.region): r for r in figures.replicas}
    assert set(series) == {("api", "region-a"), ("api", "region-b")}
    a = series["api", "region-a"]
    assert a.replicas[15] == 2 and a.replicas[16] == 4 and a.replicas[26] == 2
    assert [d.t_s - T0 for d in figures.decisions] == [12.5, 13, 22]
    [rates] = [r for r in figures.rates if r.stack == "tabular"]
    assert rates.offered_per_s == (8.0, 32.0, 8.0)
    assert rates.sent_per_s[0] == pytest.approx(4.0)


def test_without_member_up_the_replica_figures_name_the_missing_series(tmp_path):
    run_dir = _write(tmp_path / "run")
    (run_dir / "metrics" / "member_up.json").unlink()
    run.write_metrics(run_dir, run.resource_series())  # an index without member_up
    figures = _figures(run_dir)
    assert figures is not None and figures.missing == ("member_up",)
    [step] = figures.steps
    assert "member_up" in step.measurement_error and step.pre_surge_replicas is None
    assert step.reaction_s == pytest.approx(2.5)  # the log's figures stand


def test_a_run_without_autoscaling_or_steps_has_no_figures(tmp_path):
    assert _figures(run.write_cost_run(tmp_path / "run")) is None


def test_workers_steps_due_together_are_one_step(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    log = EventLog(run_dir / "events.jsonl")
    for _ in range(2):  # two workers, each its share
        log.emit(EventKind.LOAD_START, t_s=T0, target_rate_per_s=4.0, plan={"stack": "rag"},
                 steps=[{"at_s": T0 + 5, "rate_per_s": 8.0}])
    [step] = load_steps(read_events(run_dir), "tabular")
    assert (step.stack, step.from_rate_per_s, step.to_rate_per_s) == ("rag", 8.0, 16.0)
