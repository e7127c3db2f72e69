"""What a suite says about autoscaling one component: bounds, metric and target, and the HPA
``behavior``, with Kubernetes' defaults (autoscaling/v2); ``to_spec`` gives the algorithm's
spec (``gameday.autoscale.hpa``), ``to_kubernetes`` the fields it sets on a real cluster's HPA
(the kind platform), where ``kubernetes_problems`` says what such an HPA cannot take."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from gameday.autoscale.hpa import HpaSpec, ScalingPolicy, ScalingRules
from gameday.strict import Strict as _Strict

__all__ = ["LOCAL_MAX_REPLICAS", "AutoscalingOptions", "Behavior", "Policy", "Rules",
           "ScaleDownRules", "ScaleUpRules"]

LOCAL_MAX_REPLICAS = 19  # members per region the local platform's address plan allows

Region = Literal["region-a", "region-b"]
REGIONS: tuple[Region, ...] = ("region-a", "region-b")


class Policy(_Strict):
    """At most ``value`` replicas (Pods) or percent of the count (Percent) per ``period_s``."""

    type: Literal["Pods", "Percent"]
    value: int = Field(gt=0, description="replicas (Pods) or percent (Percent)")
    period_s: float = Field(gt=0, le=1800, description="the window the change is counted "
                                                       "over (Kubernetes: periodSeconds)")

    def to_policy(self) -> ScalingPolicy:
        return ScalingPolicy(self.type, self.value, self.period_s)


class Rules(_Strict):
    """One direction's behaviour (Kubernetes: HPAScalingRules)."""

    stabilization_window_s: float = Field(ge=0, le=3600, description="the safest proposal "
                                          "of this many past seconds is applied")
    select_policy: Literal["Max", "Min", "Disabled"] = Field(
        "Max", description="Max: the policy allowing the biggest change; Min: the smallest; "
                           "Disabled: no scaling in this direction")
    policies: list[Policy] = Field(min_length=1)

    def to_rules(self) -> ScalingRules:
        return ScalingRules(self.stabilization_window_s, self.select_policy,
                            tuple(policy.to_policy() for policy in self.policies))

    def to_kubernetes(self) -> dict[str, Any]:
        return {"stabilizationWindowSeconds": round(self.stabilization_window_s),
                "selectPolicy": self.select_policy,
                "policies": [{"type": p.type, "value": p.value,
                              "periodSeconds": round(p.period_s)} for p in self.policies]}

    def kubernetes_problems(self, where: str) -> list[tuple[str, str]]:
        """Kubernetes counts these in whole seconds (int32 fields)."""
        times = [(f"{where}.stabilization_window_s", self.stabilization_window_s)] + [
            (f"{where}.policies.{index}.period_s", policy.period_s)
            for index, policy in enumerate(self.policies)]
        return [(field, f"a real HPA takes whole seconds, got {value:g}")
                for field, value in times if value != int(value)]


class ScaleUpRules(Rules):
    """Kubernetes' scale-up defaults: no window; 4 pods or 100 % per 15 s, whichever is more."""

    stabilization_window_s: float = Field(0.0, ge=0, le=3600)
    policies: list[Policy] = Field(
        default_factory=lambda: [Policy(type="Pods", value=4, period_s=15.0),
                                 Policy(type="Percent", value=100, period_s=15.0)],
        min_length=1)


class ScaleDownRules(Rules):
    """Kubernetes' scale-down defaults: a 300 s window; 100 % per 15 s."""

    stabilization_window_s: float = Field(300.0, ge=0, le=3600)
    policies: list[Policy] = Field(
        default_factory=lambda: [Policy(type="Percent", value=100, period_s=15.0)],
        min_length=1)


class Behavior(_Strict):
    """Kubernetes' ``spec.behavior``; a direction left out keeps its defaults, as does a
    field left out of a direction."""

    scale_up: ScaleUpRules = ScaleUpRules()
    scale_down: ScaleDownRules = ScaleDownRules()


