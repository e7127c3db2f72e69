"""Replication lag over time from the primary's ``pg_stat_replication`` (``ReplicationSample``):
bytes the standby has still to replay (primary_lsn − replay_lsn) and PostgreSQL's own
replay_lag, the cross-check of an RPO (a standby that lagged N bytes at the crash can lose
up to that much)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gameday.dbrecords import ReplicationSample

__all__ = ["LagSeries", "ReplicationFigures", "lag_series", "replication_figures"]


@dataclass(frozen=True, slots=True)
class LagSeries:
    """pg_stat_replication of one primary → standby pair over time."""

    primary: str
    standby: str
    t_s: tuple[float, ...]
    lag_bytes: tuple[int | None, ...]  # primary_lsn − replay_lsn
    replay_lag_s: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class ReplicationFigures:
    max_lag_bytes: int | None
    max_replay_lag_s: float | None
    lag_bytes_at_fault: int | None  # the last sample at or before the fault start
    replay_lag_s_at_fault: float | None


def lag_series(rows: Sequence[ReplicationSample]) -> tuple[LagSeries, ...]:
    """One series per primary → standby pair, in time order."""
    pairs: dict[tuple[str, str], list[ReplicationSample]] = {}
    for row in sorted(rows, key=lambda r: r.t_s):
        pairs.setdefault((row.primary, row.standby), []).append(row)
    return tuple(LagSeries(primary, standby, tuple(r.t_s for r in each),
                           tuple(r.replay_lag_bytes for r in each),
                           tuple(r.replay_lag_s for r in each))
                 for (primary, standby), each in pairs.items())


def replication_figures(rows: Sequence[ReplicationSample], span: tuple[float, float],
                        start_s: float | None, primary: str | None) -> ReplicationFigures:
    """The lag within ``span`` (epoch seconds, end excluded), and the lag at the fault start
    of the pair whose primary is ``primary`` (any pair when None)."""
    lo, hi = span
    inside = [r for r in rows if lo <= r.t_s < hi]
    lags = [lag for r in inside if (lag := r.replay_lag_bytes) is not None]
    seconds = [r.replay_lag_s for r in inside if r.replay_lag_s is not None]
    at_fault = None if start_s is None else max(
        (r for r in inside if r.t_s <= start_s and primary in (None, r.primary)),
        key=lambda r: r.t_s, default=None)
    return ReplicationFigures(
        max_lag_bytes=max(lags, default=None), max_replay_lag_s=max(seconds, default=None),
        lag_bytes_at_fault=at_fault.replay_lag_bytes if at_fault else None,
        replay_lag_s_at_fault=at_fault.replay_lag_s if at_fault else None)
