"""The Kubernetes horizontal pod autoscaler (autoscaling/v2, with ``behavior``) as the
kube-controller-manager computes it, on plain numbers: no clock, no I/O, no threads.

One sync, in Kubernetes' order:

1. Replica calculator. ratio = mean of the ready replicas' samples / target; a ratio within
   [1 - tolerance, 1 + tolerance] proposes the current count, otherwise
   ceil(ratio x replicas averaged). Unready and missing replicas, when there are any, are put
   back and the ratio computed again: on a scale-up both count as 0, on a scale-down missing
   ones count as ``missing_value_on_scale_down`` (the target by default) and unready ones stay
   out. If that second ratio is within tolerance, or points the other way, nothing changes.
2. Stabilisation. Every proposal is kept with its time; the recommendation is the current
   count raised to the lowest proposal of the scale-up window and lowered to the highest of
   the scale-down window (the new proposal included). History older than the longer window
   is dropped.
3. Rate policies. From the controller's own scale events within each policy's period:
   period start = current - replicas added + replicas removed in the period; Pods allows
   start +/- value, Percent ceil(start x (1 + value/100)) up and int(start x (1 - value/100))
   down; ``select_policy`` Max takes the policy allowing the biggest change, Min the
   smallest, Disabled none.
4. Bounds. Then [min_replicas, max_replicas].

Inputs: ``samples`` maps every replica to its metric value (None: no sample); ``ready`` names
the replicas that are ready. A replica not ready is *unready* whatever its sample (Kubernetes:
a Pending pod, or a not-ready pod's CPU sample); a ready replica without a sample is
*missing*. Kubernetes treats a running, not-ready pod's sample as unready only for CPU: for
another metric pass every running replica as ready to match it exactly.

Known difference: Kubernetes truncates Resource utilisation to a whole percent before the
ratio; here the fraction is kept (under one percentage point apart).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["DEFAULT_SCALE_DOWN", "DEFAULT_SCALE_UP", "Hpa", "HpaDecision", "HpaSpec",
           "ScalingPolicy", "ScalingRules"]

PolicyType = Literal["Pods", "Percent"]
SelectPolicy = Literal["Max", "Min", "Disabled"]


@dataclass(frozen=True, slots=True)
class ScalingPolicy:
    """At most ``value`` replicas (Pods) or percent (Percent) of change per ``period_s``."""

    type: PolicyType
    value: int
    period_s: float

    def __post_init__(self) -> None:
        if self.type not in ("Pods", "Percent"):
            raise ValueError(f"policy type must be Pods or Percent, got {self.type!r}")
        if self.value <= 0 or self.period_s <= 0:
            raise ValueError(f"policy value and period_s must be > 0, got {self}")

    def up_limit(self, start: int) -> int:
        if self.type == "Pods":
            return start + self.value
        # rounded up, or a small percentage of a few replicas would never add one
        return math.ceil(start * (1 + self.value / 100))

    def down_limit(self, start: int) -> int:
        if self.type == "Pods":
            return start - self.value
        return int(start * (1 - self.value / 100))  # Kubernetes' int32(): toward zero

    def __str__(self) -> str:
        return f"{self.type} {self.value} per {self.period_s:g} s"


@dataclass(frozen=True, slots=True)
class ScalingRules:
    """One direction's ``behavior``: its stabilisation window and rate policies."""

    stabilization_window_s: float
    select_policy: SelectPolicy
    policies: tuple[ScalingPolicy, ...]

    def __post_init__(self) -> None:
        if self.stabilization_window_s < 0:
            raise ValueError(f"stabilization_window_s must be >= 0, got "
                             f"{self.stabilization_window_s}")
        if self.select_policy not in ("Max", "Min", "Disabled"):
            raise ValueError(f"select_policy must be Max, Min or Disabled, got "
                             f"{self.select_policy!r}")
        if not self.policies:
            raise ValueError("at least one scaling policy is needed (as Kubernetes requires)")

    @property
    def longest_period_s(self) -> float:
        return max(policy.period_s for policy in self.policies)


DEFAULT_SCALE_UP = ScalingRules(0.0, "Max", (ScalingPolicy("Pods", 4, 15.0),
                                             ScalingPolicy("Percent", 100, 15.0)))
DEFAULT_SCALE_DOWN = ScalingRules(300.0, "Max", (ScalingPolicy("Percent", 100, 15.0),))


