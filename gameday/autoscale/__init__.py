"""The local autoscaler's decisions: the Kubernetes HPA algorithm (``hpa``, pure) and the suite's
``autoscaling`` settings that configure it (``options``)."""

from gameday.autoscale.hpa import (
    DEFAULT_SCALE_DOWN,
    DEFAULT_SCALE_UP,
    Hpa,
    HpaDecision,
    HpaSpec,
    ScalingPolicy,
    ScalingRules,
)
from gameday.autoscale.options import (
    AutoscalingOptions,
    Behavior,
    Policy,
    Rules,
    ScaleDownRules,
    ScaleUpRules,
)

__all__ = ["DEFAULT_SCALE_DOWN", "DEFAULT_SCALE_UP", "AutoscalingOptions", "Behavior", "Hpa",
           "HpaDecision", "HpaSpec", "Policy", "Rules", "ScaleDownRules", "ScaleUpRules",
           "ScalingPolicy", "ScalingRules"]
