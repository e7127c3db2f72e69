"""A waf SLO judged on the WAF's verdicts: blocked (or stopped) rate of a class against its
minimum, benign's blocked rate against the false-positive maximum; what cannot be measured
fails, never passes."""

from __future__ import annotations

import pytest

from gameday.load.labelled import ATTACK_LABELS
from gameday.measure.waf import waf_verdicts
from gameday.measure.waf_log import EdgeRequests, read_waf_log
from gameday.measure.waf_slo import judge_waf_slo
from gameday.slos import ATTACK_CLASSES, WafSlo
from tests.measure.test_waf import BLOCKING_LOG, blocking_records, labelled, write_run


@pytest.fixture
def verdicts(tmp_path):
    # sqli 7/8 blocked, xss 4/4, prompt-injection 2/6 blocked + 3 by the guard; benign 1/10
    run_dir = write_run(tmp_path / "run", blocking_records(), BLOCKING_LOG)
    return waf_verdicts(EdgeRequests.read(run_dir), read_waf_log(run_dir), mode="blocking",
                        threshold=5)


def slo(**fields) -> WafSlo:
    return WafSlo(kind="waf", **fields)


def test_one_class_meets_its_minimum_and_the_false_positive_bound(verdicts):
    verdict = judge_waf_slo(slo(attack_class="xss", max_false_positive_rate=0.1), verdicts)
    assert verdict.passed and verdict.measured == 1.0
    assert verdict.parts["false_positive_rate"] == pytest.approx(0.1)
    assert "4 of 4 xss requests stopped at the edge" in verdict.message


def test_a_false_positive_over_the_bound_fails_even_when_every_attack_is_blocked(verdicts):
    verdict = judge_waf_slo(slo(attack_class="xss", max_false_positive_rate=0.05), verdicts)
    assert not verdict.passed and verdict.measured == 1.0
    assert "1 of 10 benign blocked" in verdict.message


def test_all_pools_every_attack_class(verdicts):
    verdict = judge_waf_slo(slo(min_blocked_rate=0.7, max_false_positive_rate=0.2), verdicts)
    assert verdict.measured == pytest.approx(20 / 27) and verdict.passed
    assert verdict.parts["attacks_judged"] == 27


def test_stopped_counts_the_services_guard_blocked_does_not(verdicts):
    blocked = judge_waf_slo(slo(attack_class="prompt-injection", min_blocked_rate=0.8,
                                max_false_positive_rate=1), verdicts)
    stopped = judge_waf_slo(slo(attack_class="prompt-injection", count="stopped",
                                min_blocked_rate=0.8, max_false_positive_rate=1), verdicts)
    assert blocked.measured == pytest.approx(2 / 6) and not blocked.passed
    assert stopped.measured == pytest.approx(5 / 6) and stopped.passed


def test_no_verdicts_and_no_request_of_the_class_fail_as_not_measured(tmp_path, verdicts):
    assert judge_waf_slo(slo(), None).measurement_error
    run_dir = write_run(tmp_path / "benign-only", [labelled("benign") for _ in range(5)])
    only_benign = waf_verdicts(EdgeRequests.read(run_dir), None, mode="blocking", threshold=5)
    verdict = judge_waf_slo(slo(attack_class="sqli"), only_benign)
    assert not verdict.passed and verdict.measured is None
    assert "no labelled sqli request" in verdict.measurement_error


def test_no_benign_request_leaves_false_positives_unmeasured(tmp_path):
    run_dir = write_run(tmp_path / "attacks-only",
                        [labelled("sqli", waf="blocked", status=403) for _ in range(5)])
    attacks = waf_verdicts(EdgeRequests.read(run_dir), None, mode="blocking", threshold=5)
    assert not judge_waf_slo(slo(), attacks).passed
    assert judge_waf_slo(slo(max_false_positive_rate=1), attacks).passed


def test_the_slos_attack_classes_are_the_labelled_sets():
    assert ATTACK_CLASSES == ATTACK_LABELS
