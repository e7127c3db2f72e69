"""Cost per 1,000 successful requests on a run whose resources and requests are known by
construction (``cost_run``: written with the real writers, read with the real readers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gameday.measure import evaluate_slos, fault_windows, warmup_end_s
from gameday.measure.arrays import ARRAY_COLUMNS
from gameday.measure.cost import CostFigures, cost_figures
from gameday.measure.series import read_metrics
from gameday.measure.served import StackRequests
from gameday.records import read_events, read_request_table
from tests.measure import cost_run as run


def _figures(run_dir: Path) -> CostFigures:
    events = read_events(run_dir)
    requests = StackRequests.from_table(read_request_table(run_dir, [*ARRAY_COLUMNS, "stack"]))
    warmup_s = warmup_end_s(events, None, run.WARMUP_S)
    assert warmup_s is not None
    return cost_figures(read_metrics(run_dir, ("cpu_seconds", "resident_bytes", "gpus")),
                        requests, run.PRICES, ["tabular", "triton"], fault_windows(events),
                        from_s=warmup_s, to_s=run.T0_S + run.END_S, origin_s=run.T0_S,
                        bucket_s=5.0)


@pytest.fixture(scope="module")
def figures(tmp_path_factory) -> CostFigures:
    return _figures(run.write_cost_run(tmp_path_factory.mktemp("cost") / "run"))


def _served(stack: str, region: str, phase: str) -> int:
    """Ground truth from the story, not from the measure: ok answers the region gave."""
    fault = phase != "outside_faults"
    return sum(1 for r in run.requests() if r.stack == stack and r.ok and r.region == region
               and r.scheduled_s >= run.T0_S + run.WARMUP_S
               and (run.T0_S + run.FAULT_S <= r.scheduled_s < run.T0_S + run.FAULT_END_S)
               == fault)


def test_the_steady_state_cost_per_1k_is_exact(figures):
    # tabular-api-a1: 0.5 CPU/s x 20 s at 0.001 + 0.5 GiB x 20 s at 0.0001
    cell = figures.region_cost("tabular", "region-a", "outside_faults")
    assert (cell.cpu_s, cell.gib_s, cell.gpu_s) == pytest.approx((10.0, 10.0, 0.0))
    assert cell.cost == pytest.approx(0.011)
    assert cell.served == _served("tabular", "region-a", "outside_faults") == 72
    assert cell.per_1k == pytest.approx(0.011 / 72 * 1000)
    triton = figures.region_cost("triton", "region-a", "outside_faults")
    assert triton.cost == pytest.approx(20 * 0.001 + 40 * 0.0001 + 20 * 0.01)
    assert triton.per_1k == pytest.approx(0.224 / 80 * 1000)


def test_failed_requests_are_never_counted_as_served(figures):
    # region-a answered 9 of the tabular requests with a 500 in the steady state
    answered = sum(1 for r in run.requests() if r.stack == "tabular" and r.region == "region-a"
                   and r.scheduled_s >= run.T0_S + run.WARMUP_S
                   and not run.T0_S + run.FAULT_S <= r.scheduled_s < run.T0_S + run.FAULT_END_S)
    assert answered == 81
    assert figures.region_cost("tabular", "region-a", "outside_faults").served == 72


def test_a_region_that_served_nothing_is_standby_and_its_cost_shown_apart(figures):
    standby = figures.region_cost("tabular", "region-b", "outside_faults")
    assert standby.standby and standby.per_1k is None
    assert standby.cost == pytest.approx(5 * 0.002 + 20 * 0.0002)  # region-b's prices
    stack = figures.stack_cost("tabular", "outside_faults")
    assert stack.cost == pytest.approx(0.011) and stack.standby_cost == pytest.approx(0.014)
    assert stack.per_1k == pytest.approx(0.011 / 72 * 1000)
    assert stack.per_1k_with_standby == pytest.approx(0.025 / 72 * 1000)


def test_the_fault_phase_is_priced_apart_and_the_restart_counted_from_zero(figures):
    # a1 restarted at 14.5 s: 0.5 CPU/s over 8 s less the 0.25 s before its restart
    down = figures.region_cost("tabular", "region-a", "fault:region-outage")
    assert down.cpu_s == pytest.approx(3.75) and down.standby
    took_over = figures.region_cost("tabular", "region-b", "fault:region-outage")
    assert took_over.served == _served("tabular", "region-b", "fault") == 28
    assert took_over.cost == pytest.approx(2 * 0.002 + 8 * 0.0002)
    assert took_over.per_1k == pytest.approx(0.0056 / 28 * 1000)
    triton = figures.stack_cost("triton", "fault:region-outage")
    assert triton.served == 0 and triton.per_1k is None and triton.per_1k_with_standby is None
    assert triton.standby_cost == pytest.approx(0.0896 + 0.1632)


def test_platform_parts_are_overhead_and_not_charged_to_any_stack(figures):
    parts = {(p.part, p.region): p for p in figures.platform}
    assert set(parts) == {("edge", "edge"), ("fault-proxy", "region-a")}
    assert parts["edge", "edge"].cpu_s == pytest.approx(0.2 * 28)
    assert parts["edge", "edge"].cost == pytest.approx(5.6 * 0.001 + 7 * 0.0001)  # as region-a
    charged = {m.member for m in figures.members}
    assert charged == {"tabular-api-a1", "tabular-api-b1", "triton-server-a1",
                       "triton-server-b1"}
    whole = figures.stack_cost("tabular", "all")
    assert whole.cost + whole.standby_cost == pytest.approx(
        sum(m.cost for m in figures.members if m.stack == "tabular"))


def test_cost_over_time_adds_up_per_bucket(figures):
    series = {(s.stack, s.region): s for s in figures.series}
    a = series["tabular", "region-a"]
    assert a.t_s[0] == run.T0_S and len(a.t_s) == 6
    assert a.cost[0] == pytest.approx(5 * (0.0005 + 0.00005))
    assert a.cost[2] == pytest.approx(5 * 0.00055 - 0.25 * 0.001)  # the restart's bucket


def test_a_missing_cpu_seconds_file_leaves_every_figure_not_measured(tmp_path):
    run_dir = run.write_cost_run(tmp_path / "run")
    (run_dir / "metrics" / "cpu_seconds.json").unlink()
    index = json.loads((run_dir / "metrics" / "index.json").read_text())
    index["saved"].remove("cpu_seconds")
    (run_dir / "metrics" / "index.json").write_text(json.dumps(index))
    figures = _figures(run_dir)
    assert figures.missing == ("cpu_seconds",)
    assert "cpu_seconds missing" in figures.measurement_error
    assert all(c.cost is None and "cpu_seconds" in c.measurement_error
               for c in figures.regions)
    assert all(s.per_1k is None for s in figures.stacks) and not figures.series
    assert figures.region_cost("tabular", "region-a", "outside_faults").served == 72


def test_a_member_without_its_cpu_series_is_not_priced_at_nothing(tmp_path):
    run_dir = run.write_cost_run(tmp_path / "run", metrics=False)
    series = run.resource_series()
    series["cpu_seconds"] = [row for row in series["cpu_seconds"] if row[0] is not run.B1]
    run.write_metrics(run_dir, series)
    figures = _figures(run_dir)
    cell = figures.region_cost("tabular", "region-b", "outside_faults")
    assert cell.cost is None and "no cpu_seconds series for tabular-api-b1" in \
        cell.measurement_error
    assert figures.stack_cost("tabular", "outside_faults").per_1k is None
    assert figures.stack_cost("triton", "outside_faults").per_1k == pytest.approx(2.8)


def test_cost_slos_are_judged_on_their_scope_and_region(figures):
    suite = run.suite([run.cost_slo(max_per_1k=0.3), run.cost_slo(include_standby=False,
                                                                   max_per_1k=0.3),
                       run.cost_slo(region="region-b", scope="during_faults", max_per_1k=0.1),
                       run.cost_slo(region="region-b")])
    results = evaluate_slos(suite, [], [], cost=figures)
    with_standby, without, region_b, standby = results
    assert with_standby.case_name == "cost.tabular.all.outside_faults"
    assert with_standby.measured == pytest.approx(0.025 / 72 * 1000) and not with_standby.passed
    assert without.measured == pytest.approx(0.011 / 72 * 1000) and without.passed
    assert region_b.measured == pytest.approx(0.2) and not region_b.passed
    assert region_b.span_s == pytest.approx(8.0)
    assert standby.measured is None and not standby.passed and not standby.measurement_error
    assert "idle standby" in standby.message


def test_a_cost_slo_without_figures_is_not_measured_and_never_passes(tmp_path):
    run_dir = run.write_cost_run(tmp_path / "run", metrics=False)
    [result] = evaluate_slos(run.suite([run.cost_slo()]), [], [], cost=_figures(run_dir))
    assert not result.passed and result.measured is None
    assert "cpu_seconds" in result.measurement_error
    assert "no metrics/ folder" in result.measurement_error
