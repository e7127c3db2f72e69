"""The serving probes against servers whose failures the test sets: a member counts as
answering only when it returns a valid score, and the edge probe times every request."""

from __future__ import annotations

from typing import Any

import pytest

from gameday.errors import FaultError
from gameday.faults.serving.probes import (
    edge_serves_within_slo,
    other_region_answers_inference,
    region_answers_inference,
)
from tests.faults.serving.fleet import Fleet


def test_a_region_whose_replicas_all_answer_is_serving(fleet: Fleet,
                                                       configuration: dict[str, Any]) -> None:
    result = region_answers_inference("region-a", configuration=configuration)
    assert result == {"region": "region-a", "stack": "tabular", "endpoint": "predict",
                      "require": "all", "replicas": 2, "answered": 2, "failed": {},
                      "serving": True}
    assert [s.requests for s in fleet.region("region-a")] == [1, 1]  # asked each one directly
    assert [s.requests for s in fleet.region("region-b")] == [0, 0]


@pytest.mark.parametrize(("mode", "reason"), [
    ("broken", "http 500"),
    ("bad-score", "no fraud_score in [0, 1]"),
    ("not-json", "answer is not JSON"),
])
def test_one_replica_failing_inference_stops_the_region_serving_when_all_must_answer(
        fleet: Fleet, configuration: dict[str, Any], mode: str, reason: str) -> None:
    fleet.servers["tabular-a2"].mode = mode
    result = region_answers_inference("region-a", configuration=configuration)
    assert result["serving"] is False and result["answered"] == 1
    assert list(result["failed"]) == ["tabular-a2"] and reason in result["failed"]["tabular-a2"]


def test_one_answering_replica_is_enough_when_any_may_answer(
        fleet: Fleet, configuration: dict[str, Any]) -> None:
    fleet.servers["tabular-a1"].mode = "broken"
    assert region_answers_inference("region-a", require="any",
                                    configuration=configuration)["serving"] is True
    fleet.servers["tabular-a2"].mode = "broken"
    assert region_answers_inference("region-a", require="any",
                                    configuration=configuration)["serving"] is False


def test_a_replica_that_answers_too_late_has_not_answered(
        fleet: Fleet, configuration: dict[str, Any]) -> None:
    fleet.servers["tabular-a1"].delay_s = 0.5
    result = region_answers_inference("region-a", timeout_s=0.2, configuration=configuration)
    assert result["serving"] is False and result["failed"] == {"tabular-a1": "timeout"}


def test_a_region_with_no_replicas_is_not_serving(fleet: Fleet,
                                                  configuration: dict[str, Any]) -> None:
    for name in ("tabular-a1", "tabular-a2"):
        del fleet.servers[name]
    for require in ("all", "any"):
        result = region_answers_inference("region-a", require=require,
                                          configuration=configuration)
        assert result["replicas"] == 0 and result["serving"] is False


def test_the_other_region_probe_asks_only_the_region_that_takes_over(
        fleet: Fleet, configuration: dict[str, Any]) -> None:
    for server in fleet.region("region-a"):
        server.mode = "broken"
    result = other_region_answers_inference("region-a", configuration=configuration)
    assert result["region"] == "region-b" and result["serving"] is True
    assert [s.requests for s in fleet.region("region-a")] == [0, 0]
    fleet.servers["tabular-b1"].mode = "broken"
    assert other_region_answers_inference("region-a",
                                          configuration=configuration)["serving"] is False


def test_a_misnamed_region_or_requirement_is_an_error_not_a_verdict(
        fleet: Fleet, configuration: dict[str, Any]) -> None:
    with pytest.raises(FaultError, match="unknown region 'region-c'"):
        other_region_answers_inference("region-c", configuration=configuration)
    with pytest.raises(FaultError, match="require must be 'all' or 'any'"):
        region_answers_inference("region-a", require="most",  # type: ignore[arg-type]
                                 configuration=configuration)
    with pytest.raises(FaultError, match="no endpoint 'score'"):
        region_answers_inference("region-a", endpoint="score", configuration=configuration)


def test_the_edge_is_within_the_slo_when_every_answer_is_valid_and_fast(
        fleet: Fleet, configuration: dict[str, Any]) -> None:
    result = edge_serves_within_slo(requests=5, latency_threshold_s=0.25,
                                    configuration=configuration)
    assert fleet.edge is not None and fleet.edge.requests == 5
    assert result["url"].endswith("/tabular/predict")
    assert result["ok"] == 5 and result["failures"] == [] and result["within_slo"] is True
    assert result["served_by"] == {"region-a": 5}
    assert 0 < result["latency_max_s"] < 0.25


def test_an_edge_slower_than_the_threshold_is_not_within_the_slo(
        fleet: Fleet, configuration: dict[str, Any]) -> None:
    assert fleet.edge is not None
    fleet.edge.delay_s = 0.15
    result = edge_serves_within_slo(requests=3, latency_threshold_s=0.1,
                                    configuration=configuration)
    assert result["ok"] == 3 and result["failures"] == []  # every answer valid, but slow
    assert result["latency_max_s"] >= 0.15 and result["within_slo"] is False


def test_one_slow_outlier_of_ten_is_within_the_slo_two_are_not(
        fleet: Fleet, configuration: dict[str, Any]) -> None:
    """The SLO is a percentile (p90 of 10 here): one request held by a retry is tolerated."""
    assert fleet.edge is not None
    fleet.edge.slow_next = 1
    one = edge_serves_within_slo(requests=10, latency_threshold_s=0.25,
                                 configuration=configuration)
    assert one["latency_max_s"] >= 0.3 and one["within_slo"] is True
    fleet.edge.slow_next = 2
    two = edge_serves_within_slo(requests=10, latency_threshold_s=0.25,
                                 configuration=configuration)
    assert two["latency_percentile_s"] >= 0.3 and two["within_slo"] is False


def test_one_failed_answer_through_the_edge_is_not_within_the_slo(
        fleet: Fleet, configuration: dict[str, Any]) -> None:
    assert fleet.edge is not None
    fleet.edge.mode = "broken"
    result = edge_serves_within_slo(requests=2, configuration=configuration)
    assert result["ok"] == 0 and result["failures"] == ["http 500", "http 500"]
    assert result["within_slo"] is False
