"""Degraded answers of the stacks whose own figures do not count them (the rag stack's do,
``gameday.measure.rag``): good answers a service scored from a fallback and marked in a header
(the tabular service's ``X-Degraded``: ``features-down``, ``features-stale``,
``features-missing`` when its feature store could not give a card's features), carried into
the request record's ``degraded`` (DESIGN.md: counted apart from ok).

Per stack: its good answers, the degraded ones among them by reason, how many of those were
scheduled inside a fault window (requests sent while its action was injecting count, as for the
SLIs) and outside, and per scenario. Warm-up included: a store that was down from the start is
degraded from the start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gameday.measure.arrays import RequestArrays, StrArray
from gameday.measure.series import Series
from gameday.measure.windows import FaultWindow

__all__ = ["DegradedFigures", "StoreLag", "degraded_figures", "store_lags"]

_COUNTED_BY_ITS_OWN = ("rag",)


@dataclass(frozen=True, slots=True)
class DegradedFigures:
    stack: str
    good: int  # good answers of the stack (ok)
    degraded: int  # of those, scored from a fallback
    share: float | None  # degraded / good
    by_reason: dict[str, int]
    during_faults: int
    outside_faults: int
    by_scenario: dict[str, int]  # degraded good answers scheduled in each scenario's window


def degraded_figures(requests: RequestArrays, stacks: StrArray, degraded: StrArray,
                     windows: Sequence[FaultWindow], *, always: Sequence[str] = ()
                     ) -> tuple[DegradedFigures, ...]:
    """One entry per stack with a degraded answer, and per stack in ``always`` (one whose
    fallback the suite turned on: zero is a figure there)."""
    figures = []
    marked = degraded != ""
    names = sorted(set(np.unique(stacks[marked]).tolist()) | set(always))
    for stack in names:
        if stack in _COUNTED_BY_ITS_OWN:
            continue
        good = requests.ok & (stacks == stack)
        hit = good & marked
        inside = np.zeros(len(requests), dtype=np.bool_)
        by_scenario: dict[str, int] = {}
        for window in windows:
            held = window.contains(requests.scheduled_s, requests.end_s)
            inside |= held
            by_scenario[window.scenario] = by_scenario.get(window.scenario, 0) \
                + int(np.count_nonzero(hit & held))
        reasons, counts = np.unique(degraded[hit], return_counts=True)
        total_good, total_hit = int(np.count_nonzero(good)), int(np.count_nonzero(hit))
        figures.append(DegradedFigures(
            stack=stack, good=total_good, degraded=total_hit,
            share=total_hit / total_good if total_good else None,
            by_reason={str(r): int(n) for r, n in zip(reasons, counts, strict=True)},
            during_faults=int(np.count_nonzero(hit & inside)),
            outside_faults=int(np.count_nonzero(hit & ~inside)), by_scenario=by_scenario))
    return tuple(figures)


@dataclass(frozen=True, slots=True)
class StoreLag:
    """How far behind a region's online store was: at each Prometheus sample, the sample's
    time minus the newest event time its materializer had written
    (``feature_materialized_event_timestamp_seconds``, its last value carried through the
    scrapes a frozen materializer misses): what a lookup could at best get."""

    region: str
    t_s: tuple[float, ...]
    lag_s: tuple[float, ...]
    max_by_scenario: dict[str, float | None]  # the largest lag inside each fault window


def store_lags(series: Sequence[Series], windows: Sequence[FaultWindow]) -> tuple[StoreLag, ...]:
    lags = []
    for each in sorted(series, key=lambda s: s.label("region")):
        written = each.values > 0  # 0: nothing materialised yet since the materializer started
        t_s, lag = each.t_s[written], each.t_s[written] - each.values[written]
        by_scenario: dict[str, float | None] = {}
        for window in windows:
            inside = window.contains(t_s)
            by_scenario[window.scenario] = float(lag[inside].max()) if inside.any() else None
        lags.append(StoreLag(region=each.label("region"), t_s=tuple(t_s.tolist()),
                             lag_s=tuple(lag.tolist()), max_by_scenario=by_scenario))
    return tuple(lags)
