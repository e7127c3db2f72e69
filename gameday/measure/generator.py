"""Health of the load generator: did it send on schedule? If not, latency and RTO figures
measure the generator, not the system, and the verdict is inconclusive."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gameday.config import LoadProfile
from gameday.measure.arrays import FloatArray, RequestArrays, Requests, percentile
from gameday.records import Event, EventKind

__all__ = [
    "LATE_FRACTION_LIMIT",
    "RATE_FRACTION_FLOOR",
    "GeneratorHealth",
    "generator_health",
]

LATE_FRACTION_LIMIT = 0.01
RATE_FRACTION_FLOOR = 0.95


@dataclass(frozen=True, slots=True)
class GeneratorHealth:
    """Send lag (actual start - scheduled send time) and rates of the whole load.

    ``scheduled_rate_per_s`` is the rate of the schedule the generator was given; for Poisson
    arrivals it differs from the nominal target by chance, so the rate check compares the
    achieved rate with it rather than with the target. The generator's own live flag (one
    second with over 1 % late sends is enough) is reported as ``flagged_live``; it does not by
    itself make the whole load ``saturated``.
    """

    target_rate_per_s: float
    scheduled_rate_per_s: float | None
    achieved_rate_per_s: float | None
    requests: int
    ok: int
    lag_bound_s: float
    lag_p50_s: float | None
    lag_p99_s: float | None
    lag_max_s: float | None
    late_sends: int  # sends later than lag_bound_s ("dropped iterations" in k6's words)
    late_fraction: float | None
    flagged_live: bool  # the generator logged generator_saturated (a 1 s burst is enough)
    saturated: bool  # over the whole load: late fraction or achieved rate out of bounds
    why: str  # "" unless saturated: what went wrong, in words


def generator_health(requests: Requests, load: LoadProfile,
                     events: Sequence[Event] = ()) -> GeneratorHealth:
    """Saturated = more than 1 % of sends late, or sends slower than 95 % of the schedule."""
    arrays = RequestArrays.coerce(requests)
    lag_s = arrays.send_lag_s
    late = int(np.count_nonzero(lag_s > load.lag_bound_s))
    late_fraction = late / len(arrays) if len(arrays) else None
    scheduled_rate = _rate_per_s(arrays.scheduled_s)
    achieved_rate = _rate_per_s(np.sort(arrays.start_s))
    flagged_live = any(event.kind == EventKind.GENERATOR_SATURATED for event in events)
    why = _why_saturated(late_fraction, achieved_rate, scheduled_rate)
    return GeneratorHealth(
        target_rate_per_s=load.rate_per_s,
        scheduled_rate_per_s=scheduled_rate,
        achieved_rate_per_s=achieved_rate,
        requests=len(arrays),
        ok=int(np.count_nonzero(arrays.ok)),
        lag_bound_s=load.lag_bound_s,
        lag_p50_s=percentile(lag_s, 50),
        lag_p99_s=percentile(lag_s, 99),
        lag_max_s=float(lag_s.max()) if lag_s.size else None,
        late_sends=late,
        late_fraction=late_fraction,
        flagged_live=flagged_live,
        saturated=bool(why),
        why=why,
    )


def _rate_per_s(times_s: FloatArray) -> float | None:
    """Sends per second over their span ((n - 1) gaps over first-to-last)."""
    if times_s.size < 2:
        return None
    span_s = float(times_s[-1] - times_s[0])
    return (times_s.size - 1) / span_s if span_s > 0 else None


def _why_saturated(late_fraction: float | None, achieved_rate: float | None,
                   scheduled_rate: float | None) -> str:
    reasons = []
    if late_fraction is not None and late_fraction > LATE_FRACTION_LIMIT:
        reasons.append(f"{late_fraction:.1%} of sends were late, over the "
                       f"{LATE_FRACTION_LIMIT:.0%} limit")
    if achieved_rate is not None and scheduled_rate is not None \
            and achieved_rate < RATE_FRACTION_FLOOR * scheduled_rate:
        reasons.append(f"it sent {achieved_rate:.1f}/s of the {scheduled_rate:.1f}/s scheduled, "
                       f"under the {RATE_FRACTION_FLOOR:.0%} floor")
    return "; ".join(reasons)
