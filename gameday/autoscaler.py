"""The local autoscaler: a Kubernetes HPA per region for each of the suite's ``autoscaling``
entries, on the platform's Prometheus, scaling through ``ScaleControl`` while the run goes on.

Every ``sync_period_s`` each region's controller reads its members (ready = healthy), one
sample per member from Prometheus (CPU seconds per second over the last few scrapes divided
by ``cpu_request_cores``, or the requests the edge has in flight to it), asks the algorithm
(``gameday.autoscale.hpa``) and writes the decision to ``autoscaler.jsonl``. A change is
applied in the background, one at a time per region, as Kubernetes records it: the scale
event counts for the rate policies from the decision on, and while it is applied the
controller sees the new count as current (the not-yet-ready members as unready). The
``scaled`` line is written once the change took effect: new members healthy and serving at
the edge, or removed ones drained and gone.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from gameday.autoscale.hpa import Hpa, HpaDecision
from gameday.autoscale.options import AutoscalingOptions
from gameday.errors import GamedayError, PlatformError
from gameday.hpawatch import HpaWatch
from gameday.jsonl import append_jsonl
from gameday.metrics import Prometheus, PrometheusUnavailable
from gameday.platforms.base import (
    EdgeObserver,
    HpaObserver,
    Member,
    MemberState,
    MetricsSource,
    Platform,
    ScaleControl,
)
from gameday.poller import Poller

__all__ = ["AUTOSCALER_FILE", "Autoscaler", "start_autoscalers"]

AUTOSCALER_FILE = "autoscaler.jsonl"
_RATE_WINDOW_S = 4  # CPU rate over this many seconds of 1 s scrapes
_EDGE_READY_TIMEOUT_S = 15.0
_COUNTED = {MemberState.STARTING, MemberState.HEALTHY, MemberState.UNHEALTHY,
            MemberState.WAITING, MemberState.FROZEN, MemberState.HELD_DOWN,
            MemberState.EXITED}  # not draining or stopped: what the Deployment counts


class _RegionScaler:
    """One region's HPA and the change it is applying, if any."""

    def __init__(self, options: AutoscalingOptions, region: str) -> None:
        self.options = options
        self.region = region
        self.hpa = Hpa(options.to_spec())
        self.applying: int | None = None  # the count a change in progress goes to
        self.thread: threading.Thread | None = None
        self.healthy_since: dict[str, float] | None = None  # None: before the first sync
        self.initial: int | None = None  # the member count the run found

    def ready(self, members: list[Member], now_s: float) -> list[str]:
        """Healthy members whose CPU rate window no longer holds their start-up (Kubernetes
        ignores a pod's CPU sample until it has been ready for a while, for the same reason:
        a new replica's imports would read as load and scale out again). The first sync
        cannot tell how long a member has been up (a platform stood up just now): its members
        count from then, so the controller acts one rate window after it started, as an HPA
        waits for its first metrics."""
        healthy = {m.name for m in members if m.state == MemberState.HEALTHY}
        if self.healthy_since is None:
            self.healthy_since = dict.fromkeys(healthy, now_s)
        for name in set(self.healthy_since) - healthy:
            del self.healthy_since[name]  # restarted or gone: its next start counts anew
        for name in healthy - set(self.healthy_since):
            self.healthy_since[name] = now_s
        return [name for name, since_s in self.healthy_since.items()
                if now_s - since_s > _RATE_WINDOW_S + 1]


