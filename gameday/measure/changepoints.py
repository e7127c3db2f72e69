"""Change points in a series of per-run figures (one value a run, in run order): E-divisive
with means (Matteson & James 2014), as MongoDB's ``signal-processing-algorithms`` implements
it for its performance CI.

E-divisive splits the series where the energy statistic ``T = n·m/(n+m) · (2·E|X−Y| −
E|X−X'| − E|Y−Y'|)`` of the two parts is largest, then splits the parts again; each new
split is kept only when a permutation test finds it significant: the values within each part
are shuffled ``permutations`` times, and the split is kept when the share of shuffles that
reach its T, ``better / (permutations + 1)``, is at most ``pvalue``. The shuffles are seeded,
so the same series gives the same change points. A change point is the index of the first run
of the new segment.

The defaults are stricter than the library's (0.05, 100 shuffles): a nightly trend is read
every day, and a false change point costs someone's morning. At 0.01 with 999 shuffles, on 30
runs of noise alone 3 of 200 seeded series showed a change point (1.5 %), and a step of 6
standard deviations at run 17 was found there, and only there, in 49 of 50.

The library's 2.1.6 metadata pins numpy < 2; its code (numpy only, with an optional C
extension for the distance matrix and the T values) gives the same results on numpy 2, which
``tests/measure/test_changepoints.py`` checks for both of its paths. ``make setup`` installs it
without its pins (Makefile).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from signal_processing_algorithms.determinism import deterministic_numpy_random
from signal_processing_algorithms.energy_statistics import energy_statistics

__all__ = ["FEW_VALUES", "MIN_VALUES", "ChangePoint", "change_points"]

MIN_VALUES = 4  # fewer values than this: no split can be tested against shuffles of its parts
# fewer values than this and even a large step seldom reaches p 0.01, since few shuffles exist:
# a 30σ step after the middle run was found in 0 of 10 series of 6 runs, 1 of 8, 4 of 9 and
# 10 of 10 from 10 runs on
FEW_VALUES = 10


@dataclass(frozen=True, slots=True)
class ChangePoint:
    """The series changed at ``index``: the means of the segments either side of it."""

    index: int
    mean_before: float
    mean_after: float


def change_points(values: Sequence[float], *, pvalue: float = 0.01, permutations: int = 999,
                  seed: int = 0) -> tuple[ChangePoint, ...]:
    """The significant change points of ``values`` (finite), in index order."""
    series = np.asarray(values, dtype=np.float64)
    if series.size < MIN_VALUES or np.ptp(series) == 0:
        return ()
    with deterministic_numpy_random(seed):  # the library shuffles with numpy's global state
        found = sorted(int(index) for index in energy_statistics.e_divisive(
            series, pvalue=pvalue, permutations=permutations))
    edges = [0, *found, series.size]
    return tuple(ChangePoint(index=index, mean_before=float(series[edges[n]:index].mean()),
                             mean_after=float(series[index:edges[n + 2]].mean()))
                 for n, index in enumerate(found))
