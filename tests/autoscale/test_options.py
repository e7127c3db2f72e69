"""The suite's autoscaling settings: Kubernetes' defaults, strict keys, the spec they give."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from gameday.autoscale.hpa import (
    DEFAULT_SCALE_DOWN,
    DEFAULT_SCALE_UP,
    Hpa,
    ScalingPolicy,
    ScalingRules,
)
from gameday.autoscale.options import AutoscalingOptions
from gameday.config import validation_message

MINIMAL = {"stack": "tabular", "component": "api", "max_replicas": 6}


def _options(**changes: Any) -> AutoscalingOptions:
    return AutoscalingOptions.model_validate(MINIMAL | changes)


def test_defaults_are_kubernetes_defaults() -> None:
    options = _options()
    spec = options.to_spec()
    assert (options.regions, options.metric, options.target) == (
        ["region-a", "region-b"], "cpu_utilization", 0.8)
    assert (options.cpu_request_cores, options.sync_period_s) == (0.5, 1.0)
    assert (spec.min_replicas, spec.max_replicas, spec.tolerance) == (1, 6, 0.1)
    assert spec.scale_up == ScalingRules(0.0, "Max", (ScalingPolicy("Pods", 4, 15.0),
                                                      ScalingPolicy("Percent", 100, 15.0)))
    assert spec.scale_down == ScalingRules(300.0, "Max", (ScalingPolicy("Percent", 100, 15.0),))
    assert (spec.scale_up, spec.scale_down) == (DEFAULT_SCALE_UP, DEFAULT_SCALE_DOWN)


def test_a_field_left_out_of_a_direction_keeps_that_directions_default() -> None:
    spec = _options(behavior={"scale_down": {"stabilization_window_s": 30},
                              "scale_up": {"select_policy": "Min"}}).to_spec()
    assert spec.scale_down == ScalingRules(30.0, "Max", DEFAULT_SCALE_DOWN.policies)
    assert spec.scale_up == ScalingRules(0.0, "Min", DEFAULT_SCALE_UP.policies)


def test_policies_given_replace_the_defaults() -> None:
    behavior = {"scale_up": {"stabilization_window_s": 5, "select_policy": "Min", "policies": [
        {"type": "Pods", "value": 1, "period_s": 2.5},
        {"type": "Percent", "value": 50, "period_s": 10}]}}
    spec = _options(behavior=behavior).to_spec()
    assert spec.scale_up == ScalingRules(5.0, "Min", (ScalingPolicy("Pods", 1, 2.5),
                                                      ScalingPolicy("Percent", 50, 10.0)))
    assert spec.scale_down == DEFAULT_SCALE_DOWN


@pytest.mark.parametrize(("metric", "target", "fallback"), [
    pytest.param("cpu_utilization", 0.6, 1.0, id="cpu: missing at 100 % of the request"),
    pytest.param("cpu_utilization", 1.5, 1.5, id="cpu above 100 %: missing at the target"),
    pytest.param("in_flight", 4.0, None, id="in flight: missing at the target"),
])
def test_missing_replicas_count_as_kubernetes_counts_that_kind_of_metric(
        metric: str, target: float, fallback: float | None) -> None:
    spec = _options(metric=metric, target=target).to_spec()
    assert (spec.target, spec.missing_value_on_scale_down) == (target, fallback)


def test_the_spec_drives_the_algorithm() -> None:
    options = _options(min_replicas=2, target=0.5, metric="in_flight",
                       behavior={"scale_up": {"policies": [
                           {"type": "Pods", "value": 1, "period_s": 1}]}})
    hpa = Hpa(options.to_spec())
    decision = hpa.decide(0.0, 2, {"api-a1": 2.0, "api-a2": 2.0}, {"api-a1", "api-a2"})
    assert (decision.raw_desired, decision.desired) == (8, 3)
    assert decision.limited_by == "scale-up policy Pods 1 per 1 s"


@pytest.mark.parametrize(("document", "field", "message"), [
    pytest.param({"behavior": {"scale_down": {"stabilisation_window_s": 60}}},
                 "behavior.scale_down.stabilisation_window_s",
                 "unknown key (check its spelling)", id="misspelt window"),
    pytest.param({"max_replica": 4}, "max_replica", "unknown key (check its spelling)",
                 id="misspelt max_replicas"),
    pytest.param({"behavior": {"scale_up": {"policies": [
        {"type": "Pods", "value": 1, "period": 15}]}}},
        "behavior.scale_up.policies.0.period_s", "required key is missing",
        id="period for period_s: period_s is missing"),
    pytest.param({"max_replicas": 20}, "max_replicas", "less than or equal to 19",
                 id="above the local platform's 19"),
    pytest.param({"min_replicas": 4, "max_replicas": 3}, "max_replicas",
                 "max_replicas must be >= min_replicas (4), got 3", id="min above max"),
    pytest.param({"min_replicas": 0}, "min_replicas", "greater than or equal to 1",
                 id="min 0"),
    pytest.param({"regions": ["region-c"]}, "regions.0", "'region-a' or 'region-b'",
                 id="unknown region"),
    pytest.param({"metric": "memory"}, "metric", "'cpu_utilization' or 'in_flight'",
                 id="unknown metric"),
    pytest.param({"target": 0}, "target", "greater than 0", id="target 0"),
    pytest.param({"behavior": {"scale_up": {"select_policy": "Maximum"}}},
                 "behavior.scale_up.select_policy", "'Max', 'Min' or 'Disabled'",
                 id="unknown select_policy"),
    pytest.param({"behavior": {"scale_down": {"policies": []}}},
                 "behavior.scale_down.policies", "at least 1 item", id="no policy"),
    pytest.param({"behavior": {"scale_up": {"policies": [
        {"type": "Replicas", "value": 1, "period_s": 15}]}}},
        "behavior.scale_up.policies.0.type", "'Pods' or 'Percent'", id="unknown policy type"),
    pytest.param({"behavior": {"scale_up": {"policies": [
        {"type": "Pods", "value": 0, "period_s": 15}]}}},
        "behavior.scale_up.policies.0.value", "greater than 0", id="policy value 0"),
])
def test_bad_settings_are_rejected_naming_the_field(document: dict[str, Any], field: str,
                                                   message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        AutoscalingOptions.model_validate(MINIMAL | document)
    named, said = validation_message(caught.value)
    assert named == field
    assert message in said


def test_every_misspelt_key_is_reported_not_only_the_first() -> None:
    policy = {"type": "Pods", "value": 1, "period": 15}
    document = MINIMAL | {"behavior": {"scale_up": {"policies": [policy]},
                                       "scale_down": {"stabilisation_window_s": 60}}}
    with pytest.raises(ValidationError) as caught:
        AutoscalingOptions.model_validate(document)
    unknown = [".".join(str(part) for part in error["loc"]) for error in caught.value.errors()
               if error["type"] == "extra_forbidden"]
    assert unknown == ["behavior.scale_up.policies.0.period",
                       "behavior.scale_down.stabilisation_window_s"]


def test_on_a_real_cluster_the_entry_is_the_hpas_own_fields() -> None:
    options = _options(min_replicas=2, target=0.7,
                       behavior={"scale_down": {"stabilization_window_s": 120,
                                                "select_policy": "Min",
                                                "policies": [{"type": "Pods", "value": 1,
                                                              "period_s": 60}]}})
    assert options.kubernetes_problems() == []
    assert options.to_kubernetes() == {
        "minReplicas": 2, "maxReplicas": 6,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": 70}}}],
        "behavior": {
            "scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15}]},
            "scaleDown": {"stabilizationWindowSeconds": 120, "selectPolicy": "Min",
                          "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}}


def test_what_a_real_hpa_cannot_take_is_named_by_its_field() -> None:
    options = _options(metric="in_flight", target=2.505, cpu_request_cores=0.25,
                       tolerance=0.05,
                       behavior={"scale_up": {"policies": [{"type": "Pods", "value": 2,
                                                            "period_s": 0.5}]}})
    assert [field for field, _ in options.kubernetes_problems()] == [
        "target", "metric", "cpu_request_cores", "tolerance",
        "behavior.scale_up.policies.0.period_s"]
    assert _options(cpu_request_cores=0.5).kubernetes_problems()[0][1] == (
        "a real HPA uses the pod's own resources.requests.cpu in clusters/manifests: leave "
        "cpu_request_cores out")  # even at its default: set, it would be a silent no-op
