"""The generator watching itself: send lag per request and a sliding-window saturation alarm.

A send is *late* ("dropped iteration" in k6's words) when it starts more than ``lag_bound_s``
after its scheduled time. A generator that is late for more than 1 % of its sends over a
window measures itself, not the system under test, and must say so.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

__all__ = ["SelfWatch"]


class SelfWatch:
    """Send lags of one run and the one-shot "generator saturated" alarm."""

    def __init__(self, capacity: int, lag_bound_s: float, *, window_s: float = 1.0,
                 max_late_fraction: float = 0.01, min_late: int = 3) -> None:
        self.lag_bound_s = lag_bound_s
        self.window_s = window_s
        self.max_late_fraction = max_late_fraction
        self.min_late = min_late  # so one hiccup at a low rate is not "saturated"
        self._lags_s = np.full(capacity, np.nan)
        self._window: deque[tuple[float, float]] = deque()  # (start time, lag) per send
        self._window_late = 0
        self.sent = 0
        self.late = 0
        self.saturated_at_s: float | None = None
        self._first_s: float | None = None

    def observe(self, index: int, lag_s: float, now_s: float) -> dict[str, Any] | None:
        """Note one send's lag; the first time the window trips, return its figures."""
        is_late = lag_s > self.lag_bound_s
        if self._first_s is None:
            self._first_s = now_s
        self._lags_s[index] = lag_s
        self.sent += 1
        self.late += is_late
        self._window.append((now_s, lag_s))
        self._window_late += is_late
        horizon_s = now_s - self.window_s
        while self._window and self._window[0][0] < horizon_s:
            _, old_lag_s = self._window.popleft()
            self._window_late -= old_lag_s > self.lag_bound_s
        if self.saturated_at_s is None and self._window_late and self._tripped():
            self.saturated_at_s = now_s
            return self._window_figures()
        return None

    def _tripped(self) -> bool:
        # Judge full windows only: 3 late of the first 200 sends is not 1 % of a second.
        full = self._first_s is not None and self._window[-1][0] - self._first_s >= self.window_s
        return (full and self._window_late >= self.min_late
                and self._window_late > self.max_late_fraction * len(self._window))

    def _window_figures(self) -> dict[str, Any]:
        sends = len(self._window)
        return {
            "window_s": self.window_s,
            "sends_in_window": sends,
            "late_in_window": self._window_late,
            "late_fraction": self._window_late / sends,
            "lag_bound_s": self.lag_bound_s,
            "max_lag_in_window_s": max(lag for _, lag in self._window),
            "send_rate_per_s": sends / self.window_s,
        }

    def lags_s(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Lags of the sends observed so far, in schedule order."""
        observed: np.ndarray[Any, np.dtype[np.float64]] = self._lags_s[~np.isnan(self._lags_s)]
        return observed

    def summary(self) -> dict[str, Any]:
        lags_s = self.lags_s()
        p50, p99, worst = (np.percentile(lags_s, [50, 99, 100]).tolist() if lags_s.size
                           else (None, None, None))
        return {"sent": self.sent, "late": self.late, "lag_p50_s": p50, "lag_p99_s": p99,
                "lag_max_s": worst, "saturated": self.saturated_at_s is not None,
                "saturated_at_s": self.saturated_at_s}
