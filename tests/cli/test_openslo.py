"""OpenSLO v1 objects: the specification's example shapes parse; a suite takes SLOs inline
or from files with their references resolved; malformed objects exit 2 naming the field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from gameday.measure.budget import objectives_of
from gameday.openslo import OpenSlo, duration_s, read_openslo_file
from tests.cli.conftest import CliResult

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "tests" / "data" / "openslo" / "spec-examples.yaml"
Cli = Callable[..., CliResult]


def test_the_specifications_example_shapes_parse():
    documents = list(yaml.safe_load_all(EXAMPLES.read_text()))
    slos = [OpenSlo.model_validate(document) for document in documents]
    assert [s.metadata.name for s in slos] == ["search-slo", "main-page",
                                               "service-availability", "foo-slo"]
    threshold = slos[0].spec
    assert threshold.objectives[0].op == "lt" and threshold.objectives[0].value == 500
    assert slos[3].spec.objectives[1].ratio_target == pytest.approx(0.9999)
    (policy,) = slos[3].policies
    name, condition = policy.condition
    assert name == "cpu-usage-breach" and condition.condition.alert_after_s == 300
    # every source is someone else's (type Any, Datadog): a suite refuses them
    assert all(s.foreign_sources() for s in slos)


def test_durations_follow_the_shorthand_and_take_seconds_too():
    assert duration_s("5m") == 300 and duration_s("1h") == 3600 and duration_s("2w") == 1209600
    assert duration_s("1M") == 30 * 86400 and duration_s("30s") == 30
    assert duration_s(2, bare_unit_s=60) == 120  # a bare timeSliceWindow is minutes
    for bad in ("5", "1x", "-1m", "0m"):
        with pytest.raises(ValueError):
            duration_s(bad)


def test_the_shipped_file_resolves_its_references():
    slos = [OpenSlo.model_validate(d) for d in
            read_openslo_file(REPO / "suites" / "openslo" / "tabular.yaml")]
    availability, seconds = slos
    (objective,) = objectives_of(availability)
    assert (objective.name, objective.target, objective.max_latency_s) == \
        ("tabular-availability", 0.99, 0.25)
    (alert,) = objective.alerts
    assert (alert.name, alert.threshold, alert.lookback_s) == ("fast-burn", 14.4, 3600)
    (timeslices,) = objectives_of(seconds)
    assert (timeslices.budgeting, timeslices.slice_s, timeslices.slice_target) == \
        ("timeslices", 1.0, 0.95)


def _inline(document: dict) -> dict:
    return {"apiVersion": "openslo/v1", "kind": "SLO", "metadata": {"name": "edge-ok"},
            "spec": {"budgetingMethod": "Occurrences", "objectives": [{"target": 0.99}],
                     "indicator": {"spec": {"ratioMetric": {
                         "good": {"metricSource": {"type": "gameday",
                                                   "spec": {"requests": "ok"}}},
                         "total": {"metricSource": {"type": "gameday",
                                                    "spec": {"requests": "all"}}}}}},
                     **document}}


def test_a_suite_takes_an_inline_slo_and_a_file(write_suite: Callable[..., Path],
                                               cli: Cli) -> None:
    def edit(d: dict) -> None:
        d["slos"].append(_inline({}))
        d["openslo"] = [str(REPO / "suites" / "openslo" / "tabular.yaml")]
    result = cli("validate", str(write_suite(edit)))
    assert result.code == 0, result.output
    assert "6 SLOs" in result.output


@pytest.mark.parametrize(("spec", "field", "expected"), [
    ({"budgetingMethod": "Occurence"}, "slos.3.SLO.spec.budgetingMethod", "Occurrences"),
    ({"objectives": [{"target": 1.5}]}, "slos.3.SLO.spec.objectives.0.target",
     "less than 1"),
    ({"objectives": [{"target": 0.9, "targetPercent": 90}]},
     "slos.3.SLO.spec.objectives.0.target", "exactly one"),
    ({"objectives": [{"target": 0.9, "timeSliceTarget": 0.9}], "budgetingMethod": "Timeslices"},
     "slos.3.SLO.spec.objectives.0.timeSliceWindow", "required"),
    ({"objectives": [{"targt": 0.9}]}, "slos.3.SLO.spec.objectives.0.targt", "unknown key"),
    ({"timeWindow": [{"duration": "28 days"}]}, "slos.3.SLO.spec.timeWindow.0.duration",
     "28d"),
    ({"alertPolicies": [{"alertPolicyRef": "nope"}]},
     "slos.3.SLO.spec.alertPolicies.0.alertPolicyRef", "no AlertPolicy named 'nope'"),
    ({"indicatorRef": "missing", "indicator": None}, "slos.3.SLO.spec.indicatorRef",
     "no SLI named 'missing'"),
], ids=["budgeting", "target-over-1", "two-targets", "slice-window", "misspelt",
        "duration", "policy-ref", "indicator-ref"])
def test_a_malformed_slo_names_the_field(write_suite: Callable[..., Path], cli: Cli,
                                         spec: dict, field: str, expected: str) -> None:
    suite = write_suite(lambda d: d["slos"].append(_inline(spec)))
    result = cli("validate", str(suite))
    assert result.code == 2, result.output
    assert f"{suite}: {field}" in result.output.replace("\n", " ")
    assert expected in result.output


@pytest.mark.parametrize(("source", "field", "expected"), [
    ({"type": "Prometheus", "spec": {"query": "up"}},
     "slos.3.SLO.spec.indicator.spec.ratioMetric.good.metricSource.type", "type: gameday"),
    ({"type": "gameday", "spec": {"requests": "fine"}},
     "slos.3.SLO.spec.indicator.spec.ratioMetric.good.metricSource.spec.requests", "'ok'"),
    ({"type": "gameday", "spec": {"requests": "ok", "latency_le": 1}},
     "slos.3.SLO.spec.indicator.spec.ratioMetric.good.metricSource.spec.latency_le",
     "unknown key"),
], ids=["prometheus", "bad-selection", "misspelt-spec-key"])
def test_a_metric_source_gameday_cannot_read_is_refused(write_suite: Callable[..., Path],
                                                        cli: Cli, source: dict, field: str,
                                                        expected: str) -> None:
    def edit(d: dict) -> None:
        slo = _inline({})
        slo["spec"]["indicator"]["spec"]["ratioMetric"]["good"]["metricSource"] = source
        d["slos"].append(slo)
    suite = write_suite(edit)
    result = cli("validate", str(suite))
    assert result.code == 2, result.output
    assert f"{suite}: {field}" in result.output.replace("\n", " ")
    assert expected in result.output


def test_a_broken_openslo_file_is_named(write_suite: Callable[..., Path], cli: Cli,
                                        tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    document = _inline({"objectives": [{"target": 2}]})
    broken.write_text(yaml.safe_dump(document))
    result = cli("validate", str(write_suite(lambda d: d.update(openslo=[str(broken)]))))
    assert result.code == 2, result.output
    assert f"{broken}: SLO.0.spec.objectives.0.target" in result.output.replace("\n", " ")
    missing = write_suite(lambda d: d.update(openslo=[str(tmp_path / "none.yaml")]),
                          name="missing.yaml")
    result = cli("validate", str(missing))
    assert result.code == 2 and "openslo.0" in result.output
