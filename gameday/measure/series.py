"""Prometheus range snapshots of a run (``<run_dir>/metrics/``, written by ``gameday.metrics``)
as numpy arrays, and the two integrals the cost and autoscaling figures take of them.

A counter's increase (``counter_increase``) is Prometheus's ``increase`` without its
extrapolation: the sum of the rises between samples, a drop being a reset (the member
restarted) from which the counter counts from 0 again; inside one sampling interval the
counter is taken to grow linearly, so a window edge falls between two samples at the
interpolated value. Nothing is counted before a series' first sample or after its last.

A gauge's integral (``gauge_integral``) is the trapezoid rule between consecutive samples
(the value is taken to move linearly from one sample to the next), interpolated at the window
edges; an interval longer than ``max_gap_s`` is a gap in the series (the member was gone)
and counts nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gameday.measure.arrays import FloatArray

__all__ = ["METRICS_DIR", "Metrics", "MetricsIndex", "Series", "counter_increase",
           "counter_increases", "gauge_integral", "gauge_integrals", "read_metrics"]

METRICS_DIR = "metrics"
_INDEX_FILE = "index.json"


@dataclass(frozen=True, slots=True)
class Series:
    """One labelled series: sample times (epoch s) and values, in time order."""

    labels: Mapping[str, str]
    t_s: FloatArray
    values: FloatArray

    def label(self, name: str) -> str:
        return self.labels.get(name, "")


@dataclass(frozen=True, slots=True)
class MetricsIndex:
    """``metrics/index.json``: what the run saved. ``error``: Prometheus could not be reached
    at all; ``errors``: a series' query failed; ``empty``: a query matched no series."""

    prometheus_url: str
    start_s: float
    end_s: float
    step_s: float
    saved: tuple[str, ...]
    empty: tuple[str, ...] = ()
    errors: Mapping[str, str] = field(default_factory=dict)
    error: str = ""


@dataclass(frozen=True, slots=True)
class Metrics:
    """The snapshots of a run; ``index`` is None when the run folder has no ``metrics/``."""

    index: MetricsIndex | None
    series: Mapping[str, tuple[Series, ...]]  # by saved name
    unreadable: Mapping[str, str] = field(default_factory=dict)  # name -> why

    @classmethod
    def none(cls) -> Metrics:
        return cls(None, {})

    def why_missing(self, name: str) -> str:
        """Why the named series cannot be used ("" when it can: saved, or matched nothing)."""
        if name in self.series or (self.index is not None and name in self.index.empty):
            return ""
        if name in self.unreadable:
            return self.unreadable[name]
        if self.index is None:
            return f"no {METRICS_DIR}/ folder in the run folder"
        if self.index.error:
            return f"Prometheus unavailable: {self.index.error}"
        if name in self.index.errors:
            return self.index.errors[name]
        return f"{METRICS_DIR}/{name}.json was not saved"

    def missing(self, names: Sequence[str]) -> tuple[str, ...]:
        """The names of ``names`` that cannot be used, in order."""
        return tuple(name for name in names if self.why_missing(name))

    def of(self, name: str) -> tuple[Series, ...]:
        return self.series.get(name, ())


def read_metrics(run_dir: Path, names: Sequence[str]) -> Metrics:
    """The named snapshots of ``run_dir/metrics/``; a file that is absent or damaged is noted
    (``why_missing``), never raised: the run's other figures stand without it."""
    folder = run_dir / METRICS_DIR
    if not folder.is_dir():
        return Metrics.none()
    index, why = _read_index(folder / _INDEX_FILE)
    series: dict[str, tuple[Series, ...]] = {}
    unreadable: dict[str, str] = {}
    for name in names:
        path = folder / f"{name}.json"
        if not path.is_file():
            if why:
                unreadable[name] = why
            continue
        try:
            series[name] = _parse_matrix(json.loads(path.read_text()))
        except (ValueError, TypeError, KeyError, IndexError, OSError) as exc:
            unreadable[name] = f"{path}: not a Prometheus range snapshot: {exc}"
    return Metrics(index, series, unreadable)


