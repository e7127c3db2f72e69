"""Autoscaling on a platform whose Kubernetes runs the HPA itself (kind): the real controller's
status read every ``sync_period_s`` and written to ``autoscaler.jsonl`` in the local
autoscaler's shape (``gameday.autoscaler``), so the same autoscaling figures
(``gameday.measure.autoscaling``) come from the real HPA.

Each read is a ``decision`` line (current and desired replicas, the cpu metric and target as
fractions, as the local one writes them); a ``scaled`` line is written once the current count
changed and as many pods of the workload are ready (``started_s``: the first read that asked
for the new count). Nothing is scaled here: Kubernetes owns the count. What the suite's entry
says (bounds, cpu target, behaviour) is given to each region's HPA by ``apply`` before the
first read (an ``hpa_setting`` line) and taken back by ``restore_counts``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gameday.autoscale.options import AutoscalingOptions
from gameday.errors import GamedayError
from gameday.jsonl import append_jsonl
from gameday.measure.autoscaler_log import AUTOSCALER_FILE
from gameday.platforms.base import HpaObserver, HpaState
from gameday.poller import Poller

__all__ = ["HpaWatch"]


@dataclass
class _Seen:
    current: int
    asked_s: float | None = None  # when desired first differed from current


class HpaWatch(Poller):
    def __init__(self, options: AutoscalingOptions, platform: HpaObserver,
                 run_dir: Path) -> None:
        super().__init__(interval_s=options.sync_period_s,
                         name=f"hpawatch-{options.stack}-{options.component}")
        self.options = options
        self.platform = platform
        self.path = run_dir / AUTOSCALER_FILE
        self.problems: list[str] = []
        self._seen: dict[str, _Seen] = {}
        self._set: list[str] = []  # the regions whose HPA has the suite's settings

    def apply(self) -> list[str]:
        """Each region's HPA given the suite's settings (before ``start``); what changed.
        If one region's cannot be, those already given are taken back and the error raised."""
        spec = self.options.to_kubernetes()
        changed = []
        for region in self.options.regions:
            try:
                line = self.platform.set_hpa(self.options.stack, self.options.component,
                                             region, spec)
            except GamedayError:
                self.restore_counts()
                raise
            self._set.append(region)
            changed.append(line)
            append_jsonl(self.path, [{
                "kind": "hpa_setting", "t_s": time.time(), "stack": self.options.stack,
                "component": self.options.component, "region": region, "spec": spec,
                "message": line}])
        return changed

    def poll_once(self) -> None:
        for region in self.options.regions:
            try:
                states = [s for s in self.platform.hpa_states(region)
                          if (s.stack, s.component) == (self.options.stack,
                                                        self.options.component)]
            except (GamedayError, OSError) as exc:  # one bad read never stops the run
                self._problem(f"{region}: {type(exc).__name__}: {exc}")
                continue
            if not states:
                self._problem(f"{region}: no HPA scales {self.options.stack}."
                              f"{self.options.component}")
            for state in states:
                self._record(state, time.time())

    def _record(self, state: HpaState, now_s: float) -> None:
        append_jsonl(self.path, [_decision(state, now_s)])
        seen = self._seen.setdefault(state.region, _Seen(state.current_replicas))
        if state.desired_replicas != seen.current and seen.asked_s is None:
            seen.asked_s = now_s
        if state.current_replicas != seen.current \
                and state.ready_replicas >= state.current_replicas:
            append_jsonl(self.path, [{
                "kind": "scaled", "t_s": now_s, "started_s": seen.asked_s or now_s,
                "stack": state.stack, "component": state.component, "region": state.region,
                "from": seen.current, "to": state.current_replicas, "members": []}])
            self._seen[state.region] = _Seen(state.current_replicas)

    def _problem(self, message: str) -> None:
        """Written down once, never raised."""
        if message not in self.problems:
            self.problems.append(message)
            append_jsonl(self.path, [{"kind": "problem", "t_s": time.time(),
                                      "stack": self.options.stack, "message": message}])

    def restore_counts(self) -> list[str]:
        """Each HPA given the suite's settings back as it was (the HPA owns the count)."""
        changed = []
        while self._set:
            line = self.platform.restore_hpa(self.options.stack, self.options.component,
                                             self._set.pop())
            if line is not None:
                changed.append(line)
        return changed


def _decision(state: HpaState, now_s: float) -> dict[str, Any]:
    def fraction(percent: int | None) -> float | None:
        return None if percent is None else percent / 100

    return {"kind": "decision", "t_s": now_s, "stack": state.stack,
            "component": state.component, "region": state.region,
            "metric_name": "cpu_utilization", "current": state.current_replicas,
            "desired": state.desired_replicas, "ready": state.ready_replicas,
            "metric": fraction(state.current_cpu_percent),
            "target": fraction(state.target_cpu_percent), "reason": "the cluster's HPA"}
