"""The resilience forecast (gameday.measure.forecast) against hand-computed cases, its
Monte-Carlo against the Poisson arithmetic it samples, and the shipped failure-rates file.

The two-class case: a region outage measured at RTO 40 s with 300 of 400 requests failed
(30 s unavailable) at 2 a month, and a replica kill at RTO 160 s with 75 of 100 failed
(120 s) at 0.5 a month: 60 s + 60 s = 120 s a month; at 0.999 the budget is 0.001 × 30 d =
2,592 s, burnt 120 / 2,592 = 4.63 %.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from gameday.config import AvailabilitySlo, Suite
from gameday.errors import ConfigError
from gameday.measure.failure_rates import (
    DEFAULT_RATES_FILE,
    Fleet,
    RatesFile,
    fleet_of,
    load_rates,
    per_unit_rate,
    rate_per_month,
)
from gameday.measure.forecast import (
    MONTH_S,
    ClassImpact,
    ScenarioImpact,
    class_impacts,
    forecast,
    unavailable_s,
)

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
SOURCE = {"short": "test", "title": "a test figure", "url": "https://example.invalid",
          "quote": "2 a month"}
FLEET = Fleet(regions=2, hosts=4, gpus=0, database_primaries=0, model_dependencies=0,
              deploys_per_month=None)


def rates(**classes: dict) -> RatesFile:
    return RatesFile.model_validate({"schema": "gameday.failure_rates/1", "classes": classes})


def entry(rate: float | None, *scenarios: str, **extra: object) -> dict:
    fields = {"title": "a class", "unit": "setup", "source": SOURCE, "rate": rate,
              "scenarios": list(scenarios)}
    return {**fields, **extra}


def measured(scenario: str, rto_s: float | None, requests: int, failed: int, *,
             slow: int = 0, experiment: str | None = None, lost: int | None = None
             ) -> ScenarioImpact:
    return ScenarioImpact(scenario=scenario, experiment=experiment or scenario,
                          fault_started=True, recovered=rto_s is not None, rto_s=rto_s,
                          requests=requests, failed_requests=failed, bad_requests=failed + slow,
                          lost_writes=lost, rpo_s=None if lost is None else 1.5)


TWO_CLASSES = rates(region_outage=entry(2.0, "region-outage"),
                    host_failure=entry(0.5, "replica-kill"))
TWO_RUNS = (measured("region-outage", 40.0, 400, 300), measured("replica-kill", 160.0, 100, 75))


def test_two_classes_cost_their_rate_times_the_measured_unavailable_seconds() -> None:
    impacts, unclaimed = class_impacts(TWO_CLASSES, FLEET, TWO_RUNS)
    assert unclaimed == ()
    assert [impact.impact_s for impact in impacts] == pytest.approx([30.0, 120.0])
    result = forecast(impacts, objective=0.999, months=1000, seed=1)
    assert result.budget_s == pytest.approx(2592.0)
    assert [c.expected_downtime_s for c in result.classes] == pytest.approx([60.0, 60.0])
    assert [c.budget_share for c in result.classes] == pytest.approx([60 / 2592] * 2)
    assert result.expected_downtime_s == pytest.approx(120.0)
    assert result.expected_burn == pytest.approx(120 / 2592)
    assert result.expected_attainment == pytest.approx(1 - 120 / 2_592_000)


def test_unavailable_seconds_are_the_rto_weighted_by_the_failed_share() -> None:
    assert unavailable_s(2.0, 50, 10) == pytest.approx(0.4)
    assert unavailable_s(0.0, 0, 0) == 0.0  # nothing went wrong
    assert unavailable_s(None, 10, 10) is None  # never recovered: not measurable


def test_slow_requests_count_only_when_asked() -> None:
    runs = (measured("region-outage", 10.0, 100, 20, slow=30),)
    plain, _ = class_impacts(TWO_CLASSES, FLEET, runs)
    slow, _ = class_impacts(TWO_CLASSES, FLEET, runs, count_slow=True)
    assert (plain[0].impact_s, slow[0].impact_s) == pytest.approx((2.0, 5.0))


def test_a_class_measured_twice_costs_the_worst_scenario() -> None:
    both = rates(region_outage=entry(1.0, "region-outage", "region-isolation"))
    runs = (measured("outage", 4.0, 100, 50, experiment="region-outage"),
            measured("isolation", 10.0, 100, 80, experiment="region-isolation"))
    impacts, _ = class_impacts(both, FLEET, runs)
    assert impacts[0].impact_s == pytest.approx(8.0)
    assert impacts[0].scenarios == ("outage", "isolation")


def test_a_class_no_scenario_measured_is_reported_not_tested_and_left_out() -> None:
    impacts, _ = class_impacts(TWO_CLASSES, FLEET, TWO_RUNS[:1])
    assert [impact.status for impact in impacts] == ["measured", "not tested"]
    result = forecast(impacts, objective=0.999, months=100, seed=1)
    untested = result.classes[1]
    assert untested.left_out == "not tested"
    assert untested.expected_downtime_s is None
    assert result.expected_downtime_s == pytest.approx(60.0)
    assert any("host_failure (not tested)" in line for line in result.assumptions)


def test_a_stated_untested_impact_costs_the_untested_class_and_says_it_was_assumed() -> None:
    impacts, _ = class_impacts(TWO_CLASSES, FLEET, TWO_RUNS[:1])
    result = forecast(impacts, objective=0.999, months=100, seed=1, untested_impact_s=600)
    untested = result.classes[1]
    assert (untested.assumed, untested.cost_s, untested.left_out) == (True, 600, "")
    assert result.expected_downtime_s == pytest.approx(60.0 + 0.5 * 600)
    assert any("600 s per incident" in line for line in result.assumptions)


def test_a_scenario_that_never_recovered_leaves_its_class_unmeasured() -> None:
    impacts, _ = class_impacts(TWO_CLASSES, FLEET, (measured("replica-kill", None, 50, 50),))
    assert impacts[1].status == "not recovered" and impacts[1].impact_s is None


def test_a_class_without_a_rate_is_left_out_even_when_measured() -> None:
    unknown = rates(network_degradation={"title": "latency", "unit": "setup",
                                         "user_supplied": True, "scenarios": ["edge-latency"]})
    impacts, _ = class_impacts(unknown, FLEET, (measured("edge-latency", 3.0, 10, 10),))
    result = forecast(impacts, objective=0.99, months=10, seed=0)
    assert result.classes[0].left_out == "no rate"
    assert result.expected_downtime_s == 0.0


def test_scenarios_no_class_claims_are_named() -> None:
    runs = (*TWO_RUNS, measured("switchover", 1.0, 10, 1, experiment="db-switchover"))
    _, unclaimed = class_impacts(TWO_CLASSES, FLEET, runs)
    assert unclaimed == ("switchover",)


def test_lost_writes_are_forecast_where_the_run_measured_an_rpo() -> None:
    db = rates(database_primary_failure=entry(0.25, "db-primary-kill"))
    impacts, _ = class_impacts(db, FLEET, (measured("db-primary-kill", 8.0, 80, 40, lost=12),))
    result = forecast(impacts, objective=0.999, months=10, seed=0)
    assert result.expected_lost_writes == pytest.approx(3.0)


def test_the_monte_carlo_mean_is_within_five_standard_errors_of_the_expectation() -> None:
    impacts, _ = class_impacts(TWO_CLASSES, FLEET, TWO_RUNS)
    months = 200_000
    result = forecast(impacts, objective=0.999, months=months, seed=7)
    # compound Poisson: Var(D) = Σ λ u²
    standard_error = math.sqrt((2.0 * 30.0**2 + 0.5 * 120.0**2) / months)
    assert abs(result.mean_downtime_s - 120.0) < 5 * standard_error


def test_breach_probability_and_median_match_the_poisson_arithmetic() -> None:
    # one class, 3 incidents a month of 1,000 s; budget 2,592 s: breached from 3 incidents on
    one = (ClassImpact("c", "c", 3.0, "test", "measured", ("c",), 1000.0),)
    months = 100_000
    result = forecast(one, objective=0.999, months=months, seed=3)
    exact = 1 - math.exp(-3) * (1 + 3 + 4.5)
    assert abs(result.breach_probability - exact) < 5 * math.sqrt(exact * (1 - exact) / months)
    assert result.attainment_p50 == pytest.approx(1 - 3000 / MONTH_S)  # the median count is 3


def test_the_same_seed_gives_the_same_months() -> None:
    impacts, _ = class_impacts(TWO_CLASSES, FLEET, TWO_RUNS)
    first, again = (forecast(impacts, objective=0.999, months=5000, seed=11) for _ in range(2))
    other = forecast(impacts, objective=0.999, months=5000, seed=12)
    assert first == again
    assert other.mean_downtime_s != first.mean_downtime_s


def test_a_class_whose_units_the_setup_lacks_costs_nothing_and_is_not_left_out() -> None:
    gpu = rates(gpu_failure=entry(0.01, "triton-server-kill", unit="gpu"))
    impacts, _ = class_impacts(gpu, FLEET, ())
    result = forecast(impacts, objective=0.999, months=10, seed=0)
    assert (result.classes[0].expected_downtime_s, result.classes[0].left_out) == (0.0, "")


def test_the_fleet_is_counted_from_the_suite_where_the_file_leaves_it_null() -> None:
    suite = Suite(name="s", stacks=["rag", "triton"], replicas=3,
                  load={"stack": "rag", "endpoint": "query"},
                  slos=[AvailabilitySlo(kind="availability", objective=0.99)])
    counted = fleet_of(suite, load_rates().fleet)
    assert (counted.regions, counted.hosts, counted.gpus) == (2, 12, 6)
    assert (counted.database_primaries, counted.model_dependencies) == (1, 1)
    assert counted.deploys_per_month is None
    given = fleet_of(suite, load_rates().fleet.model_copy(update={"gpus": 64}))
    assert given.gpus == 64 and "gpus" not in given.counted


def test_observed_rates_are_per_unit_month() -> None:
    shipped = load_rates()
    gpu = shipped.classes["gpu_failure"]
    assert per_unit_rate(gpu) == pytest.approx(268 / (16384 * 54) * 30)
    assert rate_per_month(gpu, FLEET) == 0.0  # no GPUs in a tabular setup
    assert rate_per_month(shipped.classes["bad_release"], FLEET) is None  # deploys not given


# --- the shipped rates file ------------------------------------------------------------

def test_the_shipped_rates_file_parses_and_every_rate_has_a_source_or_is_user_supplied() -> None:
    shipped = load_rates()
    assert {"region_outage", "host_failure", "gpu_failure", "database_primary_failure",
            "bad_release", "network_degradation"} <= set(shipped.classes)
    for name, each in shipped.classes.items():
        if each.user_supplied:
            assert each.derivation, name  # says why there is no published figure
            continue
        assert each.source is not None, name
        assert each.source.url.startswith("https://"), name
        assert each.source.quote and each.source.title and each.derivation, name


def test_every_experiment_the_shipped_file_names_exists() -> None:
    for name, each in load_rates().classes.items():
        assert each.scenarios, name
        for experiment in each.scenarios:
            assert (EXPERIMENTS / f"{experiment}.json").is_file(), (name, experiment)


def test_the_llama3_figures_are_the_papers() -> None:
    classes = load_rates().classes
    gpu, host = classes["gpu_failure"], classes["host_failure"]
    assert gpu.observed is not None and host.observed is not None
    # 268 GPU-row interruptions of 419 in 54 days on 16,384 GPUs; 53 host ones on 2,048 hosts
    assert gpu.observed.model_dump() == {"events": 268, "units": 16384, "days": 54}
    assert host.observed.model_dump() == {"events": 53, "units": 2048, "days": 54}
    assert gpu.source is not None and "2407.21783" in gpu.source.url


# --- bad rates files -------------------------------------------------------------------

def write_rates(tmp_path: Path, edit) -> Path:
    document = yaml.safe_load(DEFAULT_RATES_FILE.read_text())
    edit(document)
    path = tmp_path / "rates.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))  # the file's order
    return path


@pytest.mark.parametrize(("edit", "field", "expected"), [
    (lambda d: d["classes"]["gpu_failure"].update(rat=1), "classes.gpu_failure.rat",
     "unknown key"),
    (lambda d: d["classes"]["model_api_outage"].update(rate=-1),
     "classes.model_api_outage.rate", "greater than or equal to 0"),
    (lambda d: d["classes"]["gpu_failure"]["observed"].update(days=0),
     "classes.gpu_failure.observed.days", "greater than 0"),
    (lambda d: d["classes"]["gpu_failure"].update(rate=1), "classes.gpu_failure.observed",
     "not both"),
    (lambda d: d["classes"]["gpu_failure"].pop("source"), "classes.gpu_failure.source",
     "user_supplied"),
    (lambda d: d["classes"]["gpu_failure"].update(unit="rack"), "classes.gpu_failure.unit",
     "gpu"),
    (lambda d: d["classes"]["host_failure"]["scenarios"].append("region-outage"),
     "classes.host_failure.scenarios", "already measures"),
    (lambda d: d["fleet"].update(gpu=8), "fleet.gpu", "unknown key"),
    (lambda d: d.update(schema="gameday.failure_rates/2"), "schema", "failure_rates/1"),
], ids=["misspelt-key", "negative-rate", "zero-days", "rate-and-observed", "no-source",
        "unknown-unit", "experiment-twice", "misspelt-fleet", "wrong-schema"])
def test_a_wrong_rates_file_names_the_file_and_the_field(tmp_path: Path, edit, field: str,
                                                         expected: str) -> None:
    path = write_rates(tmp_path, edit)
    with pytest.raises(ConfigError) as raised:
        load_rates(path)
    assert raised.value.source == str(path)
    assert raised.value.field == field, str(raised.value)
    assert expected in str(raised.value)


def test_the_forecast_is_plain_numbers() -> None:
    impacts, _ = class_impacts(TWO_CLASSES, FLEET, TWO_RUNS)
    result = forecast(impacts, objective=0.999, months=100, seed=0)
    for value in (result.attainment_p50, result.attainment_p10, result.attainment_p1,
                  result.breach_probability, result.mean_downtime_s):
        assert isinstance(value, float) and np.isfinite(value)
    assert result.attainment_p1 <= result.attainment_p10 <= result.attainment_p50 <= 1.0


def test_a_scenario_without_its_fault_measures_nothing() -> None:
    never = ScenarioImpact("region-outage", "region-outage", False, False, None, 0, 0, 0)
    impacts, _ = class_impacts(TWO_CLASSES, FLEET, (never,))
    assert impacts[0].status == "not tested"
