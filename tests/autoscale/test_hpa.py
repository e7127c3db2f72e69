"""The HPA algorithm against the numbers Kubernetes' controller gives for the same inputs
(replica calculator, stabilisation windows, rate policies, bounds)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest

from gameday.autoscale.hpa import (
    DEFAULT_SCALE_DOWN,
    DEFAULT_SCALE_UP,
    Hpa,
    HpaDecision,
    HpaSpec,
    ScalingPolicy,
    ScalingRules,
)

NO_DOWN_WINDOW = dataclasses.replace(DEFAULT_SCALE_DOWN, stabilization_window_s=0.0)


def _spec(**changes: object) -> HpaSpec:
    """Target 1.0 per replica, 1..100 replicas, no scale-down window (one decision shows the
    replica calculator's answer), Kubernetes' defaults otherwise."""
    spec = HpaSpec(min_replicas=1, max_replicas=100, target=1.0, scale_down=NO_DOWN_WINDOW)
    return dataclasses.replace(spec, **changes)  # type: ignore[arg-type]


def _rules(select: str, *policies: tuple[str, int, float], window_s: float = 0.0) -> ScalingRules:
    return ScalingRules(window_s, select,  # type: ignore[arg-type]
                        tuple(ScalingPolicy(kind, value, period_s)  # type: ignore[arg-type]
                              for kind, value, period_s in policies))


def _samples(values: Sequence[float | None],
             unready: int = 0) -> tuple[dict[str, float | None], set[str]]:
    """Ready replicas with these values (None: no sample), then ``unready`` replicas still
    starting up, each with a high sample the algorithm must not use."""
    samples: dict[str, float | None] = {f"r{i}": value for i, value in enumerate(values)}
    ready = set(samples)
    samples |= {f"u{i}": 9.0 for i in range(unready)}
    return samples, ready


def _decide(spec: HpaSpec, current: int, values: Sequence[float | None], unready: int = 0,
            now_s: float = 0.0) -> HpaDecision:
    samples, ready = _samples(values, unready)
    return Hpa(spec).decide(now_s, current, samples, ready)


@pytest.mark.parametrize(("current", "values", "desired", "reason"), [
    pytest.param(1, [2.0], 2, "above target", id="docs: 1 replica at 200 % of target -> 2"),
    pytest.param(4, [0.5] * 4, 2, "below target", id="docs: 4 replicas at 50 % -> 2"),
    pytest.param(4, [1.05] * 4, 4, "within tolerance", id="ratio 1.05 within tolerance"),
    pytest.param(4, [0.95] * 4, 4, "within tolerance", id="ratio 0.95 within tolerance"),
    pytest.param(10, [1.1] * 10, 10, "within tolerance", id="ratio 1.1: the band is inclusive"),
    pytest.param(10, [0.9] * 10, 10, "within tolerance", id="ratio 0.9: the band is inclusive"),
    pytest.param(10, [1.11] * 10, 12, "above target", id="ratio 1.11 scales: ceil(11.1) = 12"),
    pytest.param(10, [0.89] * 10, 9, "below target", id="ratio 0.89 scales: ceil(8.9) = 9"),
    pytest.param(3, [1.5] * 3, 5, "above target", id="ceil rounds up: ceil(4.5) = 5"),
    pytest.param(3, [0.5] * 3, 2, "below target", id="ceil on scale-down: ceil(1.5) = 2"),
    pytest.param(3, [1.0, 2.0, 3.0], 6, "above target", id="the average per replica: 2.0"),
])
def test_the_formula_is_ceil_of_current_times_metric_over_target(
        current: int, values: list[float], desired: int, reason: str) -> None:
    decision = _decide(_spec(), current, values)
    assert (decision.raw_desired, decision.desired, decision.reason) == (desired, desired, reason)
    assert decision.change == desired - current
    assert decision.metric == pytest.approx(sum(values) / len(values))
    assert decision.limited_by is None


def test_the_tolerance_is_the_specs() -> None:
    assert _decide(_spec(tolerance=0.0), 4, [1.05] * 4).desired == 5  # ceil(4.2)
    assert _decide(_spec(tolerance=0.5), 4, [1.45] * 4).desired == 4


@pytest.mark.parametrize(("current", "values", "unready", "fallback", "desired", "reason"), [
    pytest.param(4, [1.15, 1.15], 2, None, 4,
                 "unready/missing replicas reverse the direction",
                 id="unready count as 0 on scale-up: 2.3/4 = 0.575 stops it"),
    pytest.param(4, [1.15] * 4, 0, None, 5, "above target",
                 id="the same load with all four ready scales to ceil(4.6) = 5"),
    pytest.param(4, [1.3] * 3, 1, None, 4, "within tolerance once unready/missing are counted",
                 id="unready as 0 bring 1.3 into tolerance: 3.9/4 = 0.975"),
    pytest.param(4, [3.0, 3.0], 2, None, 6, "above target (unready/missing counted)",
                 id="unready as 0 on scale-up: ceil(6/4 x 4) = 6"),
    pytest.param(6, [0.5] * 4, 2, None, 2, "below target",
                 id="unready are left out on scale-down: ceil(0.5 x 4) = 2"),
    pytest.param(4, [0.5, 0.5, 0.5, None], 0, None, 3, "below target (unready/missing counted)",
                 id="missing count at target on scale-down: ceil(2.5/4 x 4) = 3"),
    pytest.param(3, [0.5, 0.5, 0.5], 0, None, 2, "below target",
                 id="the same load without the missing one: ceil(1.5) = 2"),
    pytest.param(4, [0.85, 0.85, None, None], 0, None, 4,
                 "within tolerance once unready/missing are counted",
                 id="missing at target bring 0.85 into tolerance: 0.925"),
    pytest.param(4, [1.5, 1.5, None, None], 0, None, 4,
                 "unready/missing replicas reverse the direction",
                 id="missing count as 0 on scale-up: 3/4 = 0.75 reverses it"),
    pytest.param(6, [1.5, 1.5, 1.5, None], 0, None, 6,
                 "unready/missing replicas reverse the direction",
                 id="fewer reporting than current: ceil(4.5) = 5 < 6 keeps 6"),
])
def test_unready_and_missing_replicas_count_as_the_replica_calculator_counts_them(
        current: int, values: list[float | None], unready: int, fallback: float | None,
        desired: int, reason: str) -> None:
    decision = _decide(_spec(missing_value_on_scale_down=fallback), current, values, unready)
    assert (decision.raw_desired, decision.desired, decision.reason) == (desired, desired, reason)
    reporting = [value for value in values if value is not None]
    assert (decision.ready, decision.unready, decision.missing) == (
        len(reporting), unready, len(values) - len(reporting))
    assert decision.metric == pytest.approx(sum(reporting) / len(reporting))


@pytest.mark.parametrize(("fallback", "desired"), [
    pytest.param(None, 2, id="Pods metric: missing at the target 0.6: ceil(1.08/0.6) = 2"),
    pytest.param(1.0, 3, id="CPU: missing at 100 % of the request: ceil(1.48/0.6) = 3"),
])
def test_missing_replicas_on_scale_down_count_at_the_specs_fallback(
        fallback: float | None, desired: int) -> None:
    spec = _spec(target=0.6, missing_value_on_scale_down=fallback)
    assert _decide(spec, 5, [0.12, 0.12, 0.12, 0.12, None]).desired == desired


def test_no_ready_sample_changes_nothing_and_says_so() -> None:
    decision = _decide(_spec(), 3, [], unready=3)
    assert (decision.desired, decision.metric, decision.ready, decision.unready) == (3, None, 0, 3)
    assert decision.reason == "no ready replica reported a sample"


def test_a_ready_replica_missing_from_the_samples_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="r9"):
        Hpa(_spec()).decide(0.0, 1, {"r0": 1.0}, {"r0", "r9"})


@pytest.mark.parametrize(("spec", "current", "values", "desired", "reason", "limited_by"), [
    pytest.param(_spec(max_replicas=6), 4, [10.0] * 4, 6, "above target", "max_replicas",
                 id="max clamps below the policies' 8"),
    pytest.param(_spec(max_replicas=8), 4, [10.0] * 4, 8, "above target", "max_replicas",
                 id="max equal to the policy limit: Kubernetes names the bound"),
    pytest.param(_spec(max_replicas=9), 4, [10.0] * 4, 8, "above target",
                 "scale-up policy Pods 4 per 15 s", id="policy limit below max"),
    pytest.param(_spec(min_replicas=3), 4, [0.1] * 4, 3, "below target", "min_replicas",
                 id="min clamps ceil(0.4) = 1"),
    pytest.param(_spec(max_replicas=6), 8, [1.0] * 8, 6, "current above max_replicas",
                 "max_replicas", id="current above max goes to max at once"),
    pytest.param(_spec(min_replicas=3), 2, [5.0] * 2, 3, "current below min_replicas",
                 "min_replicas", id="current below min goes to min at once"),
    pytest.param(_spec(), 0, [], 0, "scaling disabled: the target has 0 replicas", None,
                 id="a target scaled to 0 is not autoscaled"),
])
def test_bounds_clamp_the_result_and_say_which(spec: HpaSpec, current: int, values: list[float],
                                               desired: int, reason: str,
                                               limited_by: str | None) -> None:
    decision = _decide(spec, current, values)
    assert (decision.desired, decision.reason, decision.limited_by) == (
        desired, reason, limited_by)


# (time, current replicas, load per replica, raw proposal, desired) with target 1.0
Step = tuple[float, int, float, int, int]


@pytest.mark.parametrize(("rules", "steps", "limited_by"), [
    pytest.param(dataclasses.replace(DEFAULT_SCALE_DOWN, stabilization_window_s=5.0), [
        (0.0, 6, 1.0, 6, 6),
        (2.0, 6, 0.8, 5, 6),  # held at the highest of (-3, 2]: 6
        (4.0, 6, 0.5, 3, 6),
        (6.0, 6, 0.3, 2, 5),  # t=0 left the window: the highest is now 5 (t=2)
        (8.0, 5, 0.4, 2, 3),  # (3, 8]: 3 (t=4), 2, 2
        (10.0, 3, 0.6, 2, 2),  # (5, 10]: 2, 2, 2
    ], "scale-down stabilisation window", id="scale-down: the highest in the window"),
])
def test_scale_down_waits_for_the_highest_recent_proposal(rules: ScalingRules,
                                                          steps: list[Step],
                                                          limited_by: str) -> None:
    hpa = Hpa(_spec(scale_down=rules))
    for now_s, current, load, raw, desired in steps:
        decision = hpa.decide(now_s, current, *_samples([load] * current))
        assert (decision.raw_desired, decision.desired) == (raw, desired), now_s
        held = decision.recommended != decision.raw_desired
        assert decision.limited_by == (limited_by if held else None), now_s


def test_a_fresh_autoscaler_holds_its_starting_count_for_the_scale_down_window() -> None:
    hpa = Hpa(HpaSpec(min_replicas=1, max_replicas=10, target=1.0))  # 300 s, as Kubernetes
    low_load = _samples([0.5] * 4)
    assert [hpa.decide(now_s, 4, *low_load).desired for now_s in (0.0, 150.0, 299.0)] == [4] * 3
    assert hpa.decide(300.0, 4, *low_load).desired == 2


def test_scale_up_window_applies_the_lowest_recent_proposal() -> None:
    spec = _spec(scale_up=dataclasses.replace(DEFAULT_SCALE_UP, stabilization_window_s=5.0))
    hpa = Hpa(spec)
    steps: list[Step] = [
        (0.0, 2, 1.0, 2, 2),
        (1.0, 2, 3.0, 6, 2),  # the lowest of (-4, 1] is 2
        (2.0, 2, 2.0, 4, 2),
        (3.0, 2, 4.0, 8, 2),
        (6.0, 2, 4.0, 8, 4),  # (1, 6]: 4 (t=2), 8, 8
        (9.0, 4, 2.0, 8, 8),  # (4, 9]: 8, 8
    ]
    for now_s, current, load, raw, desired in steps:
        decision = hpa.decide(now_s, current, *_samples([load] * current))
        assert (decision.raw_desired, decision.desired) == (raw, desired), now_s
    down = hpa.decide(10.0, 8, *_samples([0.5] * 8))  # the scale-up window holds no scale-down
    assert (down.raw_desired, down.desired, down.limited_by) == (4, 4, None)


@pytest.mark.parametrize(("direction", "rules", "current", "load", "desired", "limited_by"), [
    pytest.param("up", _rules("Max", ("Pods", 4, 15.0)), 4, 10.0, 8,
                 "scale-up policy Pods 4 per 15 s", id="up Pods 4: 4 -> 8"),
    pytest.param("up", _rules("Max", ("Percent", 100, 15.0)), 4, 10.0, 8,
                 "scale-up policy Percent 100 per 15 s", id="up Percent 100: 4 -> 8"),
    pytest.param("up", _rules("Max", ("Percent", 100, 15.0), ("Pods", 1, 15.0)), 4, 10.0, 8,
                 "scale-up policy Percent 100 per 15 s", id="up Max picks Percent: 8"),
    pytest.param("up", _rules("Min", ("Percent", 100, 15.0), ("Pods", 1, 15.0)), 4, 10.0, 5,
                 "scale-up policy Pods 1 per 15 s", id="up Min picks Pods 1: 5"),
    pytest.param("up", _rules("Disabled", ("Pods", 4, 15.0)), 4, 10.0, 4,
                 "scale-up disabled (select_policy Disabled)", id="up Disabled: no change"),
    pytest.param("up", DEFAULT_SCALE_UP, 1, 10.0, 5, "scale-up policy Pods 4 per 15 s",
                 id="up defaults from 1: Pods 4 beats 100 % -> 5"),
    pytest.param("up", DEFAULT_SCALE_UP, 10, 10.0, 20, "scale-up policy Percent 100 per 15 s",
                 id="up defaults from 10: 100 % beats Pods 4 -> 20"),
    pytest.param("up", _rules("Max", ("Percent", 10, 15.0)), 3, 10.0, 4,
                 "scale-up policy Percent 10 per 15 s", id="up Percent rounds up: ceil(3.3)"),
    pytest.param("down", _rules("Max", ("Percent", 50, 15.0)), 5, 0.1, 2,
                 "scale-down policy Percent 50 per 15 s", id="down Percent 50 of 5: int(2.5)"),
    pytest.param("down", _rules("Max", ("Percent", 30, 15.0)), 7, 0.1, 4,
                 "scale-down policy Percent 30 per 15 s", id="down Percent 30 of 7: int(4.9)"),
    pytest.param("down", _rules("Max", ("Percent", 80, 15.0)), 10, 0.1, 1, None,
                 id="down Percent 80 of 10: float64 gives int(1.9999999999999996) = 1"),
    pytest.param("down", _rules("Max", ("Pods", 1, 15.0), ("Percent", 50, 15.0)), 10, 0.1, 5,
                 "scale-down policy Percent 50 per 15 s", id="down Max picks Percent: 5"),
    pytest.param("down", _rules("Min", ("Pods", 1, 15.0), ("Percent", 50, 15.0)), 10, 0.1, 9,
                 "scale-down policy Pods 1 per 15 s", id="down Min picks Pods 1: 9"),
    pytest.param("down", _rules("Disabled", ("Pods", 1, 15.0)), 10, 0.1, 10,
                 "scale-down disabled (select_policy Disabled)", id="down Disabled: no change"),
])
def test_rate_policies_limit_one_sync(direction: str, rules: ScalingRules, current: int,
                                      load: float, desired: int, limited_by: str | None) -> None:
    spec = _spec(scale_up=rules) if direction == "up" else _spec(scale_down=rules)
    decision = _decide(spec, current, [load] * current)
    assert (decision.desired, decision.limited_by) == (desired, limited_by)
    assert decision.recommended == decision.raw_desired  # the windows played no part


# ("decide", time, current, desired) or ("scale", time, old, new): load 10 per replica
Event = tuple[str, float, int, int]


@pytest.mark.parametrize("events", [
    pytest.param([
        ("decide", 0.0, 4, 8), ("scale", 0.0, 4, 8),
        ("decide", 5.0, 8, 8),  # period start 8 - 4 = 4: Pods 4 allows 8
        ("decide", 14.9, 8, 8),
        ("decide", 15.0, 8, 12),  # the event is exactly one period old: out
        ("scale", 15.0, 8, 12), ("decide", 20.0, 12, 12), ("decide", 31.0, 12, 16),
    ], id="an added replica counts for one period, then ages out"),
    pytest.param([
        ("scale", 0.0, 4, 8), ("scale", 3.0, 8, 6),
        ("decide", 5.0, 6, 8),  # period start 6 - 4 + 2 = 4
        ("decide", 15.5, 6, 12),  # the +4 (t=0) aged out, the -2 (t=3) not: start 6 + 2 = 8
    ], id="replicas removed in the period are added back to its start"),
    pytest.param([
        ("scale", 0.0, 2, 10),  # more than the policy allows (a jump to min_replicas, by hand)
        ("decide", 5.0, 10, 10),  # start 2: Pods 4 allows 6, which holds 10, never lowers it
        ("decide", 15.0, 10, 14),
    ], id="a jump past the policy holds scale-up for a period, never scales down"),
])
def test_the_period_start_counts_our_own_scale_events(events: list[Event]) -> None:
    hpa = Hpa(_spec(scale_up=_rules("Max", ("Pods", 4, 15.0))))
    for kind, now_s, first, second in events:
        if kind == "scale":
            hpa.record_scale(now_s, first, second)
            continue
        decision = hpa.decide(now_s, first, *_samples([10.0] * first))
        assert decision.desired == second, now_s
        assert decision.limited_by == "scale-up policy Pods 4 per 15 s", now_s


@pytest.mark.parametrize(("make", "message"), [
    pytest.param(lambda: HpaSpec(min_replicas=0, max_replicas=3, target=1.0), "min_replicas",
                 id="min 0"),
    pytest.param(lambda: HpaSpec(min_replicas=4, max_replicas=3, target=1.0), "min_replicas",
                 id="min above max"),
    pytest.param(lambda: HpaSpec(min_replicas=1, max_replicas=3, target=0.0), "target",
                 id="target 0"),
    pytest.param(lambda: ScalingRules(0.0, "Max", ()), "at least one", id="no policy"),
    pytest.param(lambda: ScalingRules(-1.0, "Max", DEFAULT_SCALE_UP.policies), "window",
                 id="negative window"),
    pytest.param(lambda: ScalingPolicy("Pods", 0, 15.0), "> 0", id="policy value 0"),
    pytest.param(lambda: ScalingPolicy("Replicas", 1, 15.0), "Pods or Percent",  # type: ignore[arg-type]
                 id="unknown policy type"),
])
def test_a_spec_kubernetes_would_reject_is_rejected(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]
