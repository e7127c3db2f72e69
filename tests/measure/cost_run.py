"""A synthetic run whose resources and requests are known by construction, for the cost and
autoscaling tests: suite.json from a real Suite, requests with the real RecordWriter, events
with the real EventLog, ``metrics/`` in the format ``gameday.metrics.save_snapshot`` writes
(Prometheus's own matrix, values as strings) and ``autoscaler.jsonl`` with ``append_jsonl``.

The story (seconds since load start ``T0_S``): warm-up to 2 s, a region-a outage from 12 to
20 s (``region-outage``), load to 30 s. Two stacks, a request to each every 0.25 s:

- tabular (offset 0): served by region-a outside the fault, except every 10th request
  (k % 10 == 0), which region-a answered with a 500 (failed); in the fault the requests
  scheduled before 13 s fail with no region, the rest are served by region-b.
- triton (offset 0.125): served by region-a outside the fault, failed during it.

Members (samples every second from 0 to 30 s): tabular-api-a1 (region-a) burns 0.5 CPU/s and
holds 0.5 GiB, restarted at 14.5 s (its counter reads 0.25 at 15 s); tabular-api-b1
(region-b) 0.25 CPU/s, 1 GiB; triton-server-a1 1 CPU/s, 2 GiB, 1 GPU; triton-server-b1 idle,
2 GiB, 1 GPU; the edge (platform) 0.2 CPU/s, 0.25 GiB; the fault proxy (platform) 0.1 CPU/s.
Prices: region-a 3.6 per vCPU-hour, 0.36 per GiB-hour, 36 per GPU-hour (0.001, 0.0001,
0.01 a second); region-b twice that.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gameday.config import AvailabilitySlo, LoadProfile, Scenario, Suite
from gameday.cost_options import PriceTable, RegionPrices
from gameday.jsonl import append_jsonl
from gameday.records import EventKind, EventLog, RecordWriter, RequestRecord
from gameday.slos import CostSlo

T0_S = 1_764_061_200.0
WARMUP_S, FAULT_S, FAULT_END_S, END_S = 2.0, 12.0, 20.0, 30.0
SPACING_S = 0.25
GIB = 2**30
PRICES = PriceTable(currency="EUR", source="test prices, 2026-01-01", regions={
    "region-a": RegionPrices(vcpu_hour=3.6, gb_hour=0.36, gpu_hour=36.0),
    "region-b": RegionPrices(vcpu_hour=7.2, gb_hour=0.72, gpu_hour=72.0)})

Labels = dict[str, str]
Points = list[tuple[float, float]]


def member(stack: str, component: str, region: str, replica: str) -> Labels:
    return {"stack": stack, "component": component, "region": region, "replica": replica,
            "job": "gameday-members"}


A1 = member("tabular", "api", "region-a", "tabular-api-a1")
B1 = member("tabular", "api", "region-b", "tabular-api-b1")
TA = member("triton", "server", "region-a", "triton-server-a1")
TB = member("triton", "server", "region-b", "triton-server-b1")
EDGE = member("edge", "haproxy", "edge", "edge-1")
PROXY = member("fault-proxy", "toxiproxy", "region-a", "fault-proxy-a")


def seconds(fn: Callable[[float], float], start_s: float = 0.0,
            end_s: float = END_S) -> Points:
    return [(T0_S + s, fn(float(s))) for s in range(int(start_s), int(end_s) + 1)]


def _a1_cpu(s: float) -> float:
    return 10 + 0.5 * s if s < 15 else 0.5 * (s - 14.5)  # restarted at 14.5 s


def resource_series() -> dict[str, list[tuple[Labels, Points]]]:
    return {
        "cpu_seconds": [(A1, seconds(_a1_cpu)), (B1, seconds(lambda s: 3 + 0.25 * s)),
                        (TA, seconds(lambda s: 1.0 * s)), (TB, seconds(lambda s: 5.0)),
                        (EDGE, seconds(lambda s: 0.2 * s)), (PROXY, seconds(lambda s: 0.1 * s))],
        "resident_bytes": [(A1, seconds(lambda s: 0.5 * GIB)), (B1, seconds(lambda s: GIB)),
                           (TA, seconds(lambda s: 2.0 * GIB)), (TB, seconds(lambda s: 2.0 * GIB)),
                           (EDGE, seconds(lambda s: 0.25 * GIB)),
                           (PROXY, seconds(lambda s: 0.0))],
        "gpus": [(TA, seconds(lambda s: 1.0)), (TB, seconds(lambda s: 1.0))],
    }


def write_metrics(run_dir: Path, series: dict[str, list[tuple[Labels, Points]]], *,
                  empty: Sequence[str] = (), errors: dict[str, str] | None = None,
                  error: str = "", start_s: float = T0_S, end_s: float = T0_S + END_S,
                  step_s: float = 1.0) -> None:
    folder = run_dir / "metrics"
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in series.items():
        result = [{"metric": {"__name__": name, **labels},
                   "values": [[t, repr(v)] for t, v in points]} for labels, points in rows]
        (folder / f"{name}.json").write_text(json.dumps(
            {"query": name, "start_s": start_s, "end_s": end_s, "step_s": step_s,
             "result": result}, separators=(",", ":")))
    index = {"prometheus_url": "http://127.0.0.1:9090", "start_s": start_s, "end_s": end_s,
             "step_s": step_s, "saved": list(series), "empty": list(empty),
             "errors": errors or {}, "targets": [], "error": error}
    (folder / "index.json").write_text(json.dumps(index))


def tabular_request(k: int) -> RequestRecord:
    s = k * SPACING_S
    if FAULT_S <= s < FAULT_END_S:
        ok, region = s >= FAULT_S + 1, "region-b" if s >= FAULT_S + 1 else ""
    else:
        ok, region = k % 10 != 0, "region-a"
    return _record(s, "tabular", region, ok)


def triton_request(k: int) -> RequestRecord:
    s = k * SPACING_S + SPACING_S / 2
    during = FAULT_S <= s < FAULT_END_S
    return _record(s, "triton", "" if during else "region-a", not during)


def _record(s: float, stack: str, region: str, ok: bool) -> RequestRecord:
    t_s = T0_S + s
    status = 200 if ok else (500 if region else 503)
    return RequestRecord(t_s, t_s, t_s + 0.010, stack, "predict" if stack == "tabular"
                         else "infer", region, status, ok, "" if ok else "http_5xx")


def requests() -> list[RequestRecord]:
    count = int(END_S / SPACING_S)
    return [*(tabular_request(k) for k in range(count + 1)),
            *(triton_request(k) for k in range(count))]


def suite(slos: Sequence[Any] = ()) -> Suite:
    return Suite(name="cost-run", stacks=["tabular", "triton"],
                 load=LoadProfile(stack="tabular", rate_per_s=4, duration_s=28,
                                  warmup_s=WARMUP_S, arrival="constant"),
                 scenarios=[Scenario(name="region-outage",
                                     experiment=Path("experiments/outage.json"))],
                 slos=list(slos) or [AvailabilitySlo(kind="availability", objective=0.5)],
                 prices=PRICES)


def cost_slo(**fields: Any) -> CostSlo:
    return CostSlo(kind="cost", **{"stack": "tabular", "max_per_1k": 1.0, **fields})


def write_cost_run(run_dir: Path, *, slos: Sequence[Any] = (), metrics: bool = True,
                   steps: Sequence[dict[str, float]] = ()) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "suite.json").write_text(json.dumps(suite(slos).model_dump(mode="json")))
    with RecordWriter(run_dir / "requests-gen0.csv") as writer:
        for record in sorted(requests(), key=lambda r: r.scheduled_s):
            writer.write(record)
    log = EventLog(run_dir / "events.jsonl")
    log.emit(EventKind.RUN_START, t_s=T0_S - 1)
    log.emit(EventKind.LOAD_START, t_s=T0_S, t0_s=T0_S, target_rate_per_s=8.0,
             plan={"stack": "tabular"}, steps=list(steps))
    log.emit(EventKind.WARMUP_END, t_s=T0_S + WARMUP_S)
    log.emit(EventKind.SCENARIO_START, "region-outage", t_s=T0_S + FAULT_S - 0.5)
    log.emit(EventKind.FAULT_START, "region-outage", t_s=T0_S + FAULT_S,
             target_region="region-a")
    log.emit(EventKind.FAULT_END, "region-outage", t_s=T0_S + FAULT_END_S,
             target_region="region-a", rollbacks=["succeeded"])
    log.emit(EventKind.SCENARIO_END, "region-outage", t_s=T0_S + FAULT_END_S + 0.5,
             status="completed", deviated=False, rollbacks=["succeeded"])
    log.emit(EventKind.LOAD_END, t_s=T0_S + END_S + 0.1)
    log.emit(EventKind.RUN_END, t_s=T0_S + END_S + 0.5)
    (run_dir / "journal-region-outage.json").write_text(json.dumps(
        {"status": "completed", "deviated": False, "rollbacks": [{"status": "succeeded"}]}))
    if metrics:
        write_metrics(run_dir, resource_series())
    return run_dir


def append_autoscaler(run_dir: Path, lines: Sequence[dict[str, Any]]) -> None:
    append_jsonl(run_dir / "autoscaler.jsonl", lines)
