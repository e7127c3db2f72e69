"""When the model servers' own drift monitors (``gameday.driftsamples``) saw an input shift,
and what they called drift when nothing had shifted.

- **Time to detect** (per fault window and member of its target region): from the fault's
  start (its action's return, the harness's event log) to the first sample taken at or after
  it that says the dataset drifts (half of the features or more); apart, to the first sample
  with a feature's PSI at or above 0.25, and to the first with any feature drifted. The
  resolution is the watch's interval (0.5 s). A member whose last judged sample before the
  fault already drifted is marked ``drifted_before``: its time to detect measures nothing.
- **Time to clear**: from the fault's end (its rollback's return) to the member's first judged
  sample with neither dataset drift nor a PSI alert; the window holds shifted inputs until
  newer ones replace them.
- Detection is timed for input-drift faults only (``drift_scenarios``: the fault action's
  output says ``"fault": "input-drift"``): a model release or a region outage is not meant
  to shift the inputs, so a drift monitor's time to detect means nothing there.
- **False alert**: a run of consecutive alerting samples (dataset drift, or a PSI alert) of
  one member that began outside every fault of its region, of any kind (a feature store that
  fails shifts what is scored to its defaults: an alarm then is the fault's doing): before a
  fault's action started, after its window held none of the fault's inputs any more (a
  window's worth of inputs recorded since the fault's end, from the samples'
  ``inputs_total``), or in a region no fault targeted. Samples without an answer neither
  begin nor end a run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from gameday.driftsamples import DriftSample
from gameday.measure.windows import FaultWindow
from gameday.records import Event, EventKind

__all__ = ["INPUT_DRIFT_FAULT", "PSI_ALERT", "PSI_WARN", "DriftFigures", "FalseAlert",
           "MemberDetection", "RegionDetection", "drift_figures", "drift_scenarios"]

INPUT_DRIFT_FAULT = "input-drift"  # what the drift fault's action output names as its fault

PSI_WARN = 0.1  # the service's levels (targets/tabular/drift.py)
PSI_ALERT = 0.25


@dataclass(frozen=True, slots=True)
class MemberDetection:
    """One member of a fault's target region: seconds from the fault's start to each first
    sign (None: never seen before the data ends), and from its end to the all-clear."""

    scenario: str
    member: str
    region: str
    fault_start_s: float
    fault_end_s: float | None
    dataset_drift_s: float | None
    psi_alert_s: float | None
    psi_alert_feature: str | None  # the feature whose PSI crossed first (the highest)
    feature_drift_s: float | None
    first_drifted: tuple[str, ...]  # the features drifted in that first sample
    cleared_s: float | None  # after the fault's end; None: not cleared before the data ends
    drifted_before: bool  # already drifting in its last judged sample before the fault


@dataclass(frozen=True, slots=True)
class RegionDetection:
    """A fault's target region: its first member to see each sign, and its last (None unless
    every member saw it)."""

    scenario: str
    region: str
    members: int
    dataset_drift_s: float | None
    dataset_drift_all_s: float | None
    psi_alert_s: float | None
    psi_alert_all_s: float | None


@dataclass(frozen=True, slots=True)
class FalseAlert:
    member: str
    region: str
    start_s: float  # the first alerting sample
    end_s: float  # the last
    samples: int
    dataset_drift: bool  # the dataset drifted in one of its samples (else PSI alone)


@dataclass(frozen=True, slots=True)
class DriftFigures:
    members: tuple[str, ...]  # every member watched
    samples: int
    unanswered: int  # samples without an answer
    detections: tuple[MemberDetection, ...]
    regions: tuple[RegionDetection, ...]
    false_alerts: tuple[FalseAlert, ...]


def _alerting(sample: DriftSample) -> bool:
    return _dataset_drift(sample) or _psi_alert(sample)


def _judged(sample: DriftSample) -> bool:
    return sample.status == 200 and sample.dataset_drift is not None


def _dataset_drift(sample: DriftSample) -> bool:
    return bool(sample.dataset_drift)


def _psi_alert(sample: DriftSample) -> bool:
    return (sample.max_psi() or 0.0) >= PSI_ALERT


def _feature_drift(sample: DriftSample) -> bool:
    return sample.drifted_features > 0


def _first(samples: Sequence[DriftSample], after_s: float, before_s: float | None,
           shows: Callable[[DriftSample], bool]) -> DriftSample | None:
    """The first judged sample at or after ``after_s`` (and before ``before_s``) that shows
    the sign."""
    for sample in samples:
        if sample.t_s < after_s or not _judged(sample):
            continue
        if before_s is not None and sample.t_s >= before_s:
            return None
        if shows(sample):
            return sample
    return None


def _detection(window: FaultWindow, member: str, samples: Sequence[DriftSample],
               until_s: float | None) -> MemberDetection:
    """``samples``: the member's, by time; ``until_s``: where the next fault of its region
    begins (signs after it are that fault's)."""
    start_s = window.start_s
    began_s = start_s if window.injecting_from_s is None else window.injecting_from_s
    before = [s for s in samples if s.t_s < began_s and _judged(s)]
    dataset = _first(samples, start_s, until_s, _dataset_drift)
    psi = _first(samples, start_s, until_s, _psi_alert)
    feature = _first(samples, start_s, until_s, _feature_drift)
    cleared = None
    if window.end_s is not None:
        cleared = next((s for s in samples if s.t_s >= window.end_s and _judged(s)
                        and not _alerting(s)), None)
    alert_feature = None if psi is None else max(psi.features, key=lambda f: f.psi).name
    return MemberDetection(
        scenario=window.scenario, member=member, region=samples[0].region,
        fault_start_s=start_s, fault_end_s=window.end_s,
        dataset_drift_s=None if dataset is None else dataset.t_s - start_s,
        psi_alert_s=None if psi is None else psi.t_s - start_s, psi_alert_feature=alert_feature,
        feature_drift_s=None if feature is None else feature.t_s - start_s,
        first_drifted=() if feature is None else tuple(f.name for f in feature.features
                                                       if f.drifted),
        cleared_s=None if cleared is None or window.end_s is None
        else cleared.t_s - window.end_s,
        drifted_before=bool(before) and _alerting(before[-1]))


def _region(window: FaultWindow, found: Sequence[MemberDetection]) -> RegionDetection:
    def first(values: list[float | None]) -> float | None:
        seen = [v for v in values if v is not None]
        return min(seen) if seen else None

    def last(values: list[float | None]) -> float | None:
        return None if not values or None in values else max(v for v in values if v is not None)

    dataset = [d.dataset_drift_s for d in found]
    psi = [d.psi_alert_s for d in found]
    return RegionDetection(scenario=window.scenario, region=window.target_region,
                           members=len(found), dataset_drift_s=first(dataset),
                           dataset_drift_all_s=last(dataset), psi_alert_s=first(psi),
                           psi_alert_all_s=last(psi))


def _scopes(samples: Sequence[DriftSample],
            windows: Sequence[FaultWindow]) -> list[tuple[float, float]]:
    """Where the member's alerts are its region's faults' doing: from each fault's action
    start until the member's window holds none of the inputs it took while the fault held
    (it has recorded a window's worth since the end; unbounded while the fault is open)."""
    scopes = []
    for window in windows:
        if window.target_region != samples[0].region:
            continue
        began_s = window.start_s if window.injecting_from_s is None \
            else min(window.start_s, window.injecting_from_s)
        end_s = float("inf") if window.end_s is None else window.end_s
        at_end = [s for s in samples if s.t_s < end_s and s.status == 200]
        if at_end and end_s != float("inf"):
            flushed = at_end[-1].inputs_total + at_end[-1].window_rows
            end_s = next((s.t_s for s in samples if s.t_s >= end_s
                          and s.inputs_total >= flushed), float("inf"))
        scopes.append((began_s, end_s))
    return scopes


def _false_alerts(member: str, samples: Sequence[DriftSample],
                  windows: Sequence[FaultWindow]) -> list[FalseAlert]:
    scopes = _scopes(samples, windows)
    alerts: list[FalseAlert] = []
    run: list[DriftSample] = []
    for sample in [*samples, None]:
        if sample is not None and not _judged(sample):
            continue
        if sample is not None and _alerting(sample):
            run.append(sample)
            continue
        if run and not any(first_s <= run[0].t_s < end_s for first_s, end_s in scopes):
            alerts.append(FalseAlert(member=member, region=run[0].region, start_s=run[0].t_s,
                                     end_s=run[-1].t_s, samples=len(run),
                                     dataset_drift=any(s.dataset_drift for s in run)))
        run = []
    return alerts


def drift_scenarios(events: Sequence[Event]) -> frozenset[str]:
    """The scenarios whose fault shifted the inputs."""
    return frozenset(event.scenario for event in events if event.kind == EventKind.FAULT_START
                     and isinstance(output := event.detail.get("output"), dict)
                     and output.get("fault") == INPUT_DRIFT_FAULT)


def drift_figures(samples: Sequence[DriftSample], windows: Sequence[FaultWindow],
                  timed: Collection[str] | None = None) -> DriftFigures | None:
    """The run's figures; None when nothing was watched (no sample). ``timed``: the scenarios
    whose detection is timed (default: every one)."""
    if not samples:
        return None
    by_member: dict[str, list[DriftSample]] = defaultdict(list)
    for sample in sorted(samples, key=lambda s: s.t_s):
        by_member[sample.member].append(sample)
    detections: list[MemberDetection] = []
    regions: list[RegionDetection] = []
    for window in windows:
        if timed is not None and window.scenario not in timed:
            continue
        later = [w.start_s for w in windows if w.target_region == window.target_region
                 and w.start_s > window.start_s]
        until_s = min(later) if later else None
        found = [_detection(window, member, own, until_s)
                 for member, own in sorted(by_member.items())
                 if own[0].region == window.target_region]
        detections += found
        regions.append(_region(window, found))
    false_alerts = [alert for member, own in sorted(by_member.items())
                    for alert in _false_alerts(member, own, windows)]
    return DriftFigures(members=tuple(sorted(by_member)), samples=len(samples),
                        unanswered=sum(1 for s in samples if s.status != 200),
                        detections=tuple(detections), regions=tuple(regions),
                        false_alerts=tuple(false_alerts))