@dataclass(frozen=True, slots=True)
class HpaSpec:
    """What an HPA object says: bounds, the per-replica target, tolerance and behaviour."""

    min_replicas: int
    max_replicas: int
    target: float  # in the samples' unit, per replica
    tolerance: float = 0.1
    scale_up: ScalingRules = DEFAULT_SCALE_UP
    scale_down: ScalingRules = DEFAULT_SCALE_DOWN
    # None: the target (Kubernetes, Pods metrics); Resource utilisation uses max(target, 1.0)
    missing_value_on_scale_down: float | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.min_replicas <= self.max_replicas:
            raise ValueError(f"need 1 <= min_replicas <= max_replicas, got "
                             f"{self.min_replicas} and {self.max_replicas}")
        if self.target <= 0 or self.tolerance < 0:
            raise ValueError(f"need target > 0 and tolerance >= 0, got {self.target} and "
                             f"{self.tolerance}")


@dataclass(frozen=True, slots=True)
class HpaDecision:
    """One sync's outcome and why: the formula's proposal, the stabilised recommendation, the
    final count and what limited it (a window, a policy or a bound; None: nothing)."""

    at_s: float
    current: int
    ready: int  # ready replicas with a sample: the ones ``metric`` averages
    unready: int
    missing: int
    metric: float | None  # None: no ready replica had a sample
    target: float
    raw_desired: int  # the replica calculator's proposal
    recommended: int  # after the stabilisation windows
    desired: int  # after the rate policies and the bounds
    reason: str
    limited_by: str | None

    @property
    def change(self) -> int:
        return self.desired - self.current


@dataclass(frozen=True, slots=True)
class _Proposal:
    replicas: int
    metric: float | None
    ready: int
    unready: int
    missing: int
    reason: str


class Hpa:
    """One HPA's controller state: call ``decide`` every sync period and ``record_scale``
    after the replica count was changed to what it decided."""

    __slots__ = ("_events", "_proposals", "spec")

    def __init__(self, spec: HpaSpec) -> None:
        self.spec = spec
        self._proposals: list[tuple[float, int]] = []  # (time, replica calculator's proposal)
        self._events: list[tuple[float, int]] = []  # (time, signed change) of our own scales

    def decide(self, now_s: float, current: int, samples: Mapping[str, float | None],
               ready: Collection[str]) -> HpaDecision:
        if not self._proposals:
            # Kubernetes seeds the history with the count it found, so a fresh controller
            # does not scale down before one scale-down window has passed
            self._proposals.append((now_s, current))
        proposal = _propose(self.spec, current, samples, ready)
        low, high = self.spec.min_replicas, self.spec.max_replicas
        if current == 0:
            return self._decision(now_s, current, proposal, 0, 0,
                                  "scaling disabled: the target has 0 replicas", None)
        if not low <= current <= high:
            bound, name = (high, "max_replicas") if current > high else (low, "min_replicas")
            side = "above" if current > high else "below"
            return self._decision(now_s, current, proposal, bound, bound,
                                  f"current {side} {name}", name)
        if proposal.metric is None:  # Kubernetes: an error, and no proposal recorded
            return self._decision(now_s, current, proposal, current, current,
                                  proposal.reason, None)
        recommended, window = self._stabilise(now_s, current, proposal.replicas)
        desired, limit = self._limit(now_s, current, recommended)
        return self._decision(now_s, current, proposal, recommended, desired, proposal.reason,
                              limit if desired != recommended else window)

    def record_scale(self, now_s: float, old: int, new: int) -> None:
        if new == old:
            return
        keep_s = max(self.spec.scale_up.longest_period_s, self.spec.scale_down.longest_period_s)
        self._events = [(at_s, change) for at_s, change in self._events
                        if at_s > now_s - keep_s]
        self._events.append((now_s, new - old))

    def _stabilise(self, now_s: float, current: int, proposed: int) -> tuple[int, str | None]:
        up_cutoff_s = now_s - self.spec.scale_up.stabilization_window_s
        down_cutoff_s = now_s - self.spec.scale_down.stabilization_window_s
        lowest = min([proposed] + [n for at_s, n in self._proposals if at_s > up_cutoff_s])
        highest = max([proposed] + [n for at_s, n in self._proposals if at_s > down_cutoff_s])
        oldest_s = min(up_cutoff_s, down_cutoff_s)
        self._proposals = [(at_s, n) for at_s, n in self._proposals if at_s >= oldest_s]
        self._proposals.append((now_s, proposed))
        recommended = min(max(current, lowest), highest)
        if recommended == proposed:
            return recommended, None
        direction = "up" if proposed >= current else "down"
        return recommended, f"scale-{direction} stabilisation window"

    def _limit(self, now_s: float, current: int, recommended: int) -> tuple[int, str | None]:
        if recommended > current:
            allowed, policy = self._rate_limit(now_s, current, self.spec.scale_up, up=True)
            allowed = max(allowed, current)  # the period's allowance is spent: hold, no less
            if self.spec.max_replicas <= allowed:
                allowed, policy = self.spec.max_replicas, "max_replicas"
            return (allowed, policy) if recommended > allowed else (recommended, None)
        if recommended < current:
            allowed, policy = self._rate_limit(now_s, current, self.spec.scale_down, up=False)
            allowed = min(allowed, current)  # likewise: hold, no more
            if self.spec.min_replicas >= allowed:
                allowed, policy = self.spec.min_replicas, "min_replicas"
            return (allowed, policy) if recommended < allowed else (recommended, None)
        return recommended, None

    def _rate_limit(self, now_s: float, current: int, rules: ScalingRules,
                    *, up: bool) -> tuple[int, str]:
        """The furthest count the rules allow this sync, and the policy that set it."""
        direction = "scale-up" if up else "scale-down"
        if rules.select_policy == "Disabled":
            return current, f"{direction} disabled (select_policy Disabled)"
        limits = []
        for policy in rules.policies:
            start = current - sum(change for at_s, change in self._events
                                  if at_s > now_s - policy.period_s)
            limits.append((policy.up_limit(start) if up else policy.down_limit(start), policy))
        # Max = the biggest change: the highest limit up, the lowest down
        pick_highest = (rules.select_policy == "Max") == up
        limit, policy = (max if pick_highest else min)(limits, key=lambda pair: pair[0])
        return limit, f"{direction} policy {policy}"

    def _decision(self, now_s: float, current: int, proposal: _Proposal, recommended: int,
                  desired: int, reason: str, limited_by: str | None) -> HpaDecision:
        return HpaDecision(at_s=now_s, current=current, ready=proposal.ready,
                           unready=proposal.unready, missing=proposal.missing,
                           metric=proposal.metric, target=self.spec.target,
                           raw_desired=proposal.replicas, recommended=recommended,
                           desired=desired, reason=reason, limited_by=limited_by)


