"""Per-run SLIs across many run folders (``gameday trend``), in run start order, with the
change points E-divisive finds in each series (``gameday.measure.changepoints``).

Per stack and run, over the samples ``reports.run_samples`` takes (the whole run by
default, warm-up and labelled requests out): p50 and p99 latency of ok requests (nearest
rank), availability (ok / requests), and for the rag stack p99 time to first token. Runs of
another suite than the newest run's are skipped unless asked for; so is a path that is not a
readable run folder, with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gameday.errors import ConfigError
from gameday.measure import Scope
from gameday.measure.arrays import percentile
from gameday.measure.changepoints import ChangePoint, change_points
from reports.run_samples import RunSamples, read_run, run_samples

__all__ = ["TREND_SCHEMA", "ChangeSettings", "Trend", "TrendRun", "TrendSeries", "read_trend",
           "trend_document"]

TREND_SCHEMA = "gameday.trend/1"
_SLIS = (("latency p50", "latency", "s"), ("latency p99", "latency", "s"),
         ("availability", "availability", "ratio"), ("ttft p99", "ttft", "s"))


@dataclass(frozen=True, slots=True)
class ChangeSettings:
    """The E-divisive permutation test: significance level, shuffles, seed."""

    pvalue: float = 0.01
    permutations: int = 999
    seed: int = 0


@dataclass(frozen=True, slots=True)
class TrendRun:
    run_id: str
    path: Path
    suite: str
    started_at_s: float | None


@dataclass(frozen=True, slots=True)
class TrendSeries:
    """One SLI of one stack, a value per run (None: the run had no sample of it); change
    points index ``Trend.runs``."""

    name: str  # e.g. "latency p99:tabular"
    unit: str  # s | ratio
    values: tuple[float | None, ...]
    change_points: tuple[ChangePoint, ...]


@dataclass(frozen=True, slots=True)
class Trend:
    suite: str | None  # the suite kept; None: every suite (--any-suite)
    scope: Scope
    runs: tuple[TrendRun, ...]
    series: tuple[TrendSeries, ...]
    skipped: tuple[tuple[str, str], ...]  # (path, why)


def read_trend(paths: Sequence[Path], *, scope: Scope = "all",
               suite: str | None = None, any_suite: bool = False,
               settings: ChangeSettings | None = None) -> Trend:
    settings = settings or ChangeSettings()
    measured, skipped = _read_all(paths, scope)
    measured.sort(key=lambda m: (m[0].started_at_s is None, m[0].started_at_s or 0.0,
                                 m[0].run_id))
    kept_suite = None if any_suite else suite or (measured[-1][0].suite if measured else None)
    kept = [m for m in measured if kept_suite is None or m[0].suite == kept_suite]
    skipped += [(str(run.path), f"suite {run.suite}, not {kept_suite}") for run, _ in measured
                if kept_suite is not None and run.suite != kept_suite]
    if not kept:
        raise ConfigError("no run folder to show a trend of" + "".join(
            f"; {path}: {why}" for path, why in skipped), source="RUN_DIR")
    return Trend(suite=kept_suite, scope=scope, runs=tuple(run for run, _ in kept),
                 series=_series([values for _, values in kept], settings),
                 skipped=tuple(skipped))


_Values = dict[str, float | None]  # one run's SLI values, by series name


def _read_all(paths: Sequence[Path], scope: Scope
              ) -> tuple[list[tuple[TrendRun, _Values]], list[tuple[str, str]]]:
    """Each readable run's SLI values (its samples dropped at once: runs can be many)."""
    measured, skipped = [], []
    for path in paths:
        try:
            samples = run_samples(read_run(path), scope=scope)
        except ConfigError as exc:
            skipped.append((str(path), str(exc).removeprefix(f"{path}: ")))
            continue
        run = TrendRun(samples.run_id, samples.path, samples.suite, samples.started_at_s)
        measured.append((run, _values(samples)))
    return measured, skipped


def _values(samples: RunSamples) -> _Values:
    values: _Values = {}
    for name, sample in samples.metrics.items():
        for label, family, _ in _SLIS:
            if family != sample.family:
                continue
            if label == "availability":
                value = sample.ok / sample.requests if sample.requests else None
            else:
                value = percentile(sample.values, 50 if label.endswith("p50") else 99)
            values[f"{label}:{name.split(':', 1)[1]}"] = value
    return values


def _series(runs: Sequence[_Values], settings: ChangeSettings) -> tuple[TrendSeries, ...]:
    names = {name for values in runs for name in values}
    order = [label for label, _, _ in _SLIS]
    units = {label: unit for label, _, unit in _SLIS}
    series = []
    for name in sorted(names, key=lambda n: (n.split(":", 1)[1],
                                             order.index(n.split(":", 1)[0]))):
        values = tuple(run.get(name) for run in runs)
        if all(value is None for value in values):
            continue
        series.append(TrendSeries(name, units[name.split(":", 1)[0]], values,
                                  _changes(values, settings)))
    return tuple(series)


def _changes(values: tuple[float | None, ...], settings: ChangeSettings
             ) -> tuple[ChangePoint, ...]:
    """Change points of the runs that have a value, indexed back into every run."""
    present = [index for index, value in enumerate(values) if value is not None]
    found = change_points([v for v in values if v is not None], pvalue=settings.pvalue,
                          permutations=settings.permutations, seed=settings.seed)
    return tuple(replace(point, index=present[point.index]) for point in found)


def trend_document(trend: Trend) -> dict[str, Any]:
    return {
        "schema": TREND_SCHEMA, "suite": trend.suite, "scope": trend.scope,
        "runs": [{"run": run.run_id, "path": str(run.path), "suite": run.suite,
                  "started_at_s": run.started_at_s} for run in trend.runs],
        "series": [{"name": s.name, "unit": s.unit, "values": list(s.values),
                    "change_points": [{"index": p.index, "run": trend.runs[p.index].run_id,
                                       "mean_before": p.mean_before,
                                       "mean_after": p.mean_after} for p in s.change_points]}
                   for s in trend.series],
        "skipped": [{"path": path, "reason": why} for path, why in trend.skipped],
    }
