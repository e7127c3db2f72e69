"""Benchmark: what metrics collection costs the system under test, and how fast the local
autoscaler brings capacity for a x4 load step.

(a) Scraping on vs off, same platform, alternating rounds: wrk drives the tabular stack
    through the edge (closed model, 8 connections, a POST /predict) for a few seconds with
    Prometheus scraping every member each second, then with Prometheus and the exporter
    frozen (SIGSTOP: no scrape reaches any member); throughput on / off is the overhead.
(b) A x4 step (10 -> 40 req/s, paced) on one replica per region with the autoscaler on CPU
    utilisation: reaction time (step -> first scale-out decision) and time to ready (that
    decision -> the new replica healthy and in service at the edge), several rounds.

    python bench/metrics.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from gameday.autoscale.options import AutoscalingOptions
from gameday.autoscaler import AUTOSCALER_FILE, start_autoscalers
from gameday.platforms.base import StackRequest
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.platform import LocalPlatform

__all__ = ["main", "run"]

_BODY = ('{"amount": 42.0, "hour": 13, "merchant_risk": 0.2, "distance_km": 3.0, '
         '"card_age_days": 400, "foreign": false, "tx_last_24h": 2}')
_METRICS_MEMBERS = ["metrics-prometheus", "metrics-resources"]
_WRK_S = 5


def _wrk(url: str, work: Path) -> float:
    script = work / "post.lua"
    script.write_text(f"wrk.method = 'POST'\nwrk.body = '{_BODY}'\n"
                      "wrk.headers['Content-Type'] = 'application/json'\n")
    done = subprocess.run(["wrk", "-t1", "-c8", f"-d{_WRK_S}s", "-s", str(script), url],
                          capture_output=True, text=True, timeout=_WRK_S + 30, check=True)
    match = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    if match is None:
        raise RuntimeError(f"wrk printed no rate: {done.stdout}")
    return float(match.group(1))


def _scrape_overhead(platform: LocalPlatform, rounds: int, work: Path) -> dict[str, Any]:
    url = platform.edge_url("tabular") + "/predict"
    _wrk(url, work)  # warm the replicas and the edge
    on: list[float] = []
    off: list[float] = []
    for _ in range(rounds):
        on.append(_wrk(url, work))
        platform.stop_members(_METRICS_MEMBERS, freeze=True)
        try:
            time.sleep(1.5)  # scrapes in flight finish
            off.append(_wrk(url, work))
        finally:
            platform.restore_members(_METRICS_MEMBERS)
        time.sleep(1.5)
    return {"on_req_per_s": on, "off_req_per_s": off,
            "on_vs_off_throughput": statistics.median(on) / statistics.median(off)}


def _paced(url: str, rate: list[float], stop: threading.Event) -> None:
    with httpx.Client(timeout=5) as client:
        next_s = time.monotonic()
        for _ in range(20_000):  # bounded
            if stop.is_set():
                return
            with contextlib.suppress(httpx.HTTPError):  # the load only needs to arrive
                client.post(url, content=_BODY, headers={"Content-Type": "application/json"})
            next_s += 1 / rate[0]
            time.sleep(max(0.0, next_s - time.monotonic()))


def _step_round(platform: LocalPlatform, work: Path) -> dict[str, float]:
    options = AutoscalingOptions.model_validate({
        "stack": "tabular", "component": "api", "regions": ["region-a"], "min_replicas": 1,
        "max_replicas": 4, "metric": "cpu_utilization", "target": 0.6,
        "cpu_request_cores": 0.1})
    folder = Path(tempfile.mkdtemp(dir=work))
    rate, stop = [10.0], threading.Event()
    load = threading.Thread(target=_paced, args=(platform.edge_url("tabular") + "/predict",
                                                 rate, stop), daemon=True)
    [scaler] = start_autoscalers([options], platform, folder)
    load.start()
    try:
        time.sleep(8)  # the controller's first rate window, and a steady base
        step_s = time.time()
        rate[0] = 40.0
        deadline_s = time.monotonic() + 45
        scaled: list[dict[str, Any]] = []
        while not scaled and time.monotonic() < deadline_s:
            time.sleep(0.5)
            records = [json.loads(line) for line in
                       (folder / AUTOSCALER_FILE).read_text().splitlines()]
            scaled = [r for r in records if r["kind"] == "scaled" and r["to"] > r["from"]]
    finally:
        stop.set()
        scaler.stop()
        load.join(timeout=10)
        platform.scale("tabular", "api", "region-a", 1)
    if not scaled:
        raise RuntimeError("the x4 step did not scale out within 45 s")
    started_s = scaled[0]["started_s"]  # the decision's time
    if started_s < step_s:
        raise RuntimeError(f"scaled out {step_s - started_s:.1f} s before the step: the base "
                           "load is above the target")
    return {"reaction_s": started_s - step_s, "ready_s": scaled[0]["t_s"] - started_s,
            "to": scaled[0]["to"]}


def run(rounds: int = 3) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gameday-bench-metrics-", dir="/tmp") as tmp:
        work = Path(tmp)
        work.chmod(0o755)
        platform = LocalPlatform(LocalHome(work / "home"))
        platform.up(StackRequest(stacks=("tabular",), replicas=1))
        try:
            overhead = _scrape_overhead(platform, rounds, work)
            steps = [_step_round(platform, work) for _ in range(rounds)]
        finally:
            platform.down()
    return {"scrape": overhead, "step_x4": steps,
            "reaction_s_median": statistics.median(s["reaction_s"] for s in steps),
            "ready_s_median": statistics.median(s["ready_s"] for s in steps)}


def summary_lines(figures: dict[str, Any]) -> list[str]:
    scrape = figures["scrape"]
    return [
        f"scraping on / off throughput      {scrape['on_vs_off_throughput']:.3f}x "
        f"(median of {len(scrape['on_req_per_s'])} rounds each, "
        f"{statistics.median(scrape['on_req_per_s']):.0f} vs "
        f"{statistics.median(scrape['off_req_per_s']):.0f} req/s through the edge)",
        f"autoscaler x4 step                reaction {figures['reaction_s_median']:.2f} s, "
        f"time to ready {figures['ready_s_median']:.2f} s (median of "
        f"{len(figures['step_x4'])} rounds; sync period 1 s, 4 s CPU rate window)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    figures = run(args.rounds)
    print(json.dumps(figures, indent=2))
    print("\n".join(summary_lines(figures)))


if __name__ == "__main__":
    main()