class Autoscaler(Poller):
    def __init__(self, options: AutoscalingOptions, platform: Platform, run_dir: Path,
                 prometheus: Prometheus) -> None:
        super().__init__(interval_s=options.sync_period_s,
                         name=f"autoscaler-{options.stack}-{options.component}")
        if not isinstance(platform, ScaleControl):
            raise PlatformError(f"the {platform.name} platform cannot scale members")
        self.options = options
        self.platform = platform
        self.prometheus = prometheus
        self.path = run_dir / AUTOSCALER_FILE
        self._lock = threading.Lock()
        self._regions = [_RegionScaler(options, region) for region in options.regions]
        self.problems: list[str] = []

    def poll_once(self) -> None:
        for scaler in self._regions:
            try:
                self._sync(scaler)
            except (GamedayError, OSError) as exc:  # one bad sync never stops the run
                self._problem(f"{scaler.region}: {type(exc).__name__}: {exc}")

    def _members(self, region: str) -> list[Member]:
        return [m for m in self.platform.members(region=region, stack=self.options.stack,
                                                 component=self.options.component)
                if m.state in _COUNTED]

    def _samples(self, region: str, members: list[Member]) -> dict[str, float | None]:
        labels = (f'stack="{self.options.stack}",component="{self.options.component}",'
                  f'region="{region}"')
        if self.options.metric == "cpu_utilization":
            query = (f"rate(gameday_member_cpu_seconds_total{{{labels}}}[{_RATE_WINDOW_S}s])"
                     f" / {self.options.cpu_request_cores:g}")
        else:
            query = f"avg_over_time(gameday_member_in_flight{{{labels}}}[2s])"
        values = {row["metric"].get("replica", ""): float(row["value"][1])
                  for row in self.prometheus.instant(query)}
        return {m.name: values.get(m.name) for m in members}

    def _sync(self, scaler: _RegionScaler) -> None:
        members = self._members(scaler.region)
        try:
            samples = self._samples(scaler.region, members)
        except PrometheusUnavailable as exc:
            self._problem(str(exc))
            samples = {m.name: None for m in members}
        now_s = time.time()
        if scaler.initial is None:
            scaler.initial = len(members)
        ready = scaler.ready(members, now_s)
        with self._lock:
            current = scaler.applying if scaler.applying is not None else len(members)
            for name in range(len(members), current):  # members still to come: unready
                samples[f"pending-{name}"] = None
            decision = scaler.hpa.decide(now_s, current, samples, ready)
            self._write_decision(scaler, decision)
            if decision.desired != current and scaler.applying is None:
                scaler.hpa.record_scale(now_s, current, decision.desired)
                scaler.applying = decision.desired
                scaler.thread = threading.Thread(
                    target=self._apply, args=(scaler, len(members), decision.desired, now_s),
                    name=f"scale-{self.options.stack}-{scaler.region}", daemon=True)
                scaler.thread.start()

    def _apply(self, scaler: _RegionScaler, old: int, new: int, started_s: float) -> None:
        before = {m.name for m in self._members(scaler.region)}
        try:
            after = self.platform.scale(self.options.stack, self.options.component,
                                        scaler.region, new)
            names = sorted({m.name for m in after} ^ before)
            if new > old:
                self._wait_serving(names)
            append_jsonl(self.path, [{
                "kind": "scaled", "t_s": time.time(), "started_s": started_s,
                "stack": self.options.stack, "component": self.options.component,
                "region": scaler.region, "from": old, "to": new, "members": names}])
        except (GamedayError, OSError) as exc:
            self._problem(f"{scaler.region}: scale {old} -> {new}: {exc}")
        finally:
            with self._lock:
                scaler.applying = None

    def _wait_serving(self, names: list[str]) -> None:
        """Until the edge's health checks put every new member in service."""
        if not isinstance(self.platform, EdgeObserver) or not names:
            return
        deadline_s = time.monotonic() + _EDGE_READY_TIMEOUT_S
        while time.monotonic() < deadline_s:
            serving = {s.server for s in self.platform.edge_server_states()
                       if s.up and s.admin == "ready"}
            if set(names) <= serving:
                return
            time.sleep(0.1)
        raise PlatformError(f"{', '.join(names)} not in service at the edge within "
                            f"{_EDGE_READY_TIMEOUT_S:g} s")

    def _write_decision(self, scaler: _RegionScaler, decision: HpaDecision) -> None:
        record: dict[str, Any] = {"kind": "decision", "t_s": decision.at_s,
                                  "stack": self.options.stack,
                                  "component": self.options.component,
                                  "region": scaler.region, "metric_name": self.options.metric}
        record.update({k: v for k, v in asdict(decision).items() if k != "at_s"})
        append_jsonl(self.path, [record])

    def _problem(self, message: str) -> None:
        """Written down once (a failed scale, Prometheus not answering), never raised."""
        if message not in self.problems:
            self.problems.append(message)
            append_jsonl(self.path, [{"kind": "problem", "t_s": time.time(),
                                      "stack": self.options.stack, "message": message}])

    def _closed(self) -> None:
        for scaler in self._regions:
            if scaler.thread is not None:
                scaler.thread.join(timeout=60)

    def restore_counts(self) -> list[str]:
        """After ``stop``: each region back to the member count the run found (a platform
        someone else stood up is left as it was); what was changed, one line each."""
        changed = []
        for scaler in self._regions:
            now = len(self._members(scaler.region))
            if scaler.initial is not None and now != scaler.initial:
                self.platform.scale(self.options.stack, self.options.component, scaler.region,
                                    scaler.initial)
                changed.append(f"{self.options.stack}.{self.options.component} in "
                               f"{scaler.region}: {now} -> {scaler.initial} members")
        return changed


def start_autoscalers(options: list[AutoscalingOptions], platform: Platform,
                      run_dir: Path) -> list[Autoscaler | HpaWatch]:
    """One started Autoscaler per entry; none when the suite has none. Where the platform's
    Kubernetes runs the HPA itself (kind), the entry's settings given to that HPA and a watch
    of its status instead."""
    if not options:
        return []
    scalers: list[Autoscaler | HpaWatch]
    if isinstance(platform, HpaObserver):
        watches = [HpaWatch(entry, platform, run_dir) for entry in options]
        for index, watch in enumerate(watches):
            try:
                watch.apply()
            except GamedayError:
                for earlier in watches[:index]:
                    earlier.restore_counts()
                raise
        for watch in watches:
            watch.start()
        return list(watches)
    url = platform.prometheus_url() if isinstance(platform, MetricsSource) else None
    if url is None:
        raise PlatformError(f"autoscaling needs the platform's Prometheus; the "
                            f"{platform.name} platform runs none")
    prometheus = Prometheus(url)
    scalers = [Autoscaler(entry, platform, run_dir, prometheus) for entry in options]
    for scaler in scalers:
        scaler.start()
    return scalers
