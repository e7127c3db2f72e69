"""Model releases as Chaos Toolkit actions (``gameday.faults.release.rollout`` says what each
does); each returns its timeline for the journal, which the report reads.

- ``start_canary`` then ``analyse_canary``: the canary takes the first share of ``steps`` (the
  fault window begins), then is analysed at each share, promoted or rolled back;
- ``blue_green_switch``: the edge switches every region from blue to green;
- ``release_version`` then ``roll_back_release``: a bad release gone out, and its rollback;
- ``end_release``: the experiments' rollback: whatever a release changed is put back (aliases,
  models, weights); a no-op when nothing is left.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gameday.errors import FaultError
from gameday.faults.release import rollout
from gameday.faults.target import Configuration, capability
from gameday.measure.analysis import AnalysisSpec
from gameday.platforms.base import ReleaseControl
from gameday.stacks import load_stack

__all__ = ["analyse_canary", "blue_green_switch", "end_release", "release_version",
           "roll_back_release", "start_canary"]

_REPO = Path(__file__).resolve().parents[3]
_SHADOW_SET = _REPO / "artifacts" / "models" / "shadow-set.jsonl"
_STEPS = (0.1, 0.5)


def _analysis(analysis: dict[str, Any] | None) -> AnalysisSpec:
    if not isinstance(analysis, dict):
        raise FaultError("analyse_canary: argument analysis: expected an object with "
                         "interval_s, count and metrics")
    try:
        return AnalysisSpec.model_validate(analysis)
    except ValidationError as exc:
        wrong = "; ".join(f"analysis.{'.'.join(map(str, e['loc']))}: {e['msg']}"
                          for e in exc.errors())
        raise FaultError(f"analyse_canary: {wrong}") from None


def _plan(stack: str, version: str, steps: list[float] | None,
          analysis: dict[str, Any] | None, canary_alias: str, stable_alias: str,
          shadow_set: str | None) -> rollout.CanaryPlan:
    return rollout.CanaryPlan(
        stack=stack, version=str(version),
        steps=tuple(float(s) for s in (steps or _STEPS)), analysis=_analysis(analysis),
        canary_alias=canary_alias, stable_alias=stable_alias,
        shadow_set=Path(shadow_set) if shadow_set else _SHADOW_SET)


def start_canary(stack: str = "tabular", version: str = "challenger",
                 steps: list[float] | None = None, canary_alias: str = "challenger",
                 configuration: Configuration = None) -> dict[str, Any]:
    """The canary of ``version`` (an alias or a registry version) takes the first share of
    ``steps`` (default 0.1, then 0.5)."""
    plan = rollout.CanaryPlan(stack=stack, version=str(version),
                              steps=tuple(float(s) for s in (steps or _STEPS)),
                              canary_alias=canary_alias)
    return rollout.start_canary(capability(configuration, ReleaseControl), plan)


def analyse_canary(stack: str = "tabular", version: str = "challenger",
                   steps: list[float] | None = None, analysis: dict[str, Any] | None = None,
                   canary_alias: str = "challenger", stable_alias: str = "champion",
                   shadow_set: str | None = None,
                   configuration: Configuration = None) -> dict[str, Any]:
    """``analysis`` at every step of ``steps``; promoted after the last, rolled back at the
    first step whose analysis does not succeed."""
    plan = _plan(stack, version, steps, analysis, canary_alias, stable_alias, shadow_set)
    return rollout.analyse_canary(capability(configuration, ReleaseControl), plan)


def blue_green_switch(stack: str = "tabular", version: str = "challenger",
                      configuration: Configuration = None) -> dict[str, Any]:
    probe = load_stack(stack).probe_request
    if probe is None:
        raise FaultError(f"stack {stack} declares no probe_request: green cannot be probed")
    return rollout.blue_green(capability(configuration, ReleaseControl), stack, str(version),
                              probe_body=probe.body)


def release_version(stack: str = "tabular", version: str = "bad-slow",
                    configuration: Configuration = None) -> dict[str, Any]:
    return rollout.release(capability(configuration, ReleaseControl), stack, str(version))


def roll_back_release(stack: str = "tabular",
                      configuration: Configuration = None) -> dict[str, Any]:
    return rollout.roll_back(capability(configuration, ReleaseControl), stack)


def end_release(stack: str = "tabular", configuration: Configuration = None) -> dict[str, Any]:
    return {"stack": stack,
            "undone": capability(configuration, ReleaseControl).end_release(stack)}
