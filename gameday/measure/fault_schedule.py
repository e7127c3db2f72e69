"""A fault schedule drawn from failure rates instead of fixed offsets: which failure classes
strike a run, and when, with the month's rates sped up by a stated factor (a game day that
meets incidents in their published proportions).

Class c strikes a run of L seconds as a Poisson process of λ_c × speedup per month, so its
count is Poisson(λ_c × speedup × L / T), T = 30 days; given the count, its offsets are
uniform on [0, L) (the arrival times of a Poisson process), and each incident is one of the
class's experiments, chosen uniformly. Offsets are sorted; incidents may fall close together
(the draw does not space them). Seeded; pure numpy. Not wired into the runner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from gameday.measure.forecast import MONTH_S

__all__ = ["ScheduledFault", "draw_schedule", "expected_faults"]


@dataclass(frozen=True, slots=True)
class ScheduledFault:
    offset_s: float  # from the start of the run's judged span (after warm-up)
    failure_class: str
    experiment: str  # the experiment file's name without its suffix


def expected_faults(rate_per_month: float, *, duration_s: float, speedup: float) -> float:
    """Incidents of a class one run meets on average."""
    return rate_per_month * speedup * duration_s / MONTH_S


def draw_schedule(rates_per_month: Mapping[str, float],
                  experiments: Mapping[str, Sequence[str]], *, duration_s: float,
                  speedup: float, seed: int) -> tuple[ScheduledFault, ...]:
    """``rates_per_month``: each class's incidents per month for the setup;
    ``experiments``: the experiments that inject each class (every class needs one)."""
    if duration_s <= 0 or speedup <= 0:
        raise ValueError(f"duration_s and speedup must be > 0, got {duration_s}, {speedup}")
    rng = np.random.default_rng(seed)
    faults: list[ScheduledFault] = []
    for name, rate in rates_per_month.items():
        if rate < 0:
            raise ValueError(f"{name}: a rate must be >= 0, got {rate}")
        choices = list(experiments.get(name, ()))
        if not choices:
            raise ValueError(f"{name}: no experiment injects this class")
        count = int(rng.poisson(expected_faults(rate, duration_s=duration_s, speedup=speedup)))
        offsets = rng.uniform(0.0, duration_s, size=count)
        picks = rng.integers(0, len(choices), size=count)
        faults.extend(ScheduledFault(float(offset), name, choices[int(pick)])
                      for offset, pick in zip(offsets, picks, strict=True))
    return tuple(sorted(faults, key=lambda fault: fault.offset_s))
