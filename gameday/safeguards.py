"""Stop conditions as a Chaos Toolkit control: while an experiment's method runs, watch the
run's request records (burn rate over two windows) and guard probes, and abort the experiment
when one fires, so that its rollbacks put the fault back (``gameday.stop_options`` says what
a suite may ask; in the style of AWS FIS stop conditions and chaosaddons safeguards).

Declared in an experiment (or added by the harness, which resolves the suite's conditions)::

    "controls": [{"name": "gameday-stop-conditions",
                  "provider": {"type": "python", "module": "gameday.safeguards",
                               "arguments": {"run_dir": "runs/<id>", "conditions": [...]}}}]

Each resolved condition is a mapping: ``{"kind": "burn", "name", "target", "threshold",
"long_window_s", "short_window_s", "max_latency_s"}`` or ``{"kind": "probe", "name",
"probe", "every_s"}``. The burn rate over a window ending at instant t = the share of bad
requests among those scheduled in (t − window, t] and recorded so far (records are flushed
every 0.5 s; a request is recorded when it ends), divided by (1 − target); a bad request
failed, or was slower than ``max_latency_s`` from its scheduled send. Labelled requests (the
edge's attack set) never count. It fires when both windows are at least the threshold, each
holding at least ``min_requests`` requests. Evaluated every ``interval_s`` (0.25 s).

When one fires, ``abort`` is called with the reason: under the harness the run's
``StopSignals.abort`` (raised only inside an activity, so chaoslib ends the method as
interrupted and plays every rollback; the run goes on with its next scenario); under the plain
``chaos`` CLI chaoslib's own ``exit_gracefully`` (SIGUSR1: the same, rollbacks played when
the experiment says ``"runtime": {"rollbacks": {"strategy": "always"}}``, as every gameday
experiment does: chaoslib's default plays none after an interruption). The
watch stops when the rollbacks begin, so it can never cut them short, and the journal gets
``gameday_stop`` (condition, reason, at_s).
"""

from __future__ import annotations

import csv
import io
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from chaoslib.activity import run_activity
from chaoslib.exit import exit_gracefully
from chaoslib.hypothesis import within_tolerance

from gameday.config import Scenario, Suite
from gameday.measure.budget import SHORT_WINDOW_FRACTION, objectives_of
from gameday.openslo import OpenSlo
from gameday.records import REQUESTS_GLOB

__all__ = ["CONTROL_NAME", "MIN_SHORT_WINDOW_S", "Watch", "abort_with", "after_experiment_control",
           "before_method_control", "before_rollback_control", "cleanup_control",
           "configure_control", "control", "resolve"]

CONTROL_NAME = "gameday-stop-conditions"
_INTERVAL_S = 0.25
_MIN_REQUESTS = 5
MIN_SHORT_WINDOW_S = 0.5
logger = logging.getLogger("chaostoolkit")
_abort: Callable[[str], object] | None = None
_watch: Watch | None = None


@contextmanager
def abort_with(callback: Callable[[str], object]) -> Iterator[None]:
    """Within the block a firing condition calls ``callback(reason)`` (the harness's)."""
    global _abort
    previous, _abort = _abort, callback
    try:
        yield
    finally:
        _abort = previous


def control(run_dir: Path, conditions: list[dict[str, Any]]) -> dict[str, Any]:
    """The control entry to add to an experiment's ``controls``."""
    return {"name": CONTROL_NAME, "provider": {
        "type": "python", "module": __name__,
        "arguments": {"run_dir": str(run_dir), "conditions": conditions}}}


