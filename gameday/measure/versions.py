"""Which model version answered, around each fault: what a hot-swap or a broken release did to
the users (DESIGN.md: a release is judged by failed, slowed and mixed-version answers).

Per fault window (``FaultWindow``: from the fault action's return to its rollback's return),
over the requests scheduled in it (or in flight when it began), for the target region and for
the others apart:

- answers by model version (good answers that named one: Triton's ``model_version``);
- failed: requests that got no good answer; slowed: good answers slower than the latency SLO
  (from the scheduled send);
- mixed: the target region's good answers, after the version the fault ended on first
  answered, that came from another version: a swap done right switches at once and counts
  none; one that flaps between versions counts each answer from the old one. "Ended on" is
  the last version the region answered with before the rollback started (the rollback's own
  switch back is not a mix); the windows of older logs, without the rollback's start, end at
  the rollback's return.

Before and after the window the same counts are taken over the ``margin_s`` on each side, so
"the goal is none" can be checked against what normal looks like.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gameday.measure.windows import FaultWindow

__all__ = ["MARGIN_S", "VersionCounts", "VersionWindow", "version_windows"]

MARGIN_S = 5.0  # before and after a window: what normal looks like

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
StrArray = npt.NDArray[np.str_]


@dataclass(frozen=True, slots=True)
class VersionCounts:
    requests: int
    by_version: dict[str, int]  # good answers by the version they named
    failed: int
    slowed: int


@dataclass(frozen=True, slots=True)
class VersionWindow:
    scenario: str
    target_region: str
    target: VersionCounts  # the target region, during the window
    others: VersionCounts  # every other region, during the window
    before: VersionCounts  # every region, the margin before the window
    after: VersionCounts  # every region, the margin after the window
    final_version: str  # the target region's last answering version before the rollback
    mixed: int
    # window start -> first answer from final_version; None: it served that version before
    switched_after_s: float | None


def version_windows(scheduled_s: FloatArray, end_s: FloatArray, ok: BoolArray,
                    region: StrArray, model_version: StrArray,
                    windows: Sequence[FaultWindow], *, latency_slo_s: float,
                    margin_s: float = MARGIN_S) -> tuple[VersionWindow, ...]:
    """One ``VersionWindow`` per fault window, in order (arrays in scheduled order)."""
    latency_s = end_s - scheduled_s
    result = []
    for window in windows:
        inside = window.contains(scheduled_s, end_s)
        first_s = window.start_s if window.injecting_from_s is None \
            else min(window.start_s, window.injecting_from_s)
        last_s = float(scheduled_s[-1]) if window.end_s is None or not len(scheduled_s) \
            else window.end_s
        before = (scheduled_s >= first_s - margin_s) & (scheduled_s < first_s) & ~inside
        after = (scheduled_s >= last_s) & (scheduled_s < last_s + margin_s)
        target = inside & (region == window.target_region)

        def counts(mask: BoolArray) -> VersionCounts:
            return _counts(mask, ok, model_version, latency_s > latency_slo_s)

        until_s = window.rollback_from_s if window.rollback_from_s is not None else last_s
        named = target & ok & (model_version != "")
        swapping = named & (scheduled_s < until_s)
        final, mixed, switched_s = _mix(model_version[swapping], end_s[swapping])
        prior = model_version[(region == window.target_region) & ok & (model_version != "")
                              & (scheduled_s < first_s) & ~inside]
        if prior.size and str(prior[-1]) == final:
            switched_s = None  # it ended on the version it served before: no switch
        result.append(VersionWindow(
            scenario=window.scenario, target_region=window.target_region,
            target=counts(target), others=counts(inside & ~target),
            before=counts(before), after=counts(after), final_version=final, mixed=mixed,
            switched_after_s=None if switched_s is None else max(0.0,
                                                                 switched_s - window.start_s)))
    return tuple(result)


def _mix(versions: StrArray, ends_s: FloatArray) -> tuple[str, int, float | None]:
    """The version answered last, the answers from others after it first answered, and when
    it first answered (answers in scheduled order)."""
    if not versions.size:
        return "", 0, None
    final = str(versions[-1])
    first = int(np.argmax(versions == final))
    return final, int(np.count_nonzero(versions[first:] != final)), float(ends_s[first])


def _counts(mask: BoolArray, ok: BoolArray, model_version: StrArray,
            slow: BoolArray) -> VersionCounts:
    good = mask & ok
    named = Counter(str(v) for v in model_version[good] if v)
    return VersionCounts(requests=int(np.count_nonzero(mask)),
                         by_version=dict(sorted(named.items())),
                         failed=int(np.count_nonzero(mask & ~ok)),
                         slowed=int(np.count_nonzero(good & slow)))