def _group(samples: Mapping[str, float | None],
           ready: Collection[str]) -> tuple[list[float], int, int]:
    """(the ready replicas' samples, how many unready, how many missing)."""
    stray = set(ready) - set(samples)
    if stray:
        raise ValueError(f"ready replicas without an entry in samples: {sorted(stray)}")
    values = [value for name, value in samples.items() if name in ready and value is not None]
    unready = sum(1 for name in samples if name not in ready)
    missing = sum(1 for name, value in samples.items() if name in ready and value is None)
    return values, unready, missing


def _propose(spec: HpaSpec, current: int, samples: Mapping[str, float | None],
             ready: Collection[str]) -> _Proposal:
    """The replica calculator: the formula, then unready and missing replicas put back."""
    values, unready, missing = _group(samples, ready)

    def proposal(replicas: int, reason: str) -> _Proposal:
        metric = math.fsum(values) / len(values) if values else None
        return _Proposal(replicas, metric, len(values), unready, missing, reason)

    if not values:
        return proposal(current, "no ready replica reported a sample")
    ratio = math.fsum(values) / len(values) / spec.target
    up_with_unready = unready > 0 and ratio > 1
    if not up_with_unready and not missing:
        if _within(spec, ratio):
            return proposal(current, "within tolerance")
        return proposal(math.ceil(ratio * len(values)), _direction(ratio))
    filled = list(values)
    if ratio < 1:
        fallback = spec.missing_value_on_scale_down
        filled += [spec.target if fallback is None else fallback] * missing
    elif ratio > 1:
        filled += [0.0] * (missing + unready)
    new_ratio = math.fsum(filled) / len(filled) / spec.target
    if _within(spec, new_ratio):
        return proposal(current, "within tolerance once unready/missing are counted")
    new = math.ceil(new_ratio * len(filled))
    if (ratio < 1 < new_ratio) or (ratio > 1 > new_ratio) or \
            (new_ratio < 1 and new > current) or (new_ratio > 1 and new < current):
        return proposal(current, "unready/missing replicas reverse the direction")
    return proposal(new, f"{_direction(new_ratio)} (unready/missing counted)")


def _within(spec: HpaSpec, ratio: float) -> bool:
    # Kubernetes' form (1.33): not abs(1 - ratio) <= tolerance, which misses 1.1 by 1e-16
    return 1 - spec.tolerance <= ratio <= 1 + spec.tolerance


def _direction(ratio: float) -> str:
    return "above target" if ratio > 1 else "below target"
