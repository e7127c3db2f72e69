"""The local platform's resource exporter: what each member costs, and where Prometheus scrapes.

``python -m gameday.platforms.local.resources --home H --port P`` serves, on loopback:

- ``/metrics``: per member (labels ``stack``, ``region``, ``component``, ``replica``) its
  CPU seconds, resident memory, GPUs held, liveness and the requests the edge has in flight to
  it, read afresh from ``/proc`` (psutil) and HAProxy's runtime API at every scrape; plus a
  ``pg_stat_*`` collector for every database node;
- ``/targets``: Prometheus HTTP service discovery, every member that declares a metrics
  endpoint, from ``topology.json`` as it is now, so members added at run time are scraped
  within a refresh interval.

A member's processes are its main process (checked by its start time: a recycled pid is not
it), that process's descendants and the processes its pid files name (a daemonized
postmaster). CPU seconds are user + system of each live process plus what its reaped children
used, so the counter only drops when the member restarts, which Prometheus's ``increase``
reads as a reset. Memory is the sum of resident set sizes (shared pages count once per
process, as ``ps`` shows them).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gameday.errors import PlatformError
from gameday.platforms.base import MemberState
from gameday.platforms.local.edge import HaproxyAdmin
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.owner import same_start
from gameday.platforms.local.pgstats import PgStatsCollector
from gameday.platforms.local.state import MemberStatus, State, member_family
from gameday.platforms.local.topology import Topology

__all__ = ["LABELS", "MemberUsage", "ResourceCollector", "main", "member_usage", "sd_targets"]

LABELS = ("stack", "region", "component", "replica")
_GPU_DEVICE = re.compile(r"^/dev/nvidia(\d+)$")
_NOT_RUNNING = {MemberState.WAITING, MemberState.EXITED, MemberState.HELD_DOWN,
                MemberState.STOPPED, MemberState.FROZEN}


@dataclass(frozen=True, slots=True)
class MemberUsage:
    cpu_s: float
    resident_bytes: int
    processes: int
    gpus: int


def _processes(status: MemberStatus) -> list[psutil.Process]:
    found: list[psutil.Process] = []
    if status.pid and same_start(status.pid, status.create_time):
        with contextlib.suppress(psutil.Error):
            found.append(psutil.Process(status.pid))
    pid = found[0].pid if found else None
    seen = {p.pid for p in found}
    for proc in member_family(status.spec, pid):
        if proc.pid not in seen:
            seen.add(proc.pid)
            found.append(proc)
    return found


def _gpus_held(proc: psutil.Process) -> set[int]:
    """The NVIDIA devices the process has open (``/dev/nvidia<N>``), from its fds."""
    held: set[int] = set()
    with contextlib.suppress(OSError):
        for fd in os.scandir(f"/proc/{proc.pid}/fd"):
            with contextlib.suppress(OSError):
                match = _GPU_DEVICE.match(os.readlink(fd.path))
                if match:
                    held.add(int(match.group(1)))
    return held


def member_usage(status: MemberStatus) -> MemberUsage:
    cpu_s, rss, count = 0.0, 0, 0
    gpus: set[int] = set()
    for proc in _processes(status):
        try:
            with proc.oneshot():
                times = proc.cpu_times()
                memory = proc.memory_info()
        except psutil.Error:
            continue  # gone between listing and reading: its time is its parent's now
        cpu_s += times.user + times.system + times.children_user + times.children_system
        rss += memory.rss
        count += 1
        gpus |= _gpus_held(proc)
    return MemberUsage(cpu_s=cpu_s, resident_bytes=rss, processes=count, gpus=len(gpus))


def _labels(status: MemberStatus) -> list[str]:
    spec = status.spec
    return [spec.stack, spec.region, spec.component, spec.name]


class ResourceCollector(Collector):
    """Reads the platform's state at every scrape; a scrape never fails for one member."""

    def __init__(self, home: LocalHome) -> None:
        self.home = home

    def collect(self) -> Iterator[Metric]:
        state = State.load(self.home) or State()
        cpu = CounterMetricFamily("gameday_member_cpu_seconds",
                                  "CPU seconds (user + system, reaped children included) of "
                                  "the member's processes", labels=LABELS)
        rss = GaugeMetricFamily("gameday_member_resident_memory_bytes",
                                "Resident memory of the member's processes", labels=LABELS)
        gpus = GaugeMetricFamily("gameday_member_gpus", "GPUs the member's processes hold open",
                                 labels=LABELS)
        procs = GaugeMetricFamily("gameday_member_processes", "Live processes of the member",
                                  labels=LABELS)
        up = GaugeMetricFamily("gameday_member_up",
                               "1 while the member runs (healthy, starting or unhealthy: not "
                               "exited, killed, frozen or stopped)", labels=LABELS)
        in_flight = GaugeMetricFamily("gameday_member_in_flight",
                                      "Requests the edge has open to the member", labels=LABELS)
        sessions = self._edge_sessions()
        for status in state.members:
            labels = _labels(status)
            usage = member_usage(status)
            cpu.add_metric(labels, usage.cpu_s)
            rss.add_metric(labels, usage.resident_bytes)
            gpus.add_metric(labels, usage.gpus)
            procs.add_metric(labels, usage.processes)
            running = status.state not in _NOT_RUNNING and usage.processes > 0
            up.add_metric(labels, 1.0 if running else 0.0)
            if status.spec.name in sessions:
                in_flight.add_metric(labels, sessions[status.spec.name])
        yield from (cpu, rss, gpus, procs, up, in_flight)

    def _edge_sessions(self) -> dict[str, int]:
        try:
            return HaproxyAdmin(self.home.haproxy_socket, timeout_s=0.5).sessions_by_server()
        except PlatformError:
            return {}  # the edge is down or not up yet: no in-flight series this scrape


def sd_targets(topology: Topology | None) -> list[dict[str, object]]:
    """Prometheus HTTP SD: one target group per member with a metrics endpoint."""
    if topology is None:
        return []
    groups: list[dict[str, object]] = []
    for spec in topology.processes:
        if spec.metrics is None:
            continue
        groups.append({"targets": [f"{spec.address}:{spec.metrics.port}"],
                       "labels": {"stack": spec.stack, "region": spec.region,
                                  "component": spec.component, "replica": spec.name,
                                  "__metrics_path__": spec.metrics.path}})
    return groups


def _handler(home: LocalHome, registry: CollectorRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, generate_latest(registry))
            elif self.path == "/targets":
                try:
                    groups = sd_targets(Topology.load(home))
                except PlatformError as exc:
                    self._send(503, "text/plain", str(exc).encode())
                    return
                self._send(200, "application/json", json.dumps(groups).encode())
            elif self.path == "/health":
                self._send(200, "text/plain", b"ok\n")
            else:
                self._send(404, "text/plain", b"not found\n")

        def _send(self, code: int, content_type: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Handler


def serve(home: LocalHome, host: str, port: int, *, ready: threading.Event | None = None,
          stop: threading.Event | None = None) -> None:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ResourceCollector(home))
    registry.register(PgStatsCollector(home))
    server = ThreadingHTTPServer((host, port), _handler(home, registry))
    server.daemon_threads = True
    if ready is not None:
        ready.set()
    if stop is not None:
        def shut_down_on_stop() -> None:
            stop.wait()
            server.shutdown()

        threading.Thread(target=shut_down_on_stop, daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True, type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", required=True, type=int)
    args = parser.parse_args()
    serve(LocalHome(args.home.resolve()), args.host, args.port)


if __name__ == "__main__":
    main()