class AutoscalingOptions(_Strict):
    """The local autoscaler of one stack's component, per region (a Kubernetes HPA)."""

    stack: str = Field(min_length=1)
    component: str = Field(min_length=1, description="the stack component whose members scale")
    regions: list[Region] = Field(default_factory=lambda: list(REGIONS), min_length=1,
                                  description="each region scales on its own")
    min_replicas: int = Field(1, ge=1)
    max_replicas: int = Field(ge=1, le=LOCAL_MAX_REPLICAS,
                              description="per region (the local platform allows 19)")
    metric: Literal["cpu_utilization", "in_flight"] = Field(
        "cpu_utilization", description="cpu_utilization: CPU seconds per second over "
                                       "cpu_request_cores; in_flight: requests in flight")
    target: float = Field(0.8, gt=0, description="per replica: a fraction of cpu_request_cores"
                          " (Kubernetes' default 80 %), or requests in flight")
    cpu_request_cores: float = Field(0.5, gt=0, description="the resource request that "
                                     "utilisation is measured against")
    sync_period_s: float = Field(1.0, gt=0, le=60, description="Kubernetes: 15 s; fast here "
                                 "for short runs (on kind: how often the real HPA's status "
                                 "is read; its controller's own period stays 15 s)")
    tolerance: float = Field(0.1, ge=0, lt=1, description="no change while the metric is "
                             "within this fraction of the target")
    behavior: Behavior = Behavior()

    @field_validator("max_replicas")
    @classmethod
    def _not_below_min(cls, max_replicas: int, info: ValidationInfo) -> int:
        min_replicas = info.data.get("min_replicas")
        if min_replicas is not None and max_replicas < min_replicas:
            raise ValueError(f"max_replicas must be >= min_replicas ({min_replicas}), got "
                             f"{max_replicas}")
        return max_replicas

    def to_kubernetes(self) -> dict[str, Any]:
        """The HPA spec fields (autoscaling/v2) a real cluster's HPA is given for the run."""
        behavior = self.behavior
        return {"minReplicas": self.min_replicas, "maxReplicas": self.max_replicas,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                    "type": "Utilization", "averageUtilization": round(self.target * 100)}}}],
                "behavior": {"scaleUp": behavior.scale_up.to_kubernetes(),
                             "scaleDown": behavior.scale_down.to_kubernetes()}}

    def kubernetes_problems(self) -> list[tuple[str, str]]:
        """(field, why) for each setting a real cluster's HPA cannot take: its metric is a
        resource's (no custom metrics adapter runs), its request and tolerance are the pod's
        and the controller manager's, not the suite's, and its times are whole seconds."""
        problems = []
        if abs(self.target * 100 - round(self.target * 100)) > 1e-9:
            problems.append(("target", f"a real HPA's target is a whole percent of the "
                                       f"request, got {self.target:g}"))
        if self.metric != "cpu_utilization":
            problems.append(("metric", "the clusters serve no custom metrics (no adapter): "
                                       "only cpu_utilization"))
        for name, owner in (("cpu_request_cores", "the pod's own resources.requests.cpu in "
                                                  "clusters/manifests"),
                            ("tolerance", "the controller manager's (0.1)")):
            if name in self.model_fields_set:
                problems.append((name, f"a real HPA uses {owner}: leave {name} out"))
        return problems + self.behavior.scale_up.kubernetes_problems("behavior.scale_up") \
            + self.behavior.scale_down.kubernetes_problems("behavior.scale_down")

    def to_spec(self) -> HpaSpec:
        # Kubernetes counts a pod without a CPU sample, on a scale-down, at 100 % of its
        # request (or at the target when that is higher); a Pods metric at the target
        missing = max(self.target, 1.0) if self.metric == "cpu_utilization" else None
        return HpaSpec(min_replicas=self.min_replicas, max_replicas=self.max_replicas,
                       target=self.target, tolerance=self.tolerance,
                       scale_up=self.behavior.scale_up.to_rules(),
                       scale_down=self.behavior.scale_down.to_rules(),
                       missing_value_on_scale_down=missing)
