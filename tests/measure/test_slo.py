from __future__ import annotations

import pytest

from gameday.config import (
    AvailabilitySlo,
    LatencySlo,
    LoadProfile,
    Measurement,
    RtoSlo,
    Scenario,
    Suite,
)
from gameday.measure import evaluate_slos, measure_database
from gameday.records import EventKind
from tests.measure import database_run as run
from tests.measure.database_run import Variant


def suite_with(*slos, scenarios=("outage",)):
    return Suite(name="s", load=LoadProfile(warmup_s=3.0),
                 scenarios=[Scenario(name=name, experiment="e.json") for name in scenarios],
                 slos=list(slos), measurement=Measurement(stability_window_s=5.0))


@pytest.fixture
def outage_run(make_steady, join, make_event):
    """Warm-up 0-3 s (slow), steady, region-a down 10-12 s, region-b after, data to 30 s."""
    records = join(make_steady(0.0, 3.0, latency_s=0.9), make_steady(3.0, 10.0),
                   make_steady(10.0, 12.0, ok=False),
                   make_steady(12.0, 30.0, region="region-b", latency_s=0.04))
    events = [make_event(0.0, EventKind.LOAD_START), make_event(3.0, EventKind.WARMUP_END),
              make_event(10.0, EventKind.FAULT_START, "outage", target_region="region-a"),
              make_event(12.5, EventKind.FAULT_END, "outage")]
    return records, events


def test_default_names_say_what_they_ask():
    suite = suite_with(AvailabilitySlo(kind="availability", objective=0.999),
                       AvailabilitySlo(kind="availability", objective=0.99, scope="all"),
                       LatencySlo(kind="latency", percentile=99, threshold_s=0.25),
                       LatencySlo(kind="latency", percentile=99.9, threshold_s=1.5,
                                  scope="during_faults"),
                       RtoSlo(kind="rto", threshold_s=5))
    names = [r.name for r in evaluate_slos(suite, [], [])]
    assert names == ["availability>=99.9%(outside_faults)", "availability>=99%(all)",
                     "p99<=250ms(outside_faults)", "p99.9<=1500ms(during_faults)",
                     "rto<=5s[outage]"]


def test_names_given_in_the_suite_are_kept():
    suite = suite_with(AvailabilitySlo(kind="availability", name="edge-up", objective=0.99),
                       RtoSlo(kind="rto", name="fast-recovery", threshold_s=5))
    assert [r.name for r in evaluate_slos(suite, [], [])] == ["edge-up", "fast-recovery[outage]"]


def test_availability_outside_faults_ignores_the_outage(outage_run):
    records, events = outage_run
    suite = suite_with(AvailabilitySlo(kind="availability", objective=0.999))
    [result] = evaluate_slos(suite, records, events)
    assert result.passed and result.measured == 1.0 and result.scenario == ""


def test_availability_during_faults_sees_the_outage(outage_run):
    records, events = outage_run
    suite = suite_with(AvailabilitySlo(kind="availability", objective=0.9,
                                       scope="during_faults"))
    [result] = evaluate_slos(suite, records, events)
    assert not result.passed
    assert result.measured == pytest.approx(5 / 25)  # 20 failed of 25 in [10, 12.5)
    assert "misses" in result.message


def test_latency_slo_leaves_warmup_out(outage_run):
    records, events = outage_run
    suite = suite_with(LatencySlo(kind="latency", percentile=99, threshold_s=0.25))
    [result] = evaluate_slos(suite, records, events)
    assert result.passed and result.measured == pytest.approx(0.040)


def test_rto_slo_gives_one_result_per_scenario(outage_run):
    records, events = outage_run
    suite = suite_with(RtoSlo(kind="rto", threshold_s=5), scenarios=("outage", "skipped"))
    outage, skipped = evaluate_slos(suite, records, events)
    assert (outage.scenario, outage.passed) == ("outage", True)
    assert outage.measured == pytest.approx(2.0, abs=0.1)
    assert (skipped.scenario, skipped.passed, skipped.measured) == ("skipped", False, None)
    assert "never started" in skipped.message


def test_rto_slo_breached_when_recovery_is_slower_than_the_objective(outage_run):
    records, events = outage_run
    [result] = evaluate_slos(suite_with(RtoSlo(kind="rto", threshold_s=1.5)), records, events)
    assert not result.passed and "over the objective" in result.message


def test_rto_slo_fails_when_never_recovered(make_steady, join, make_event):
    records = join(make_steady(0.0, 10.0), make_steady(10.0, 20.0, ok=False))
    events = [make_event(10.0, EventKind.FAULT_START, "outage")]
    [result] = evaluate_slos(suite_with(RtoSlo(kind="rto", threshold_s=5)), records, events)
    assert not result.passed and result.measured is None
    assert "never recovered" in result.message


