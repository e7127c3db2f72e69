"""Benchmark: the global edge (nginx + ModSecurity/CRS + cache in front of HAProxy), each
figure beside a reference measured in the same run, on real local platforms (tabular stack).

(a) What the WAF costs: wrk (closed model, 8 connections, POST /predict) through nginx with
    the WAF blocking (:8080), the same nginx without WAF or cache (:8082) and HAProxy alone
    (:8081), one stand-up, entries interleaved over two rounds; ratios WAF / no WAF and
    no WAF / HAProxy.
(b) Cache hit vs miss: the same /predict body again and again (HIT, answered by nginx) against
    a new body each time (MISS, the whole path), alternating, sequential; p50/p99 and ratio.
(c) Health checks under a lossy link, one stand-up per setting: open load at 50 req/s, a
    reset_peer toxic on region-a's edge links for a while (spurious failovers: region-a's
    server marked down at the edge while it was only lossy), then region-a killed (RTO as
    gameday.measure.rto defines it). The points go to ``edge-sweep.json`` and its chart (RTO
    against spurious failovers, the report's) to ``sweep.html``, self-contained; copy
    ``edge-sweep.json`` into a run folder and ``gameday report`` adds the chart to its report.

    python bench/edge.py [--quick] [--out runs/bench-edge-<ts>]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from gameday.config import Measurement
from gameday.edge_options import EdgeOptions, HealthOptions
from gameday.errors import PlatformError
from gameday.load.payloads import check_tabular_predict
from gameday.measure.arrays import percentile
from gameday.measure.edge import edge_intervals
from gameday.measure.rto import Rto, measure_rto
from gameday.platforms.base import EdgeEntry, StackRequest, ToxicSpec
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.platform import LocalPlatform
from gameday.records import EdgeServerSample, RequestRecord
from reports.edge_charts import rto_vs_flapping

__all__ = ["SETTINGS", "main", "parse_wrk", "run", "summary_lines", "sweep_point",
           "up_to_down_transitions", "write_sweep_page"]

SAMPLE = {"amount": 42.0, "hour": 13, "merchant_risk": 0.2, "distance_km": 3.0,
          "card_age_days": 400, "foreign": False, "tx_last_24h": 2}
ENTRIES: dict[str, EdgeEntry] = {"waf": "edge", "no_waf": "edge-no-waf", "haproxy": "haproxy"}
# name -> HealthOptions fields; the README's default edge is "default"
SETTINGS: dict[str, dict[str, Any]] = {
    "aggressive": {"inter_ms": 200, "fall": 1, "rise": 1, "observe": "layer7", "error_limit": 1},
    "default": {"inter_ms": 500, "fall": 2, "rise": 2, "observe": "layer7", "error_limit": 1},
    "tolerant": {"inter_ms": 500, "fall": 3, "rise": 2, "observe": "layer4", "error_limit": 10},
    "conservative": {"inter_ms": 1000, "fall": 3, "rise": 2, "observe": "none",
                     "error_limit": 1},
}
QUICK_SETTINGS = ("aggressive", "conservative")
LOSS = ToxicSpec(name="bench-loss", type="reset_peer", toxicity=0.03)
_WRK = shutil.which("wrk")
_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}
_RATE_PER_S = 50.0
_POLL_S = 0.1


@contextmanager
def _platform(work: Path, name: str, *, replicas: int, edge: EdgeOptions | None = None,
              settings: dict[str, Any] | None = None) -> Iterator[LocalPlatform]:
    platform = LocalPlatform(LocalHome(work / name))
    try:
        platform.up(StackRequest(stacks=("tabular",), replicas=replicas,
                                 edge=edge or EdgeOptions(), settings=settings or {}))
        yield platform
    finally:
        platform.down()


# -- (a) the WAF's cost --------------------------------------------------------------------
def parse_wrk(output: str) -> dict[str, float]:
    """Rate, p50/p99 (ms), non-2xx answers and socket errors from ``wrk --latency``."""
    figures = {"non_2xx": 0.0, "socket_errors": 0.0}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("50%", "99%"):
            number = parts[1].rstrip("usm")
            figures[f"p{parts[0][:2]}_ms"] = float(number) * _UNITS_MS[parts[1][len(number):]]
        elif line.startswith("Requests/sec:"):
            figures["requests_per_s"] = float(parts[1])
        elif line.strip().startswith("Non-2xx or 3xx responses:"):
            figures["non_2xx"] = float(parts[-1])
        elif line.strip().startswith("Socket errors:"):
            figures["socket_errors"] = float(sum(int(p.rstrip(",")) for p in parts[3::2]))
    if not {"requests_per_s", "p50_ms", "p99_ms"} <= set(figures):
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    return figures


def _wrk(url: str, seconds: int, connections: int, script: Path) -> dict[str, float]:
    done = subprocess.run([str(_WRK), "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
                           "-s", str(script), url], capture_output=True, text=True,
                          timeout=seconds + 30, check=True)
    return parse_wrk(done.stdout)


def _python_client(url: str, seconds: int, connections: int, _: Path) -> dict[str, float]:
    """Where wrk is missing: ``connections`` threads, each one keep-alive client in a loop."""
    from concurrent.futures import ThreadPoolExecutor

    def loop() -> tuple[list[float], int]:
        latencies_s, bad, deadline_s = [], 0, time.monotonic() + seconds
        with httpx.Client(timeout=10) as client:
            while time.monotonic() < deadline_s:
                started = time.perf_counter()
                bad += client.post(url, json=SAMPLE).status_code != 200
                latencies_s.append(time.perf_counter() - started)
        return latencies_s, bad

    with ThreadPoolExecutor(connections) as pool:
        results = list(pool.map(lambda _: loop(), range(connections)))
    values_ms = [v * 1e3 for r in results for v in r[0]]
    return {"requests_per_s": len(values_ms) / seconds, **_percentiles_ms(values_ms),
            "non_2xx": float(sum(r[1] for r in results)), "socket_errors": 0.0}


def _headers(url: str) -> dict[str, str]:
    answer = httpx.post(url, json=SAMPLE, timeout=10)
    return {"status": str(answer.status_code),
            **{k: answer.headers.get(k, "") for k in ("x-edge-waf", "x-cache-status",
                                                      "x-served-by-region")}}


def waf_cost(work: Path, quick: bool, connections: int = 8) -> dict[str, Any]:
    seconds, rounds = (3 if quick else 10), 2
    script = work / "post.lua"
    script.write_text(f"wrk.method = 'POST'\nwrk.body = [[{json.dumps(SAMPLE)}]]\n"
                      "wrk.headers['Content-Type'] = 'application/json'\n")
    client = _wrk if _WRK else _python_client
    # the per-client limit is the edge's, not what is measured here: far above any rate
    edge = EdgeOptions(rate_limit_per_s_per_client=1_000_000)
    with _platform(work, "home-waf", replicas=2, edge=edge) as platform:
        urls = {case: platform.edge_url("tabular", entry) + "/predict"
                for case, entry in ENTRIES.items()}
        headers = {case: _headers(url) for case, url in urls.items()}
        for url in urls.values():
            client(url, 1, connections, script)  # warm-up, not counted
        runs: dict[str, list[dict[str, float]]] = {case: [] for case in urls}
        for _ in range(rounds):
            for case, url in urls.items():
                runs[case].append(client(url, seconds, connections, script))
    cases = {case: {key: statistics.median(r[key] for r in rs) for key in rs[0]}
             | {"non_2xx": sum(r["non_2xx"] for r in rs)} for case, rs in runs.items()}
    waf, plain, haproxy = cases["waf"], cases["no_waf"], cases["haproxy"]
    return {"client": "wrk" if _WRK else "python threads (wrk not installed)",
            "connections": connections, "seconds_per_run": seconds, "rounds": rounds,
            "cpus": os.cpu_count(), "headers": headers, "cases": cases, "runs": runs,
            "waf_vs_no_waf_throughput": waf["requests_per_s"] / plain["requests_per_s"],
            "no_waf_vs_haproxy_throughput": plain["requests_per_s"] / haproxy["requests_per_s"],
            "waf_vs_no_waf_p50": waf["p50_ms"] / plain["p50_ms"],
            "waf_added_p50_ms": waf["p50_ms"] - plain["p50_ms"],
            "waf_added_p99_ms": waf["p99_ms"] - plain["p99_ms"],
            "nginx_added_p50_ms": plain["p50_ms"] - haproxy["p50_ms"]}


# -- (b) cache hit vs miss -------------------------------------------------------------------
def cache_hit_vs_miss(work: Path, quick: bool) -> dict[str, Any]:
    count = 100 if quick else 500
    latencies_ms: dict[str, list[float]] = {"hit": [], "miss": []}
    statuses: dict[str, Counter[str]] = {"hit": Counter(), "miss": Counter()}
    with _platform(work, "home-cache", replicas=1,
                   settings={"tabular": {"answer_max_age_s": 30}}) as platform:
        url = platform.edge_url("tabular") + "/predict"
        repeated = SAMPLE | {"amount": 123.45}
        with httpx.Client(timeout=10) as client:
            primed = client.post(url, json=repeated).headers.get("x-cache-status", "")
            for index in range(count):  # alternating, so both see the same machine
                for kind, body in (("hit", repeated),
                                   ("miss", SAMPLE | {"amount": 1000.0 + index / 100})):
                    started = time.perf_counter()
                    answer = client.post(url, json=body)
                    latencies_ms[kind].append((time.perf_counter() - started) * 1e3)
                    statuses[kind][f"{answer.status_code} "
                                   f"{answer.headers.get('x-cache-status', '')} "
                                   f"{answer.headers.get('x-served-by-region', '')}"] += 1
    hit, miss = _percentiles_ms(latencies_ms["hit"]), _percentiles_ms(latencies_ms["miss"])
    return {"requests_each": count, "primed": primed, "hit": hit, "miss": miss,
            "answers": {kind: dict(counted) for kind, counted in statuses.items()},
            "hits_as_expected": statuses["hit"]["200 HIT edge"],
            "misses_as_expected": sum(n for k, n in statuses["miss"].items()
                                      if k.startswith("200 MISS region-")),
            "hit_vs_miss_p50": hit["p50_ms"] / miss["p50_ms"],
            "hit_vs_miss_p99": hit["p99_ms"] / miss["p99_ms"]}


def _percentiles_ms(values_ms: list[float]) -> dict[str, float]:
    values = np.array(values_ms, dtype=np.float64)
    return {"p50_ms": percentile(values, 50) or float("nan"),
            "p99_ms": percentile(values, 99) or float("nan")}


# -- (c) health checks under a lossy link ----------------------------------------------------
class OpenLoad:
    """POST /predict at a fixed rate from a thread of its own (open model: a slow answer does
    not hold the next send back), each answer a RequestRecord; bounded by ``max_requests``."""

    def __init__(self, url: str, rate_per_s: float, *, timeout_s: float = 5.0,
                 max_requests: int = 20_000) -> None:
        self.url, self.rate_per_s, self.timeout_s = url, rate_per_s, timeout_s
        self._max = max_requests
        self._records: list[RequestRecord] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self) -> None:
        self._thread.start()

    def records(self) -> list[RequestRecord]:
        return list(self._records)

    def stop(self) -> list[RequestRecord]:
        """Stop sending, wait for the answers still due, and give every record."""
        self._stop.set()
        self._thread.join(timeout=self.timeout_s + 10)
        return self.records()

    async def _run(self) -> None:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        async with httpx.AsyncClient(timeout=self.timeout_s, limits=limits) as client:
            start_s, pending = time.time(), set()
            for index in range(self._max):
                scheduled_s = start_s + index / self.rate_per_s
                await asyncio.sleep(max(0.0, scheduled_s - time.time()))
                if self._stop.is_set():
                    break
                task = asyncio.create_task(self._one(client, scheduled_s, index))
                pending.add(task)
                task.add_done_callback(pending.discard)
            await asyncio.gather(*pending)

    async def _one(self, client: httpx.AsyncClient, scheduled_s: float, index: int) -> None:
        started_s, region, status, error = time.time(), "", 0, ""
        try:  # a new amount each time: scores are not cacheable here, and none repeats
            answer = await client.post(self.url, json=SAMPLE | {"amount": 1.0 + index / 100})
            region, status = answer.headers.get("x-served-by-region", ""), answer.status_code
            ok, error = check_tabular_predict(status, answer.content)
        except httpx.TimeoutException:
            ok, error = False, "timeout"
        except httpx.HTTPError:
            ok, error = False, "connection"
        self._records.append(RequestRecord(
            scheduled_s=scheduled_s, start_s=started_s, end_s=time.time(), stack="tabular",
            endpoint="predict", region=region, status=status, ok=ok, error_kind=error))


class EdgePoller:
    """The edge's view of every server (``edge_server_states``) every ``period_s``."""

    def __init__(self, platform: LocalPlatform, period_s: float) -> None:
        self._platform, self._period_s = platform, period_s
        self._samples: list[EdgeServerSample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> list[EdgeServerSample]:
        self._stop.set()
        self._thread.join(timeout=10)
        return list(self._samples)

    def _run(self) -> None:
        while not self._stop.wait(self._period_s):
            try:
                self._samples.extend(self._platform.edge_server_states())
            except PlatformError:  # HAProxy busy for a moment: the next poll will do
                continue


def up_to_down_transitions(samples: list[EdgeServerSample], region: str, start_s: float,
                           end_s: float) -> int:
    """Times one of ``region``'s servers went from up to down at the edge, the change first
    seen in [start_s, end_s] (samples polled; repeats of a state merge)."""
    intervals = edge_intervals(samples, end_s=end_s)
    return sum(1 for before, after in itertools.pairwise(intervals)
               if (before.backend, before.server) == (after.backend, after.server)
               and after.region == region and before.state == "up" and after.state == "down"
               and start_s <= after.start_s <= end_s)


def kill_rto(records: list[RequestRecord], kill_s: float) -> Rto:
    """RTO of the kill, the project's definition and its suite defaults (W 5 s, SLO 0.25 s)."""
    measurement = Measurement()
    return measure_rto(records, fault_start_s=kill_s, faulted_region="region-a",
                       stability_window_s=measurement.stability_window_s,
                       latency_slo_s=measurement.latency_slo_s)


def sweep_point(setting: str, health: dict[str, Any], rto: Rto, spurious: int,
                lossy_failed: int) -> dict[str, Any]:
    """One point of edge-sweep.json (the report's edge section reads exactly these keys);
    failed_requests: those of the lossy phase and of the kill until recovery."""
    return {"setting": setting, "inter_ms": int(health["inter_ms"]),
            "fall": int(health["fall"]), "rise": int(health["rise"]),
            "observe": str(health["observe"]), "rto_s": rto.rto_s,
            "spurious_failovers": spurious, "failed_requests": lossy_failed + rto.failed_requests}


def _in(records: list[RequestRecord], start_s: float, end_s: float) -> list[RequestRecord]:
    return [r for r in records if start_s <= r.scheduled_s < end_s]


def _settle(platform: LocalPlatform, limit_s: float) -> float:
    """Seconds until every region-a server is up at the edge again (at most ``limit_s``)."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        if all(s.up for s in platform.edge_server_states() if s.region == "region-a"):
            break
        time.sleep(_POLL_S)
    time.sleep(2.0)  # a short quiet spell before the kill
    return time.monotonic() - started


def _await_recovery(load: OpenLoad, kill_s: float, limit_s: float) -> None:
    """Keep the load on until the RTO is in the data (plus a timeout's worth, so every
    request of the last window has finished) or ``limit_s`` after the kill."""
    while time.time() < kill_s + limit_s:
        rto = kill_rto(load.records(), kill_s)
        if rto.recovered_at_s is not None and time.time() > rto.recovered_at_s + 5 + load.timeout_s:
            return
        time.sleep(0.5)


def _setting(work: Path, setting: str, lossy_s: float, kill_limit_s: float) -> dict[str, Any]:
    health = SETTINGS[setting]
    edge = EdgeOptions(health=HealthOptions(**health))
    with _platform(work, f"home-{setting}", replicas=1, edge=edge) as platform:
        url = platform.edge_url("tabular") + "/predict"
        load, poller = OpenLoad(url, _RATE_PER_S), EdgePoller(platform, _POLL_S)
        load.start()
        poller.start()
        try:
            time.sleep(3.0)  # a steady base before the loss
            lossy_start_s = time.time()
            platform.add_link_toxic("region-a", LOSS, stack="tabular", link="edge")
            try:
                time.sleep(lossy_s)
            finally:
                platform.remove_link_toxic("region-a", LOSS.name, stack="tabular")
            lossy_end_s = time.time()
            settled_s = _settle(platform, 15.0)
            kill_s = time.time()
            platform.stop_region("region-a", freeze=False)
            try:
                _await_recovery(load, kill_s, kill_limit_s)
            finally:
                platform.restore_region("region-a")
        finally:
            records, samples = load.stop(), poller.stop()
    lossy = _in(records, lossy_start_s, lossy_end_s)
    spurious = up_to_down_transitions(samples, "region-a", lossy_start_s,
                                      lossy_end_s + 5 * _POLL_S)
    rto = kill_rto(records, kill_s)
    point = sweep_point(setting, health, rto, spurious, sum(not r.ok for r in lossy))
    detail = {"lossy_s": lossy_end_s - lossy_start_s, "lossy_requests": len(lossy),
              "lossy_failed": sum(not r.ok for r in lossy),
              "lossy_served_by_region_b": sum(r.ok and r.region == "region-b" for r in lossy),
              "lossy_errors": dict(Counter(r.error_kind for r in lossy if not r.ok)),
              # the last check result as polled: a failed check that did not take the server
              # down (fall > 1) shows here, so a quiet setting is told from an idle toxic
              "lossy_checks_polled": dict(Counter(
                  s.check for s in samples if s.region == "region-a"
                  and lossy_start_s <= s.t_s <= lossy_end_s)),
              "settle_s": settled_s, "kill_failed": rto.failed_requests,
              "kill_slow": rto.slow_requests, "detect_s": rto.detect_s,
              "failover_s": rto.failover_s, "requests": len(records),
              "edge_samples": len(samples)}
    return point | {"detail": detail}


def health_sweep(work: Path, quick: bool) -> list[dict[str, Any]]:
    names = QUICK_SETTINGS if quick else tuple(SETTINGS)
    return [_setting(work, name, lossy_s=8.0 if quick else 15.0,
                     kill_limit_s=25.0 if quick else 40.0) for name in names]


# -- the whole benchmark ---------------------------------------------------------------------
def run(quick: bool = False, out: Path | None = None) -> dict[str, Any]:
    out = out or Path("runs") / f"bench-edge-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gameday-bench-edge-", dir="/tmp") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # the members' users must reach their homes
        figures: dict[str, Any] = {"load_average_1m_at_start": os.getloadavg()[0],
                                   "cpus": os.cpu_count(), "quick": quick}
        figures["waf"] = waf_cost(work, quick)
        figures["cache"] = cache_hit_vs_miss(work, quick)
        sweep = health_sweep(work, quick)
    points = [{k: v for k, v in p.items() if k != "detail"} for p in sweep]
    (out / "edge-sweep.json").write_text(json.dumps(points, indent=2))
    write_sweep_page(out / "sweep.html", points)
    figures["sweep"] = points
    figures["sweep_detail"] = {p["setting"]: p["detail"] for p in sweep}
    figures["sweep_file"] = str(out / "edge-sweep.json")
    figures["toxic"] = {"type": LOSS.type, "toxicity": LOSS.toxicity, "stream": LOSS.stream,
                        "rate_per_s": _RATE_PER_S}
    (out / "figures.json").write_text(json.dumps(figures, indent=2, default=str))
    return figures


def write_sweep_page(path: Path, points: list[dict[str, Any]]) -> None:
    """The sweep's chart as one self-contained page (plotly.js inlined: opens offline)."""
    figure = rto_vs_flapping(points)
    figure.update_layout(title=f"Edge health checks under a lossy link ({LOSS.type} "
                               f"{LOSS.toxicity:.0%}), then region-a killed: RTO against "
                               "spurious failovers")
    figure.write_html(path, include_plotlyjs=True, full_html=True)


def summary_lines(figures: dict[str, Any]) -> list[str]:
    waf, cache = figures["waf"], figures["cache"]
    cases = waf["cases"]
    lines = [
        f"edge WAF / no WAF throughput      {waf['waf_vs_no_waf_throughput']:.2f}x "
        f"({cases['waf']['requests_per_s']:.0f} vs {cases['no_waf']['requests_per_s']:.0f} "
        f"req/s; p50 {cases['waf']['p50_ms']:.2f} vs {cases['no_waf']['p50_ms']:.2f} ms, "
        f"p99 {cases['waf']['p99_ms']:.2f} vs {cases['no_waf']['p99_ms']:.2f} ms)",
        f"edge nginx / HAProxy throughput   {waf['no_waf_vs_haproxy_throughput']:.2f}x "
        f"(HAProxy alone {cases['haproxy']['requests_per_s']:.0f} req/s, p50 "
        f"{cases['haproxy']['p50_ms']:.2f} ms; {waf['client']}, {waf['connections']} "
        f"connections, on {waf['cpus']} cores shared with the client)",
        f"edge cache hit / miss latency     p50 {cache['hit_vs_miss_p50']:.2f}x "
        f"({cache['hit']['p50_ms']:.2f} vs {cache['miss']['p50_ms']:.2f} ms), p99 "
        f"{cache['hit_vs_miss_p99']:.2f}x; {cache['hits_as_expected']}/"
        f"{cache['requests_each']} HIT, {cache['misses_as_expected']}/"
        f"{cache['requests_each']} MISS as expected",
    ]
    for point in figures["sweep"]:
        rto = "none" if point["rto_s"] is None else f"{point['rto_s']:.2f} s"
        lines.append(f"{'edge health ' + point['setting']:34}RTO {rto}, "
                     f"{point['spurious_failovers']} spurious failovers, "
                     f"{point['failed_requests']} failed (inter {point['inter_ms']} ms, fall "
                     f"{point['fall']}, rise {point['rise']}, observe {point['observe']})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, two settings")
    parser.add_argument("--out", type=Path, default=None, help="folder for the figures")
    options = parser.parse_args()
    figures = run(options.quick, options.out)
    print(json.dumps(figures, indent=2, default=str))
    print("\n".join(summary_lines(figures)))
    print(f"note: {figures['cpus']} cores; wrk, nginx, HAProxy and the replicas share them")


if __name__ == "__main__":
    main()
