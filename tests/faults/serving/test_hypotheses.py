"""The shipped experiments' steady-state hypotheses, run by chaoslib against the fleet: each
method here breaks inference in a chosen place, and the hypothesis must deviate exactly when
what its title promises no longer holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from chaoslib.experiment import ensure_experiment_is_valid, run_experiment

from tests.faults.serving.fleet import Fleet

EXPERIMENTS = Path(__file__).resolve().parents[3] / "experiments"
_SETTINGS = {"runtime": {"rollbacks": {"strategy": "always"}}, "controls": {},
             "notifications": []}


def _break(region: str, how_many: int | None = None) -> dict[str, Any]:
    return {"type": "action", "name": f"break-{region}", "provider": {
        "type": "python", "module": "tests.faults.serving.fleet", "func": "break_region",
        "arguments": {"region": region, "how_many": how_many}}}


def _run(name: str, method: list[dict[str, Any]],
         configuration: dict[str, Any]) -> dict[str, Any]:
    """The shipped experiment ``name`` (its configuration and hypothesis), with ``method``."""
    experiment = json.loads((EXPERIMENTS / f"{name}.json").read_text())
    experiment.update(method=method, rollbacks=[])
    ensure_experiment_is_valid(experiment)
    # a copy: chaoslib empties the overrides it is given
    journal: dict[str, Any] = run_experiment(experiment, settings=_SETTINGS,
                                             experiment_vars=(dict(configuration), {}))
    return journal


def _unmet(journal: dict[str, Any], when: str) -> dict[str, Any]:
    """Probe name → output of each probe whose tolerance was not met ``before`` / ``after``."""
    state = journal["steady_states"][when] or {"probes": []}
    return {run["activity"]["name"]: run["output"] for run in state["probes"]
            if not run["tolerance_met"]}


def test_a_target_region_that_stops_answering_inference_deviates_the_latency_experiment(
        fleet: Fleet, configuration: dict[str, Any]) -> None:
    journal = _run("edge-latency", [_break("region-a", how_many=1)], configuration)
    assert journal["steady_states"]["before"]["steady_state_met"] is True
    assert journal["deviated"] is True
    unmet = _unmet(journal, "after")
    assert list(unmet) == ["target-region-answers-inference"]
    assert unmet["target-region-answers-inference"]["failed"] == {"tabular-a1": "http 500"}


def test_a_fault_elsewhere_leaves_the_latency_experiment_steady(
        fleet: Fleet, configuration: dict[str, Any]) -> None:
    journal = _run("edge-latency", [_break("region-b")], configuration)
    assert journal["status"] == "completed" and journal["deviated"] is False


def test_the_replica_kill_hypothesis_holds_while_one_replica_of_the_region_answers(
        fleet: Fleet, configuration: dict[str, Any]) -> None:
    one = _run("replica-kill", [_break("region-a", how_many=1)], configuration)
    assert one["deviated"] is False
    every = _run("replica-kill", [_break("region-a")], configuration)
    assert every["deviated"] is True
    assert list(_unmet(every, "after")) == ["target-region-answers-inference"]


@pytest.mark.parametrize("name", ["region-outage", "region-isolation", "model-broken"])
def test_a_region_fault_deviates_only_when_the_region_taking_over_cannot_answer(
        name: str, fleet: Fleet, configuration: dict[str, Any]) -> None:
    target_down = _run(name, [_break("region-a")], configuration)
    assert target_down["deviated"] is False  # what the fault is for; the edge still serves
    for server in fleet.servers.values():
        server.mode = "ok"
    takeover_down = _run(name, [_break("region-b")], configuration)
    assert takeover_down["deviated"] is True
    assert list(_unmet(takeover_down, "after")) == ["other-region-answers-inference"]


# every experiment of a served stack (the database experiments' steady state is the database's)
SERVING = sorted(p.stem for p in EXPERIMENTS.glob("*.json")
                 if "edge_serves_within_slo" in p.read_text())


@pytest.mark.parametrize("name", SERVING)
def test_an_edge_slower_than_the_latency_slo_fails_every_experiment_before_its_fault(
        name: str, fleet: Fleet, configuration: dict[str, Any]) -> None:
    assert fleet.edge is not None
    fleet.edge.delay_s = 0.12
    journal = _run(name, [_break("region-a")], {**configuration, "latency_threshold_s": 0.1})
    # the gate: no fault is injected into a system that is not steady to begin with
    assert journal["steady_states"]["before"]["steady_state_met"] is False
    assert journal["run"] == [] and journal["deviated"] is False
    assert list(_unmet(journal, "before")) == ["edge-serves-within-latency-slo"]
    assert _unmet(journal, "before")["edge-serves-within-latency-slo"]["latency_max_s"] >= 0.12
    assert [s.mode for s in fleet.region("region-a")] == ["ok", "ok"]  # method never ran
