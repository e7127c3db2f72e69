"""What a release scenario did to the users (DESIGN.md: release scenarios), from the release's
own timeline (the actions' outputs in the journal, ``gameday.faults.release.rollout``) and the
request records (each names the model version that answered, failures too):

- **time to detect**: from the release taking traffic to the analysis' failing verdict;
- **time to roll back**: from that verdict (or the rollback decision) to the end of the last
  request the release served; 0 when that request ended before the verdict
  (``served_until_decision`` False: no request reached it in between, or the edge's own
  passive health check had already taken a failing canary out);
- **requests harmed**: the release's answers that failed or were slower than the latency SLO,
  and, when its analysis failed on answer quality (a shadow metric), every answer it gave;
- a canary's **served share**: its requests against what its weight promised (its share of
  its region's requests while it took traffic);
- a blue-green switch's **failed** and **mixed** requests: failed ones scheduled around the
  switch, and answers from the old colour that began after the first answer from the new one
  ended (the goal is none of either).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from gameday.measure.arrays import RequestArrays

__all__ = ["SWITCH_MARGIN_S", "ReleaseOutcome", "StepResult", "release_outcomes"]

BoolArray = npt.NDArray[np.bool_]
SWITCH_MARGIN_S = 2.0  # a blue-green switch's failures are counted this long either side


@dataclass(frozen=True, slots=True)
class StepResult:
    share: float
    phase: str
    started_s: float
    ended_s: float
    measurements: tuple[dict[str, Any], ...]
    served: int  # requests the release answered at this step
    region_requests: int  # requests its region answered at this step


@dataclass(frozen=True, slots=True)
class ReleaseOutcome:
    scenario: str
    kind: str  # canary | blue-green | rollback
    version: str
    outcome: str  # promoted | rolled back | switched | released
    traffic_s: float | None  # when the release began to take traffic
    decision_s: float | None  # the analysis' verdict, or the rollback decision
    decision_phase: str = ""
    time_to_detect_s: float | None = None
    time_to_roll_back_s: float | None = None
    last_served_s: float | None = None  # end of the last request the release answered
    # False: the release's last answer ended before the decision
    served_until_decision: bool | None = None
    served: int = 0  # requests the release answered (any outcome)
    failed: int = 0  # of those, without a good answer
    slowed: int = 0  # of those, good but slower than the latency SLO
    harmed: int = 0
    expected_share: float | None = None  # canary: what its weights promised
    served_share: float | None = None  # canary: what it got
    switch_failed: int | None = None  # blue-green
    mixed: int | None = None  # blue-green
    steps: tuple[StepResult, ...] = field(default_factory=tuple)


def _quality_failed(steps: Sequence[Mapping[str, Any]], quality_metrics: set[str]) -> bool:
    return any(m.get("phase") == "Failed" and m.get("metric") in quality_metrics
               for step in steps for m in step.get("measurements", ()))


def _served_by(requests: RequestArrays, version: str, since_s: float,
               until_s: float) -> BoolArray:
    served: BoolArray = (requests.model_version == version) & (requests.start_s >= since_s) \
        & (requests.start_s <= until_s)
    return served


def _harm(requests: RequestArrays, mask: BoolArray, latency_slo_s: float) -> tuple[int, int]:
    ok = requests.ok[mask]
    latency = (requests.end_s - requests.scheduled_s)[mask]
    return int((~ok).sum()), int((ok & (latency > latency_slo_s)).sum())


def _roll_back_time(last_s: float | None, decision_s: float | None
                    ) -> tuple[float | None, bool | None]:
    """Time to roll back, and whether the release served until the decision at all."""
    if last_s is None or not decision_s:
        return None, None
    return max(0.0, last_s - decision_s), last_s >= decision_s


def _last_end(requests: RequestArrays, mask: BoolArray) -> float | None:
    return float(requests.end_s[mask].max()) if mask.any() else None


def _canary(scenario: str, start: Mapping[str, Any], analysis: Mapping[str, Any] | None,
            requests: RequestArrays, window_end_s: float, latency_slo_s: float,
            quality_metrics: set[str]) -> ReleaseOutcome:
    version, region = str(start["version"]), str(start.get("region", ""))
    traffic_s = float(start["traffic_s"])
    raw_steps = list(analysis.get("steps", ())) if analysis else []
    decision = dict(analysis.get("decision", {})) if analysis else {}
    decision_s = float(decision["t_s"]) if "t_s" in decision else None
    until_s = float(analysis.get("traffic_off_s") or analysis.get("promoted_s")
                    or window_end_s) if analysis else window_end_s
    # from the release's start: an answer of the version before its first step counts too
    served_mask = _served_by(requests, version, float(start.get("began_s", traffic_s)),
                             window_end_s)
    steps, expected, region_total = [], 0.0, 0
    in_region = requests.region == region
    for number, step in enumerate(raw_steps):
        begin = traffic_s if number == 0 else float(step["started_s"])
        end = float(step.get("ended_s", until_s))
        during = (requests.start_s >= begin) & (requests.start_s < end)
        served = int((during & (requests.model_version == version)).sum())
        region_requests = int((during & in_region).sum())
        expected += float(step["share"]) * region_requests
        region_total += region_requests
        steps.append(StepResult(float(step["share"]), str(step.get("phase", "")), begin, end,
                                tuple(step.get("measurements", ())), served,
                                region_requests))
    failed, slowed = _harm(requests, served_mask, latency_slo_s)
    served_total = int(served_mask.sum())
    rolled_back = analysis is not None and analysis.get("outcome") == "rolled back"
    wrong = rolled_back and _quality_failed(raw_steps, quality_metrics)
    last = _last_end(requests, served_mask) if rolled_back else None
    step_served = sum(s.served for s in steps)
    roll_back_s, until_decision = _roll_back_time(last, decision_s)
    return ReleaseOutcome(
        scenario=scenario, kind="canary", version=version,
        outcome=str(analysis.get("outcome", "")) if analysis else "started",
        traffic_s=traffic_s, decision_s=decision_s,
        decision_phase=str(decision.get("phase", "")),
        time_to_detect_s=decision_s - traffic_s if rolled_back and decision_s else None,
        time_to_roll_back_s=roll_back_s, served_until_decision=until_decision,
        last_served_s=last, served=served_total, failed=failed, slowed=slowed,
        harmed=served_total if wrong else failed + slowed,
        expected_share=expected / region_total if region_total else None,
        served_share=step_served / region_total if region_total else None,
        steps=tuple(steps))


def _blue_green(scenario: str, switch: Mapping[str, Any], requests: RequestArrays,
                window_end_s: float, latency_slo_s: float) -> ReleaseOutcome:
    version = str(switch["version"])
    switched_s = float(switch["switched_s"])
    # from the release's own start: the same version answering just before it is another
    # scenario's (seen: a promoted canary of that version still answering as its rollback
    # reloaded, which made every stable answer after it a "mix")
    began_s = float(switch.get("began_s", switched_s - SWITCH_MARGIN_S))
    new = _served_by(requests, version, began_s, window_end_s)
    around = (requests.scheduled_s >= switched_s - SWITCH_MARGIN_S) \
        & (requests.scheduled_s <= switched_s + SWITCH_MARGIN_S)
    first_new_end = float(requests.end_s[new & requests.ok].min()) if (new & requests.ok).any() \
        else None
    old = (requests.model_version != version) & (requests.model_version != "")
    mixed = int((old & (requests.start_s > first_new_end)
                 & (requests.start_s <= window_end_s)).sum()) if first_new_end else 0
    failed, slowed = _harm(requests, new, latency_slo_s)
    return ReleaseOutcome(
        scenario=scenario, kind="blue-green", version=version, outcome="switched",
        traffic_s=switched_s, decision_s=float(switch["switch_s"]),
        served=int(new.sum()), failed=failed, slowed=slowed, harmed=failed + slowed,
        switch_failed=int((around & ~requests.ok).sum()), mixed=mixed)


def _rollback(scenario: str, release: Mapping[str, Any], rollback: Mapping[str, Any] | None,
              requests: RequestArrays, window_end_s: float,
              latency_slo_s: float) -> ReleaseOutcome:
    version = str(release["version"])
    traffic_s = float(release["traffic_s"])
    served = _served_by(requests, version, float(release["began_s"]), window_end_s)
    failed, slowed = _harm(requests, served, latency_slo_s)
    decision_s = float(rollback["decision_s"]) if rollback else None
    last = _last_end(requests, served)
    roll_back_s, until_decision = _roll_back_time(last, decision_s)
    return ReleaseOutcome(
        scenario=scenario, kind="rollback", version=version,
        outcome="rolled back" if rollback else "released", traffic_s=traffic_s,
        decision_s=decision_s,
        time_to_roll_back_s=roll_back_s, served_until_decision=until_decision,
        last_served_s=last, served=int(served.sum()), failed=failed, slowed=slowed,
        harmed=failed + slowed)


def release_outcomes(timelines: Mapping[str, Sequence[Mapping[str, Any]]],
                     requests: RequestArrays, window_ends: Mapping[str, float], *,
                     latency_slo_s: float,
                     quality_metrics: Sequence[str] = ("shadow-roc-auc",)
                     ) -> list[ReleaseOutcome]:
    """One outcome per scenario whose actions left a release timeline. ``window_ends``: where
    each scenario's release stops counting (its rollback's start: the rollback's own reloads
    are neither the release's answers nor mixes; the run's end when it has none)."""
    outcomes = []
    for scenario, parts in timelines.items():
        by_kind = {str(part.get("release") or ("rollback" if "rollback" in part else "")): part
                   for part in parts}
        end_s = window_ends.get(scenario, float(requests.end_s.max()) if len(requests) else 0.0)
        if "canary" in by_kind:
            outcomes.append(_canary(scenario, by_kind["canary"], by_kind.get("canary-analysis"),
                                    requests, end_s, latency_slo_s, set(quality_metrics)))
        elif "blue-green" in by_kind:
            outcomes.append(_blue_green(scenario, by_kind["blue-green"], requests, end_s,
                                        latency_slo_s))
        elif "full" in by_kind:
            outcomes.append(_rollback(scenario, by_kind["full"], by_kind.get("rollback"),
                                      requests, end_s, latency_slo_s))
    return outcomes