def resolve(suite: Suite, scenario: Scenario) -> list[dict[str, Any]]:
    """The scenario's stop conditions as the control takes them: an OpenSLO alert's windows
    scaled onto the run as the report scales them (period → the primary load's duration,
    at least ``measurement.bucket_s``), its target and latency bound from the objective."""
    resolved: list[dict[str, Any]] = []
    for condition in suite.stop_conditions_of(scenario):
        if condition.probe is not None:
            resolved.append({"kind": "probe", "name": condition.label, "probe": condition.probe,
                             "every_s": condition.every_s})
            continue
        burn = condition.burn_rate
        assert burn is not None
        if burn.slo:
            resolved.append(_alert_condition(suite, condition.label, burn.slo, burn.alert))
            continue
        assert burn.long_window_s is not None
        short_s = burn.short_window_s or max(MIN_SHORT_WINDOW_S,
                                             burn.long_window_s * SHORT_WINDOW_FRACTION)
        resolved.append({"kind": "burn", "name": condition.label, "target": burn.target,
                         "threshold": burn.threshold, "long_window_s": burn.long_window_s,
                         "short_window_s": short_s, "max_latency_s": burn.latency_le_s})
    return resolved


def _alert_condition(suite: Suite, label: str, slo_name: str, alert_name: str
                     ) -> dict[str, Any]:
    slo = next(s for s in suite.slos if isinstance(s, OpenSlo) and s.metadata.name == slo_name)
    objective = objectives_of(slo)[0]
    alert = next(a for a in objective.alerts if a.name == alert_name)
    scale = suite.primary_load.duration_s / objective.period_s
    bucket_s = suite.measurement.bucket_s
    return {"kind": "burn", "name": label, "target": objective.target,
            "threshold": alert.threshold,
            "long_window_s": max(alert.lookback_s * scale, bucket_s),
            "short_window_s": max(alert.lookback_s * SHORT_WINDOW_FRACTION * scale, bucket_s),
            "max_latency_s": objective.max_latency_s}


# -- records, read as they are written --------------------------------------------------------
@dataclass
class _Tail:
    """New complete rows of one request file since the last read."""

    path: Path
    offset: int = 0
    header: list[str] | None = None

    def rows(self) -> list[list[str]]:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except OSError:
            return []
        end = chunk.rfind(b"\n")
        if end < 0:
            return []
        self.offset += end + 1
        rows = list(csv.reader(io.StringIO(chunk[:end + 1].decode())))
        if self.header is None and rows:
            self.header, rows = rows[0], rows[1:]
        return rows


@dataclass
class _Records:
    run_dir: Path
    tails: dict[Path, _Tail] = field(default_factory=dict)
    scheduled: list[float] = field(default_factory=list)
    latency: list[float] = field(default_factory=list)
    ok: list[bool] = field(default_factory=list)

    def update(self) -> None:
        for path in sorted(self.run_dir.glob(REQUESTS_GLOB)):
            tail = self.tails.setdefault(path, _Tail(path))
            for row in tail.rows():
                self._add(tail.header or [], row)

    def _add(self, header: list[str], row: list[str]) -> None:
        values = dict(zip(header, row, strict=False))
        if values.get("label"):
            return
        try:
            scheduled = float(values["scheduled_s"])
            end = float(values["end_s"])
        except (KeyError, ValueError):
            return
        self.scheduled.append(scheduled)
        self.latency.append(end - scheduled)
        self.ok.append(values.get("ok") in ("1", "True", "true"))

    def burn(self, now_s: float, window_s: float, target: float,
             max_latency_s: float | None) -> tuple[float | None, int]:
        scheduled = np.asarray(self.scheduled)
        chosen = (scheduled > now_s - window_s) & (scheduled <= now_s)
        count = int(np.count_nonzero(chosen))
        if not count:
            return None, 0
        good = np.asarray(self.ok)[chosen]
        if max_latency_s is not None:
            good &= np.asarray(self.latency)[chosen] <= max_latency_s
        return (1 - float(np.count_nonzero(good)) / count) / (1 - target), count