def _read_index(path: Path) -> tuple[MetricsIndex, str]:
    """The index, and why it could not be read ("" when it could)."""
    try:
        raw = json.loads(path.read_text())
        return MetricsIndex(
            prometheus_url=str(raw.get("prometheus_url", "")),
            start_s=float(raw["start_s"]), end_s=float(raw["end_s"]),
            step_s=float(raw["step_s"]), saved=tuple(str(n) for n in raw.get("saved", ())),
            empty=tuple(str(n) for n in raw.get("empty", ())),
            errors={str(k): str(v) for k, v in (raw.get("errors") or {}).items()},
            error=str(raw.get("error", ""))), ""
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        why = f"{path}: unreadable: {exc}"
        return MetricsIndex("", 0.0, 0.0, 0.0, (), error=why), why


def _parse_matrix(document: Any) -> tuple[Series, ...]:
    parsed = []
    for row in document["result"]:
        points = np.array([(float(t), float(v)) for t, v in row["values"]],
                          dtype=np.float64).reshape(-1, 2)
        points = points[np.isfinite(points).all(axis=1)]  # a NaN sample says nothing
        order = np.argsort(points[:, 0], kind="stable")
        parsed.append(Series({str(k): str(v) for k, v in row["metric"].items()},
                             points[order, 0], points[order, 1]))
    return tuple(parsed)


def counter_increases(t_s: FloatArray, values: FloatArray, edges_s: FloatArray) -> FloatArray:
    """The counter's increase over each interval between consecutive ``edges_s``."""
    return np.diff(_counter_cumulative(t_s, values, np.asarray(edges_s, dtype=np.float64)))


def counter_increase(t_s: FloatArray, values: FloatArray, start_s: float,
                     end_s: float) -> float:
    """The counter's increase over ``[start_s, end_s]`` (module docstring: resets, edges)."""
    if end_s <= start_s:
        return 0.0
    return float(counter_increases(t_s, values, np.array([start_s, end_s]))[0])


def gauge_integrals(t_s: FloatArray, values: FloatArray, edges_s: FloatArray, *,
                    max_gap_s: float | None = None) -> FloatArray:
    """The gauge's integral (value x seconds) over each interval between consecutive edges."""
    return np.diff(_gauge_cumulative(t_s, values, np.asarray(edges_s, dtype=np.float64),
                                     max_gap_s))


def gauge_integral(t_s: FloatArray, values: FloatArray, start_s: float, end_s: float, *,
                   max_gap_s: float | None = None) -> float:
    """The gauge's integral over ``[start_s, end_s]`` by the trapezoid rule (module
    docstring)."""
    if end_s <= start_s:
        return 0.0
    return float(gauge_integrals(t_s, values, np.array([start_s, end_s]),
                                 max_gap_s=max_gap_s)[0])


def _interval(t_s: FloatArray, at_s: FloatArray) -> tuple[Any, FloatArray, FloatArray]:
    """For each time (clipped to the samples' span): the interval it falls in, the seconds
    since that interval's start, and the interval's length (0 where two samples share a
    time)."""
    clipped = np.clip(at_s, t_s[0], t_s[-1])
    index = np.clip(np.searchsorted(t_s, clipped, side="right") - 1, 0, t_s.size - 2)
    return index, clipped - t_s[index], np.diff(t_s)[index]


def _counter_cumulative(t_s: FloatArray, values: FloatArray, at_s: FloatArray) -> FloatArray:
    if t_s.size < 2:
        return np.zeros(at_s.shape)
    rises = np.diff(values)
    rises = np.where(rises >= 0, rises, values[1:])  # a reset: counting from 0 again
    cumulative = np.concatenate(([0.0], np.cumsum(rises)))
    index, since_s, length_s = _interval(t_s, at_s)
    share = np.divide(since_s, length_s, out=np.zeros_like(since_s), where=length_s > 0)
    result: FloatArray = cumulative[index] + rises[index] * share
    return result


def _gauge_cumulative(t_s: FloatArray, values: FloatArray, at_s: FloatArray,
                      max_gap_s: float | None) -> FloatArray:
    if t_s.size < 2:
        return np.zeros(at_s.shape)
    length_s = np.diff(t_s)
    bridged = length_s <= max_gap_s if max_gap_s is not None else np.ones(length_s.shape, bool)
    areas = np.where(bridged, (values[:-1] + values[1:]) / 2 * length_s, 0.0)
    cumulative = np.concatenate(([0.0], np.cumsum(areas)))
    index, since_s, interval_s = _interval(t_s, at_s)
    slope = np.divide(values[index + 1] - values[index], interval_s,
                      out=np.zeros_like(since_s), where=interval_s > 0)
    partial = values[index] * since_s + slope * since_s * since_s / 2
    result: FloatArray = cumulative[index] + np.where(bridged[index], partial, 0.0)
    return result
