"""Request records as numpy columns, and the one percentile rule every figure uses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gameday.records import RequestRecord

__all__ = ["RequestArrays", "Requests", "percentile"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class RequestArrays:
    """Column view of request records, sorted by scheduled time (as ``read_requests`` gives)."""

    scheduled_s: FloatArray
    start_s: FloatArray
    end_s: FloatArray
    ok: BoolArray
    region: npt.NDArray[np.str_]

    @classmethod
    def of(cls, records: Sequence[RequestRecord]) -> RequestArrays:
        ordered = sorted(records, key=lambda r: r.scheduled_s)
        return cls(
            scheduled_s=np.array([r.scheduled_s for r in ordered], dtype=np.float64),
            start_s=np.array([r.start_s for r in ordered], dtype=np.float64),
            end_s=np.array([r.end_s for r in ordered], dtype=np.float64),
            ok=np.array([r.ok for r in ordered], dtype=np.bool_),
            region=np.array([r.region for r in ordered], dtype=np.str_),
        )

    @classmethod
    def coerce(cls, requests: Requests) -> RequestArrays:
        return requests if isinstance(requests, RequestArrays) else cls.of(requests)

    def __len__(self) -> int:
        return int(self.scheduled_s.size)

    @property
    def latency_s(self) -> FloatArray:
        """From the *scheduled* send time (no coordinated omission)."""
        return self.end_s - self.scheduled_s

    @property
    def send_lag_s(self) -> FloatArray:
        return self.start_s - self.scheduled_s

    def rows(self, lo: int, hi: int) -> RequestArrays:
        """Rows ``lo`` to ``hi`` (excluded), in scheduled order; views, not copies."""
        return RequestArrays(
            scheduled_s=self.scheduled_s[lo:hi],
            start_s=self.start_s[lo:hi],
            end_s=self.end_s[lo:hi],
            ok=self.ok[lo:hi],
            region=self.region[lo:hi],
        )

    def select(self, mask: BoolArray) -> RequestArrays:
        return RequestArrays(
            scheduled_s=self.scheduled_s[mask],
            start_s=self.start_s[mask],
            end_s=self.end_s[mask],
            ok=self.ok[mask],
            region=self.region[mask],
        )


Requests = Sequence[RequestRecord] | RequestArrays
"""What the measure functions accept: records as read, or their column view."""


def percentile(values: FloatArray, percent: float) -> float | None:
    """Nearest-rank percentile (an observed value, never interpolated); None when empty.

    Nearest rank is what an SLO reader expects: "p99 <= 250 ms" means at least 99 % of the
    requests took 250 ms or less.
    """
    if values.size == 0:
        return None
    return float(np.percentile(values, percent, method="inverted_cdf"))
