"""The resilience score against hand-computed cases (gameday.measure.score)."""

from __future__ import annotations

import pytest

from gameday.measure.score import ScenarioFacts, run_score
from gameday.measure.slo import SloResult


def facts(**changes: object) -> ScenarioFacts:
    base = {"name": "outage", "rto_s": 2.0, "recovered": True, "rto_objective_s": 5.0,
            "stability_window_s": 5.0, "requests": 1000, "failed": 5, "target": 0.99,
            "window": "between +10.0 s and +12.0 s", "deviated": False, "rollback_failed": "",
            "aborted": "", "journal": "journal-outage.json"}
    return ScenarioFacts(**{**base, **changes})  # type: ignore[arg-type]


def slo(kind: str, passed: bool, *, scenario: str = "", measured: float | None = None,
        objective: float = 0.99) -> SloResult:
    return SloResult(f"{kind}-slo", f"{kind}.case", kind, scenario, "", objective, measured,
                     passed, f"{kind} message")


def test_a_scenario_within_every_objective_scores_100():
    score = run_score([facts()], [])
    (scenario,) = score.scenarios
    assert scenario.score == 100 and score.score == 100 and score.steady is None
    assert [c.name for c in scenario.components] == ["recovery", "budget", "hypothesis"]


def test_recovery_falls_linearly_to_zero_at_twice_the_objective():
    # RTO 7.5 s against 5 s: recovery 0.5 (weight 3); budget burn 0.5x: 1 (3); hypothesis 1 (1)
    (scenario,) = run_score([facts(rto_s=7.5)], []).scenarios
    assert scenario.components[0].score == pytest.approx(0.5)
    assert scenario.score == round(100 * (0.5 * 3 + 3 + 1) / 7)  # 79
    assert "RTO 7.50 s over 5 s" in scenario.components[0].failed


def test_budget_falls_linearly_from_one_to_ten_times_the_burn():
    # 55 of 1000 failed against a 1 % budget: burn 5.5x, 1 - 4.5 / 9 = 0.5
    (scenario,) = run_score([facts(failed=55)], []).scenarios
    budget = scenario.components[1]
    assert budget.score == pytest.approx(0.5)
    assert "55 of 1000 requests failed between +10.0 s and +12.0 s" in budget.failed


def test_never_recovered_and_deviated_score_zero_components():
    (scenario,) = run_score([facts(recovered=False, rto_s=None, deviated=True)], []).scenarios
    assert [c.score for c in scenario.components] == [0.0, 1.0, 0.0]
    assert scenario.score == round(100 * 3 / 7)


def test_data_loss_counts_in_full_and_a_failed_rollback_zeroes_the_scenario():
    lost = slo("rpo", False, scenario="outage", measured=1.2, objective=0.0)
    (scenario,) = run_score([facts()], [lost]).scenarios
    assert scenario.components[2].name == "rpo.case" and scenario.components[2].score == 0
    assert scenario.score == round(100 * (3 + 3 + 0 + 1) / 10)
    (stuck,) = run_score([facts(rollback_failed="rollback failed: nft rule left")],
                         []).scenarios
    assert stuck.score == 0 and "rollback failed" in stuck.note


def test_an_aborted_scenario_is_not_scored_and_the_run_scores_the_rest():
    score = run_score([facts(aborted="stop condition fast-burn: ..."), facts(name="kill")],
                      [slo("availability", False, measured=0.95)])
    aborted, kill = score.scenarios
    assert aborted.score is None and "aborted" in aborted.note
    # steady state: availability 95 % against 99 %: burn 5x, 1 - 4 / 9
    assert score.steady is not None and score.steady.score == round(100 * (1 - 4 / 9))
    assert score.score == round((kill.score + score.steady.score) / 2)


def test_an_at_most_slo_missed_scores_by_its_ratio():
    latency = slo("latency", False, measured=0.375, objective=0.25)  # 1.5x: 0.5
    score = run_score([], [latency, slo("availability", True, measured=1.0)])
    assert score.steady is not None and score.steady.score == 75
