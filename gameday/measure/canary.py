"""When the serving canary noticed a fault (``gameday.canaries``): the first canary of the
target region that got no good answer, after the fault began."""

from __future__ import annotations

from collections.abc import Sequence

from gameday.canaries import CanarySample

__all__ = ["first_canary_failure_s"]


def first_canary_failure_s(samples: Sequence[CanarySample], region: str, after_s: float,
                           before_s: float | None = None) -> float | None:
    """Seconds after ``after_s`` (a fault start) at which a canary sent to ``region`` at or
    after it, and before ``before_s`` (the fault's end; None: no end), first failed, counted to
    the moment it failed (sent + its latency: a timeout fails when it gives up); None if none
    did."""
    failed = [s.t_s + s.latency_s for s in samples
              if s.region == region and not s.ok and s.t_s >= after_s
              and (before_s is None or s.t_s < before_s)]
    return min(failed) - after_s if failed else None
