"""The run's window onto the platform's Prometheus: instant queries while it runs (the
autoscaler), range snapshots of the series the report uses when it ends.

Saved under ``<run_dir>/metrics/``: one ``<name>.json`` per series in Prometheus's own matrix
format (``{"query", "start_s", "end_s", "step_s", "result": [{"metric", "values"}]}``) and
``index.json`` (what was saved, what matched no series, what failed and why, the scrape
targets' health), so ``gameday report`` rebuilds the resources and cost section offline.
Prometheus down or a series missing is written down there, never raised: the run's other
figures stand.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException

from gameday.errors import GamedayError, LoadError
from gameday.load.plan import require_loopback

__all__ = ["METRICS_DIR", "SERIES", "Prometheus", "PrometheusUnavailable", "save_snapshot"]

METRICS_DIR = "metrics"
INDEX_FILE = "index.json"
# name in the run folder -> PromQL; labels stack, region, component, replica throughout
SERIES = {
    "cpu_seconds": "gameday_member_cpu_seconds_total",
    "resident_bytes": "gameday_member_resident_memory_bytes",
    "gpus": "gameday_member_gpus",
    "member_up": "gameday_member_up",
    "in_flight": "gameday_member_in_flight",
    "scrape_up": "up",
    "pg_in_recovery": "gameday_pg_in_recovery",
    "pg_replication_lag_bytes": "gameday_pg_replication_lag_bytes",
    "triton_pending": "nv_inference_pending_request_count",
    # the tabular feature store's materializers: the newest event time each has written,
    # carried through the scrapes a frozen materializer does not answer (else its lag would
    # vanish exactly while it grows)
    "feature_materialized_s": "last_over_time(feature_materialized_event_timestamp_seconds[10m])",
}
_MAX_POINTS = 10_000  # Prometheus refuses a range query of more than 11,000 points a series
_TIMEOUT_S = 10


class PrometheusUnavailable(GamedayError):
    """Prometheus did not answer, or refused the query."""


class Prometheus:
    """A loopback Prometheus through prometheus-api-client (no proxy from the environment)."""

    def __init__(self, url: str) -> None:
        try:
            require_loopback(url)
        except LoadError as exc:
            raise PrometheusUnavailable(f"prometheus url: {exc}") from None
        self.url = url.rstrip("/")
        self._session = requests.Session()
        self._session.trust_env = False  # loopback only: never through an HTTP(S)_PROXY
        self._client = PrometheusConnect(self.url, session=self._session, timeout=_TIMEOUT_S)

    def instant(self, query: str) -> list[dict[str, Any]]:
        try:
            result: list[dict[str, Any]] = self._client.custom_query(query)
        except (PrometheusApiClientException, requests.RequestException, ValueError) as exc:
            raise PrometheusUnavailable(f"{self.url}: {query}: {exc}") from None
        return result

    def range(self, query: str, start_s: float, end_s: float,
              step_s: float) -> list[dict[str, Any]]:
        try:
            result: list[dict[str, Any]] = self._client.custom_query_range(
                query, start_time=datetime.fromtimestamp(start_s, UTC),
                end_time=datetime.fromtimestamp(end_s, UTC), step=f"{step_s:g}s")
        except (PrometheusApiClientException, requests.RequestException, ValueError) as exc:
            raise PrometheusUnavailable(f"{self.url}: {query}: {exc}") from None
        return result

    def targets(self) -> list[dict[str, Any]]:
        try:
            reply = self._session.get(f"{self.url}/api/v1/targets", timeout=_TIMEOUT_S)
            reply.raise_for_status()
            active: list[dict[str, Any]] = reply.json()["data"]["activeTargets"]
        except (requests.RequestException, ValueError, KeyError) as exc:
            raise PrometheusUnavailable(f"{self.url}: targets: {exc}") from None
        return active


def _step_s(start_s: float, end_s: float, scrape_interval_s: float) -> float:
    return max(scrape_interval_s, math.ceil((end_s - start_s) / _MAX_POINTS))


def save_snapshot(url: str | None, run_dir: Path, start_s: float, end_s: float, *,
                  scrape_interval_s: float = 1.0) -> dict[str, Any]:
    """Save every series of ``SERIES`` over [start_s, end_s]; returns the index written."""
    folder = run_dir / METRICS_DIR
    folder.mkdir(exist_ok=True)
    step_s = _step_s(start_s, end_s, scrape_interval_s)
    index: dict[str, Any] = {"prometheus_url": url or "", "start_s": start_s, "end_s": end_s,
                             "step_s": step_s, "saved": [], "empty": [], "errors": {},
                             "targets": [], "error": ""}
    if url is None:
        index["error"] = "the platform runs no Prometheus"
        _write(folder / INDEX_FILE, index)
        return index
    try:
        prometheus = Prometheus(url)
        index["targets"] = [{"labels": t.get("labels", {}), "health": t.get("health", ""),
                             "last_error": t.get("lastError", ""),
                             "scrape_url": t.get("scrapeUrl", "")}
                            for t in prometheus.targets()]
    except PrometheusUnavailable as exc:
        index["error"] = str(exc)
        _write(folder / INDEX_FILE, index)
        return index
    for name, query in SERIES.items():
        try:
            result = prometheus.range(query, start_s, end_s, step_s)
        except PrometheusUnavailable as exc:
            index["errors"][name] = str(exc)
            continue
        if not result:
            index["empty"].append(name)  # nothing of that kind ran (no Triton, no database)
            continue
        _write(folder / f"{name}.json", {"query": query, "start_s": start_s, "end_s": end_s,
                                         "step_s": step_s, "result": result})
        index["saved"].append(name)
    _write(folder / INDEX_FILE, index)
    return index


def _write(path: Path, document: dict[str, Any]) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(document, separators=(",", ":")))
    partial.replace(path)
