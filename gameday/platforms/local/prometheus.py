"""The local platform's metrics: a real Prometheus server (Debian's package) and the resource
exporter beside it, both platform members at the edge, started before any stack.

Prometheus scrapes every second: the exporter (per-member CPU, memory, GPUs, liveness, edge
sessions and the ``pg_stat_*`` collector) and, found through the exporter's HTTP service
discovery, every member whose stack declares a metrics endpoint (the stacks' ``/metrics``,
Triton's metrics port, etcd) and the edge's HAProxy exporter. Its data lives in the home and
goes with ``down``; a run saves the series its report uses into the run folder first.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import yaml

from gameday.platforms.base import EDGE
from gameday.platforms.local.specs import HealthCheck, MetricsEndpoint, ProcessSpec

__all__ = ["METRICS_STACK", "SCRAPE_INTERVAL_S", "metrics_specs", "prometheus_binary",
           "prometheus_config", "prometheus_data_dir"]

METRICS_STACK = "metrics"  # the platform's own part: never charged to a stack
SCRAPE_INTERVAL_S = 1.0
_PROMETHEUS = "/usr/bin/prometheus"


def prometheus_binary() -> str | None:
    return shutil.which("prometheus") or (_PROMETHEUS if Path(_PROMETHEUS).exists() else None)


def prometheus_data_dir(home: Path) -> Path:
    return home / "data" / "prometheus"


def prometheus_config(exporter_port: int) -> str:
    exporter = f"127.0.0.1:{exporter_port}"
    interval = f"{SCRAPE_INTERVAL_S:g}s"
    config = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval,
                   "scrape_timeout": "900ms"},
        "scrape_configs": [
            {"job_name": "resources", "honor_labels": True,
             "static_configs": [{"targets": [exporter],
                                 "labels": {"stack": METRICS_STACK, "region": EDGE,
                                            "component": "resources",
                                            "replica": "metrics-resources"}}]},
            {"job_name": "members", "honor_labels": False,
             "http_sd_configs": [{"url": f"http://{exporter}/targets",
                                  "refresh_interval": interval}]},
        ],
    }
    header = "# written by gameday at stand-up: do not edit (it is rewritten)\n"
    return header + yaml.safe_dump(config, sort_keys=False)


def metrics_specs(home: Path, repo: Path, *, prometheus: str, prometheus_port: int,
                  exporter_port: int) -> tuple[ProcessSpec, ProcessSpec]:
    """The exporter and Prometheus, order 0: they watch the stacks come up."""
    exporter = ProcessSpec(
        name="metrics-resources", region=EDGE, stack=METRICS_STACK, component="resources",
        argv=(sys.executable, "-m", "gameday.platforms.local.resources", "--home", str(home),
              "--port", str(exporter_port)),
        address="127.0.0.1", ports={"http": exporter_port}, cwd=str(repo), order=0)
    server = ProcessSpec(
        name="metrics-prometheus", region=EDGE, stack=METRICS_STACK, component="prometheus",
        argv=(prometheus, f"--config.file={home / 'prometheus.yml'}",
              f"--storage.tsdb.path={prometheus_data_dir(home)}",
              f"--web.listen-address=127.0.0.1:{prometheus_port}",
              "--storage.tsdb.retention.time=1d", "--log.level=warn"),
        address="127.0.0.1", ports={"http": prometheus_port}, cwd=str(home),
        health=HealthCheck(path="/-/ready"),
        metrics=MetricsEndpoint(port=prometheus_port), order=0,
        data_dirs=(str(prometheus_data_dir(home)),))
    return exporter, server
