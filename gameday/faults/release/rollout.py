"""The releases themselves, each a timeline of what was done when (epoch seconds), returned to
the journal whole: the report and the measures read it from there (``gameday.measure.release``).

- ``canary``: the canary member (the first the edge routes to in the primary region) loads the
  new version (the ``canary_alias`` moved onto it) and takes ``share`` of its region's traffic,
  step by step; at each step the analysis measures; a failing, erring or inconclusive analysis
  rolls back at once (the canary's weight to 0 first, then everything put back); after the
  last step the version is promoted: the ``stable_alias`` moves onto it and every member loads
  it. (Argo pauses on an inconclusive analysis for a person; a rehearsal has none, so it rolls
  back.)
- ``blue_green``: each region's members split in two colours; green (the second half) loads
  the new version while taking no traffic, is probed, then the edge switches every region to
  green in one runtime-API exchange; blue stays loaded for the switch back.
- ``release`` / ``roll_back``: the whole stack moves to a version (a bad release gone out), and
  back: the alias moves back and every member reloads at once; the rollback's timeline starts
  at the decision.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from gameday.errors import FaultError
from gameday.faults.release.metrics import MeasureContext, ShadowSet, measure
from gameday.faults.release.weights import canary_weights, colour_weights
from gameday.measure.analysis import AnalysisSpec, MetricProgress, Phase, overall
from gameday.platforms.base import Member, MetricsSource, ReleaseControl

__all__ = ["CanaryPlan", "analyse_canary", "blue_green", "release", "roll_back", "start_canary"]

_PREDICT_PATH = "/predict"
_MODEL_URI = "models:/{model}@{alias}"


def _now() -> float:
    return time.time()


@dataclass(frozen=True)
class CanaryPlan:
    stack: str
    version: str  # alias or registry version of the release
    steps: tuple[float, ...]  # the canary's share of its region's traffic, step by step
    analysis: AnalysisSpec | None = None  # what analyse_canary judges each step by
    model: str = "fraud"
    canary_alias: str = "challenger"
    stable_alias: str = "champion"
    shadow_set: Path | None = None


def _shares(steps: tuple[float, ...]) -> tuple[float, ...]:
    if not steps or any(not 0 < s <= 1 for s in steps) or list(steps) != sorted(steps):
        raise FaultError(f"canary steps {list(steps)}: expected rising shares in (0, 1]")
    return steps


def _load_all(ctl: ReleaseControl, stack: str, members: list[Member],
              uri: str) -> dict[str, str]:
    """Every member loads ``uri`` at once (a reload is I/O: the members do it in parallel)."""
    with ThreadPoolExecutor(max_workers=max(1, len(members))) as pool:
        loaded = pool.map(lambda m: (m.name, ctl.load_version(stack, m.name, uri)), members)
        return dict(loaded)


def _analyse(plan: CanaryPlan, ctx: MeasureContext,
             record: Callable[[dict[str, Any]], None]) -> tuple[Phase, list[dict[str, Any]]]:
    """One step's analysis: every metric measured ``count`` times (errors add more tries, up
    to 4 × count in all), the phase as soon as it is settled."""
    spec = plan.analysis
    assert spec is not None
    progress = [MetricProgress(metric, spec.count) for metric in spec.metrics]
    measured: list[dict[str, Any]] = []
    time.sleep(spec.initial_delay_s)
    for _ in range(4 * spec.count):
        time.sleep(spec.interval_s)  # each measurement covers the interval before it
        for metric in progress:
            if metric.done:
                continue
            value, how = measure(metric.spec, ctx, spec.interval_s)
            taken = metric.add(_now(), value, how).as_json()
            measured.append(taken)
            record(taken)
        phase = overall(progress)
        if phase != Phase.RUNNING:
            return phase, measured
    return Phase.ERROR, measured  # too many measurements without data


def start_canary(ctl: ReleaseControl, plan: CanaryPlan) -> dict[str, Any]:
    """The canary member loads the release and takes the first step's share: from the moment
    this returns, the release serves real traffic (the scenario's fault window begins)."""
    shares = _shares(plan.steps)
    version = ctl.resolve_version(plan.stack, plan.version)
    members = ctl.release_members(plan.stack)
    canary_member = members[0]
    began = ctl.begin_release(plan.stack)
    base = ctl.edge_weights(plan.stack)
    timeline: dict[str, Any] = {
        "release": "canary", "stack": plan.stack, "version": version,
        "canary": canary_member.name, "region": canary_member.region,
        "stable_versions": began.get("before", {}).get("versions", {}), "base_weights": base,
        "began_s": _now()}
    regions = {m.name: m.region for m in members}
    # out of the edge while it loads: not one request meets the release before its step
    ctl.set_edge_weights(plan.stack, canary_weights(base, regions, canary_member.name, 0.0))
    ctl.move_alias(plan.stack, plan.canary_alias, version)
    ctl.load_version(plan.stack, canary_member.name,
                     _MODEL_URI.format(model=plan.model, alias=plan.canary_alias))
    timeline["canary_loaded_s"] = _now()
    timeline["weights"] = ctl.set_edge_weights(plan.stack, canary_weights(
        base, regions, canary_member.name, shares[0]))
    timeline["share"] = shares[0]
    timeline["traffic_s"] = _now()
    return timeline


def analyse_canary(ctl: ReleaseControl, plan: CanaryPlan,
                   record: Callable[[dict[str, Any]], None] = lambda _: None) -> dict[str, Any]:
    """The canary ``start_canary`` began, analysed at its first step, then moved through the
    others, to its end: promoted, or rolled back. ``record`` sees every measurement."""
    shares = _shares(plan.steps)
    if plan.analysis is None:
        raise FaultError("analyse_canary needs an analysis")
    version = ctl.resolve_version(plan.stack, plan.version)
    before = ctl.release_before(plan.stack)
    if before is None:
        raise FaultError(f"no canary of {plan.stack} in progress: start_canary first")
    base = before["weights"]
    shadow = ShadowSet.load(plan.shadow_set) if plan.shadow_set is not None and any(
        m.provider == "shadow" for m in plan.analysis.metrics) else None
    prometheus = ctl.prometheus_url() if isinstance(ctl, MetricsSource) else None
    members = ctl.release_members(plan.stack)
    canary_member = members[0]
    regions = {m.name: m.region for m in members}
    timeline: dict[str, Any] = {"release": "canary-analysis", "stack": plan.stack,
                                "version": version, "canary": canary_member.name, "steps": []}
    phase = Phase.SUCCESSFUL
    for number, share in enumerate(shares):
        step: dict[str, Any] = {"share": share, "started_s": _now()}
        if number:  # the first step's share is start_canary's
            step["weights"] = ctl.set_edge_weights(plan.stack, canary_weights(
                base, regions, canary_member.name, share))
            step["started_s"] = _now()
        timeline["steps"].append(step)
        ctx = MeasureContext(prometheus, canary_member, version, _PREDICT_PATH,
                             since_s=step["started_s"], shadow=shadow)
        phase, step["measurements"] = _analyse(plan, ctx, record)
        step["phase"], step["ended_s"] = phase.value, _now()
        if phase != Phase.SUCCESSFUL:
            break
    timeline["decision"] = {"t_s": _now(), "phase": phase.value,
                            "outcome": "promote" if phase == Phase.SUCCESSFUL else "roll back"}
    if phase == Phase.SUCCESSFUL:
        ctl.move_alias(plan.stack, plan.stable_alias, version)
        timeline["loaded"] = _load_all(ctl, plan.stack, members, _MODEL_URI.format(
            model=plan.model, alias=plan.stable_alias))
        ctl.set_edge_weights(plan.stack, base)
        timeline["outcome"], timeline["promoted_s"] = "promoted", _now()
    else:
        ctl.set_edge_weights(plan.stack, canary_weights(base, regions, canary_member.name, 0.0))
        timeline["traffic_off_s"] = _now()
        timeline["undone"] = ctl.end_release(plan.stack)
        timeline["outcome"], timeline["rolled_back_s"] = "rolled back", _now()
    return timeline


def _probe(member: Member, body: dict[str, Any]) -> tuple[int, str]:
    try:
        answer = httpx.post(f"{member.url}{_PREDICT_PATH}", json=body, timeout=2.0)
    except httpx.HTTPError as exc:
        return 0, type(exc).__name__
    return answer.status_code, answer.headers.get("X-Model-Version", "")


def blue_green(ctl: ReleaseControl, stack: str, version: str, *, model: str = "fraud",
               alias: str = "challenger", stable_alias: str = "champion",
               probe_body: dict[str, Any]) -> dict[str, Any]:
    """Green (the second half of each region's members) loads ``version`` with no traffic,
    answers a probe, then the edge switches to green everywhere at once, and the
    ``stable_alias`` moves onto the version green serves."""
    version = ctl.resolve_version(stack, version)
    members = ctl.release_members(stack)
    blue, green = [], []
    for region in dict.fromkeys(m.region for m in members):
        mates = [m for m in members if m.region == region]
        if len(mates) < 2:
            raise FaultError(f"blue-green needs two members or more in {region} (one colour "
                             f"each); it has {len(mates)}: raise the suite's replicas")
        blue += mates[: len(mates) // 2]
        green += mates[len(mates) // 2:]
    began = ctl.begin_release(stack)
    base = ctl.edge_weights(stack)
    timeline: dict[str, Any] = {
        "release": "blue-green", "stack": stack, "version": version,
        "blue": [m.name for m in blue], "green": [m.name for m in green],
        "stable_versions": began.get("before", {}).get("versions", {}), "base_weights": base,
        "began_s": _now()}
    ctl.set_edge_weights(stack, colour_weights(base, [m.name for m in blue]))
    timeline["green_drained_s"] = _now()
    ctl.move_alias(stack, alias, version)
    timeline["loaded"] = _load_all(ctl, stack, green, _MODEL_URI.format(model=model,
                                                                        alias=alias))
    probes = {m.name: _probe(m, probe_body) for m in green}
    bad = {name: got for name, got in probes.items() if got != (200, version)}
    if bad:
        raise FaultError(f"green does not serve v{version}: {bad}")
    timeline["green_ready_s"] = _now()
    timeline["switch_s"] = _now()
    timeline["weights"] = ctl.set_edge_weights(stack, colour_weights(base, [m.name
                                                                           for m in green]))
    timeline["switched_s"] = _now()
    ctl.move_alias(stack, stable_alias, version)
    return timeline


def release(ctl: ReleaseControl, stack: str, version: str, *, model: str = "fraud",
            alias: str = "champion") -> dict[str, Any]:
    """The whole stack moves to ``version`` (``alias`` onto it, every member reloads)."""
    version = ctl.resolve_version(stack, version)
    members = ctl.release_members(stack)
    began = ctl.begin_release(stack)
    timeline: dict[str, Any] = {
        "release": "full", "stack": stack, "version": version,
        "stable_versions": began.get("before", {}).get("versions", {}), "began_s": _now()}
    ctl.move_alias(stack, alias, version)
    timeline["loaded"] = _load_all(ctl, stack, members, _MODEL_URI.format(model=model,
                                                                          alias=alias))
    timeline["traffic_s"] = _now()
    return timeline


def roll_back(ctl: ReleaseControl, stack: str) -> dict[str, Any]:
    """The decision to roll back is now: the aliases move back, every member reloads what it
    served before (in parallel), the weights come back."""
    decided_s = _now()
    undone = ctl.end_release(stack)
    if not undone:
        raise FaultError(f"no release of {stack} in progress to roll back")
    return {"rollback": stack, "decision_s": decided_s, "undone": undone,
            "rolled_back_s": _now()}