# -- the watch ------------------------------------------------------------------------------
@dataclass
class Watch:
    """Checks every condition each ``interval_s`` until stopped; fires at most once."""

    run_dir: Path | None
    conditions: list[dict[str, Any]]
    configuration: dict[str, Any] | None = None
    secrets: dict[str, Any] | None = None
    interval_s: float = _INTERVAL_S
    min_requests: int = _MIN_REQUESTS
    fired: dict[str, Any] | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None
    _probed_at: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        self._records = _Records(self.run_dir) if self.run_dir is not None else None
        self._thread = threading.Thread(target=self._loop, name="stop-conditions", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def check(self, now_s: float) -> tuple[str, str] | None:
        """(condition name, reason) of the first condition that fires at ``now_s``."""
        if self._records is not None:
            self._records.update()
        for condition in self.conditions:
            found = self._burn(condition, now_s) if condition["kind"] == "burn" \
                else self._probe(condition, now_s)
            if found is not None:
                return condition["name"], found
        return None

    def _burn(self, condition: dict[str, Any], now_s: float) -> str | None:
        if self._records is None:
            return None
        figures = []
        for key in ("long_window_s", "short_window_s"):
            burn, count = self._records.burn(now_s, condition[key], condition["target"],
                                             condition.get("max_latency_s"))
            if burn is None or count < self.min_requests or burn < condition["threshold"]:
                return None
            figures.append(f"{burn:.1f}x over {condition[key]:g} s ({count} requests)")
        return (f"burn rate {' and '.join(figures)} >= {condition['threshold']:g}x "
                f"(target {condition['target']:g})")

    def _probe(self, condition: dict[str, Any], now_s: float) -> str | None:
        name = condition["name"]
        if now_s - self._probed_at.get(name, 0.0) < condition.get("every_s", 1.0):
            return None
        self._probed_at[name] = now_s
        probe = condition["probe"]
        try:
            output = run_activity(probe, self.configuration or {}, self.secrets or {})
        except Exception as exc:  # a probe that raises is a failed guard
            return f"guard probe {probe.get('name', name)!r} failed: {exc}"
        tolerance = probe.get("tolerance")
        if tolerance is not None and not within_tolerance(
                tolerance, output, configuration=self.configuration, secrets=self.secrets):
            return (f"guard probe {probe.get('name', name)!r} missed its tolerance "
                    f"{tolerance!r} (got {str(output)[:200]!r})")
        return None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                found = self.check(time.time())
            except Exception:  # a broken watch must not take the run with it
                logger.exception("stop conditions: the watch failed; it stops watching")
                return
            if found is None:
                continue
            with self._lock:
                if self._stop.is_set():
                    return  # the rollbacks have begun: too late to abort
                name, reason = found
                self.fired = {"condition": name, "reason": reason, "at_s": time.time()}
                self._stop.set()
            logger.warning(f"stop condition {name} fired: {reason}; aborting the experiment")
            (_abort or _exit_gracefully)(f"stop condition {name}: {reason}")
            return


def _exit_gracefully(reason: str) -> None:
    exit_gracefully()


# -- the Chaos Toolkit control interface --------------------------------------------------------
def configure_control(run_dir: str | None = None, conditions: list[dict[str, Any]] | None = None,
                      interval_s: float = _INTERVAL_S, min_requests: int = _MIN_REQUESTS,
                      configuration: dict[str, Any] | None = None,
                      secrets: dict[str, Any] | None = None, **_: Any) -> None:
    global _watch
    _watch = Watch(run_dir=Path(run_dir) if run_dir else None, conditions=list(conditions or []),
                   configuration=configuration, secrets=secrets, interval_s=float(interval_s),
                   min_requests=int(min_requests))


def before_method_control(context: Any, **_: Any) -> None:
    if _watch is not None and _watch.conditions:
        _watch.start()


def before_rollback_control(context: Any, **_: Any) -> None:
    if _watch is not None:
        _watch.stop()


def after_experiment_control(context: Any, state: dict[str, Any] | None = None,
                             **_: Any) -> None:
    if _watch is None:
        return
    _watch.stop()
    if state is not None and _watch.fired is not None:
        state["gameday_stop"] = dict(_watch.fired)


def cleanup_control() -> None:
    global _watch
    if _watch is not None:
        _watch.stop()
    _watch = None