def test_an_slo_with_no_requests_to_judge_fails():
    suite = suite_with(AvailabilitySlo(kind="availability", objective=0.99,
                                       scope="during_faults"))
    [result] = evaluate_slos(suite, [], [])
    assert not result.passed and result.measured is None
    assert "no requests" in result.message


def test_case_names_are_stable_when_a_threshold_changes():
    def case_names(threshold_s, objective):
        suite = suite_with(AvailabilitySlo(kind="availability", objective=objective),
                           LatencySlo(kind="latency", percentile=99.9, threshold_s=threshold_s,
                                      scope="during_faults"),
                           RtoSlo(kind="rto", threshold_s=threshold_s))
        return [r.case_name for r in evaluate_slos(suite, [], [])]
    assert case_names(0.25, 0.99) == case_names(1.5, 0.999) == [
        "availability.outside_faults", "latency.p99.9.during_faults", "rto"]


def test_a_name_given_in_the_suite_is_the_case_name():
    suite = suite_with(RtoSlo(kind="rto", name="fast-recovery", threshold_s=5))
    assert [r.case_name for r in evaluate_slos(suite, [], [])] == ["fast-recovery"]


def test_a_run_wide_slo_spans_the_seconds_of_load_its_scope_covers(outage_run):
    records, events = outage_run  # warm-up to 3 s, fault 10-12.5 s, last send at 29.9 s
    suite = suite_with(AvailabilitySlo(kind="availability", objective=0.9),
                       AvailabilitySlo(kind="availability", objective=0.9, scope="all"),
                       AvailabilitySlo(kind="availability", objective=0.9,
                                       scope="during_faults"),
                       RtoSlo(kind="rto", threshold_s=5))
    spans = [r.span_s for r in evaluate_slos(suite, records, events)]
    assert spans[:3] == pytest.approx([26.9 - 2.5, 26.9, 2.5])
    assert spans[3] is None  # RTO: the scenario's duration is the report's business


def _database_results(variant=None, *, figures=True):
    variant = variant or Variant()
    suite, events = run.suite(variant), run.events(variant)
    database = measure_database(run.records(variant), suite, events) if figures else None
    return {r.case_name: r for r in evaluate_slos(suite, run.writes(), events, database)}


def test_database_slos_pass_within_their_objectives_with_the_figure_and_its_parts():
    results = _database_results()
    assert list(results) == ["rpo", "write_rto", "split_brain"]
    rpo, write_rto, split_brain = results.values()
    assert {r.scenario for r in results.values()} == {"primary-crash"}
    assert rpo.passed and rpo.measured == pytest.approx(0.115, abs=1e-6)
    assert (rpo.parts["lost"], rpo.parts["unknown"], rpo.parts["max_lost"]) == (3, 1, 3)
    assert "3 of 920 acknowledged writes lost" in rpo.message
    assert rpo.name == "rpo(lost<=3,<=0.2s)[primary-crash]"
    assert write_rto.passed and write_rto.measured == pytest.approx(0.805, abs=1e-6)
    assert write_rto.parts["promote_s"] == pytest.approx(0.32, abs=1e-6)
    assert "pg-b" in write_rto.message and write_rto.name == "write_rto<=1s[primary-crash]"
    assert split_brain.passed and split_brain.measured == 0.0
    assert not any(r.measurement_error for r in results.values())


def test_an_rpo_slo_fails_when_more_writes_are_lost_or_older_than_allowed():
    assert not _database_results(Variant(max_lost=2))["rpo"].passed
    too_old = _database_results(Variant(max_seconds=0.1))["rpo"]
    assert not too_old.passed and "over the objective" in too_old.message


def test_a_split_brain_slo_fails_on_any_instant_with_two_writable_nodes():
    result = _database_results(Variant(split_brain=True))["split_brain"]
    assert not result.passed and result.parts["windows"] == 1
    assert result.measured == pytest.approx(7.0 - 5.32, abs=0.1)
    assert "SPLIT BRAIN" in result.message and "pg-a + pg-b" in result.message


def test_a_write_rto_slo_fails_when_slower_than_its_threshold():
    result = _database_results(Variant(write_rto_threshold_s=0.5))["write_rto"]
    assert not result.passed and "over the objective 0.5 s" in result.message


def test_a_database_slo_that_could_not_be_measured_fails_and_says_why():
    rpo = _database_results(Variant(audit="missing"))["rpo"]
    assert not rpo.passed and rpo.measured is None
    assert "no audit.json" in rpo.measurement_error and rpo.message.startswith("not measured")
    for result in _database_results(figures=False).values():
        assert not result.passed and "no database data" in result.measurement_error
