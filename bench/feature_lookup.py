"""Benchmark: the per-request latency the online feature lookup adds to /predict.

    python bench/feature_lookup.py [--requests 2000] [--quick]

In one run: a real ``feast serve`` (the Feast venv, as ``targets/tabular/stack.yaml`` starts
it) on region-a's repo that ``make setup`` built, and two fraud-scoring replicas started with
the stack's argv and environment, one looking each card up in the store
(``GAMEDAY_FEATURE_URL``), one without it. A closed-loop client alternates the same bodies
between the two (so both see the same machine load) over keep-alive connections, after a
warm-up; p50 and p99 of each, the ratio and the milliseconds added. Also the feature
server's own answer time to a direct client (what the lookup cannot beat).

The replica with the store runs with a ttl of ten years: the repo's rows are as old as the
last ``make setup``, and a stale lookup costs the same round trip but would score defaults.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # targets/: the service's own data

from gameday.load.payloads import endpoint_for, make_bodies
from targets.tabular.featurestore.repo import FeatureRepo
from targets.tabular.replica import free_port, replica, running

__all__ = ["main", "summary_lines"]

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "artifacts"
HOST = "127.0.0.1"
TEN_YEARS_S = 10 * 365 * 86400


def main(requests: int = 2000) -> dict[str, Any]:
    warmup = max(100, requests // 10)
    with tempfile.TemporaryDirectory(prefix="gameday-bench-features-") as tmp:
        logs = Path(tmp)
        with _feature_server(logs) as feast_url, \
                _replica(logs / "with.log", GAMEDAY_FEATURE_URL=feast_url,
                         GAMEDAY_FEATURE_TTL_S=str(TEN_YEARS_S)) as with_store, \
                _replica(logs / "without.log") as without_store:
            pool = make_bodies(endpoint_for("tabular", "predict"), warmup + requests, seed=11)
            bodies = [pool[i % len(pool)] for i in range(warmup + requests)]
            with httpx.Client(timeout=10) as client:
                timed = _alternate(client, with_store, without_store, bodies, warmup)
                timed["feast_direct"] = _direct(client, feast_url, requests)
                degraded = len(timed.pop("degraded_with"))
    figures: dict[str, Any] = {"requests": requests, "warmup": warmup,
                               "degraded_answers_with_store": degraded}
    for name, samples in timed.items():
        figures[name] = _percentiles(samples)
    for point in ("p50", "p99"):
        base, store = figures["without_store"][point], figures["with_store"][point]
        figures[f"added_{point}_ms"] = store - base
        figures[f"ratio_{point}"] = store / base if base else None
    return figures


def _alternate(client: httpx.Client, with_store: str, without_store: str,
               bodies: list[bytes], warmup: int) -> dict[str, Any]:
    times: dict[str, list[float]] = {"with_store": [], "without_store": []}
    degraded: list[str] = []
    headers = {"content-type": "application/json"}
    for number, body in enumerate(bodies):
        for name, url in (("with_store", with_store), ("without_store", without_store))[
                ::1 if number % 2 else -1]:  # who goes first alternates too
            started_s = time.perf_counter()
            answer = client.post(f"{url}/predict", content=body, headers=headers)
            elapsed_ms = (time.perf_counter() - started_s) * 1000
            answer.raise_for_status()
            if number >= warmup:
                times[name].append(elapsed_ms)
                if name == "with_store" and "X-Degraded" in answer.headers:
                    degraded.append(answer.headers["X-Degraded"])
    return {**times, "degraded_with": degraded}


def _direct(client: httpx.Client, feast_url: str, requests: int) -> list[float]:
    rng, samples = np.random.default_rng(3), []
    for _ in range(requests):
        body = {"features": ["card_stats:card_age_days", "card_stats:tx_last_24h"],
                "entities": {"card_id": [int(rng.integers(1, 5001))]}}
        started_s = time.perf_counter()
        client.post(f"{feast_url}/get-online-features", json=body).raise_for_status()
        samples.append((time.perf_counter() - started_s) * 1000)
    return samples


def _percentiles(samples_ms: list[float]) -> dict[str, float]:
    values = np.asarray(samples_ms)
    return {"p50": float(np.percentile(values, 50)), "p99": float(np.percentile(values, 99)),
            "n": float(len(values))}


def _feature_server(logs: Path) -> contextlib.AbstractContextManager[str]:
    port, repo = free_port(), FeatureRepo.of(ARTIFACTS, "region-a").serving_root
    command = [str(REPO / ".venv-feast" / "bin" / "feast"), "-c", str(repo), "serve",
               "-h", HOST, "-p", str(port), "-w", "1", "--no-access-log", "-r", "5",
               "--max-requests", "0"]
    env = {**os.environ, "FEAST_USAGE": "False", "XDG_RUNTIME_DIR": str(logs)}
    return running(command, logs / "feast.log", f"http://{HOST}:{port}", env=env)


def _replica(log: Path, **extra: str) -> contextlib.AbstractContextManager[str]:
    """The stack's api argv and environment (region-a, the champion), plus ``extra``."""
    return replica(log, artifacts=ARTIFACTS, env=extra)


def summary_lines(figures: dict[str, Any]) -> list[str]:
    with_store, without = figures["with_store"], figures["without_store"]
    return [
        f"feature lookup: /predict p50 {without['p50']:.2f} -> {with_store['p50']:.2f} ms "
        f"(+{figures['added_p50_ms']:.2f} ms, x{figures['ratio_p50']:.2f}), p99 "
        f"{without['p99']:.2f} -> {with_store['p99']:.2f} ms (+{figures['added_p99_ms']:.2f} "
        f"ms, x{figures['ratio_p99']:.2f}); feast serve alone p50 "
        f"{figures['feast_direct']['p50']:.2f} / p99 {figures['feast_direct']['p99']:.2f} ms; "
        f"{figures['degraded_answers_with_store']} degraded of {figures['requests']}"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="500 requests")
    options = parser.parse_args()
    result = main(requests=500 if options.quick else options.requests)
    print(json.dumps(result, indent=2))
    print("\n".join(summary_lines(result)))
