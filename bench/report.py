"""Report build benchmark: ``build_reports`` on a run folder of 1,000,000 request records.

    python bench/report.py [--requests 1000000] [--keep DIR]

The folder is synthetic but shaped like a real run: two generators (two ``requests*.csv``
files, merged on read), Poisson arrivals at 1,000 req/s, a region-a outage with failover to
region-b in events.jsonl, scattered timeouts, 5xx and connection errors, and an edge.jsonl.
Each measurement runs in a fresh child process (its own peak RSS, no warm caches of ours),
three times; the round with the median time is reported:

  build   ``build_reports`` (read, measure, summary.json, report.html, junit.xml, summary.md)
  read    the reference: pyarrow reading the same CSV files, every column, nothing else

Targets (issue 5): build <= 10 s and peak RSS <= 1 GB at 1 M records.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gameday.config import (
    AvailabilitySlo,
    LatencySlo,
    LoadProfile,
    Measurement,
    RtoSlo,
    Scenario,
    Suite,
)
from gameday.records import (
    REQUEST_COLUMNS,
    EdgeServerSample,
    EventKind,
    EventLog,
    RecordWriter,
    RequestRecord,
    append_edge_samples,
)

__all__ = ["main", "write_run"]

TARGET_BUILD_S, TARGET_RSS_MB = 10.0, 1024.0
T0_S = 1_764_061_200.0
RATE_PER_S, WARMUP_S, GENERATORS = 1000.0, 30.0, 2
FAULT_AT_S, FAULT_FOR_S = 400.0, 60.0  # seconds since load start
DOWN_FOR_S, COLD_FOR_S, FAILBACK_S = 2.0, 0.5, 1.0  # dead, then region-b slow, then back
TIMEOUT_S = 2.0
EXPECTED_RTO_S = DOWN_FOR_S + COLD_FOR_S  # ground truth: the first good stretch starts here
SCENARIO = "region-outage"

_CHILD_BUILD = """
import json, resource, sys, time
started = time.perf_counter()
from pathlib import Path
from reports import build_reports
imported = time.perf_counter()
summary = build_reports(Path(sys.argv[1]))
done = time.perf_counter()
rto = next((o.rto.rto_s for o in summary.scenarios if o.rto is not None), None)
print(json.dumps({"wall_s": done - imported, "import_s": imported - started,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "verdict": summary.verdict, "rto_s": rto, "requests": summary.health.requests}))
"""
_CHILD_READ = """
import json, resource, sys, time
started = time.perf_counter()
from pathlib import Path
import pyarrow.csv
imported = time.perf_counter()
files = sorted(Path(sys.argv[1]).glob("requests*.csv"))
rows = sum(pyarrow.csv.read_csv(path).num_rows for path in files)
done = time.perf_counter()
print(json.dumps({"wall_s": done - imported, "import_s": imported - started, "rows": rows,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _suite(requests: int) -> Suite:
    return Suite(
        name="bench-report",
        load=LoadProfile(arrival="poisson", rate_per_s=RATE_PER_S, warmup_s=WARMUP_S,
                         duration_s=requests / RATE_PER_S - WARMUP_S, timeout_s=TIMEOUT_S),
        scenarios=[Scenario(name=SCENARIO, experiment=Path("experiments/outage.json"),
                            offset_s=FAULT_AT_S - WARMUP_S, target_region="region-a")],
        slos=[AvailabilitySlo(kind="availability", objective=0.99),
              LatencySlo(kind="latency", percentile=99, threshold_s=0.25),
              RtoSlo(kind="rto", threshold_s=5)],
        measurement=Measurement(bucket_s=1.0, stability_window_s=5.0, latency_slo_s=0.25),
    )


def _frame(count: int, rng: np.random.Generator) -> pd.DataFrame:
    """``count`` requests in scheduled order, every column as RecordWriter writes it."""
    offset_s = np.cumsum(rng.exponential(GENERATORS / RATE_PER_S, size=count))
    lag_s = rng.exponential(0.0004, size=count)
    latency_s = rng.lognormal(np.log(0.008), 0.35, size=count)
    into_fault_s = offset_s - FAULT_AT_S
    dead = (into_fault_s >= 0) & (into_fault_s < DOWN_FOR_S)
    on_b = (into_fault_s >= DOWN_FOR_S) & (into_fault_s < FAULT_FOR_S + FAILBACK_S)
    latency_s[on_b] += 0.040  # cross-region round trip
    latency_s[on_b & (into_fault_s < DOWN_FOR_S + COLD_FOR_S)] += 0.300  # cold cache
    roll = rng.random(count)
    calm = ~dead & ~on_b  # background errors only outside the fault, so the RTO is exact
    timeout = calm & (roll < 0.003)
    http_5xx = calm & (roll >= 0.003) & (roll < 0.005)
    connection = calm & (roll >= 0.005) & (roll < 0.0055)
    failed = dead | timeout | http_5xx | connection
    latency_s[timeout] = TIMEOUT_S
    latency_s[dead | http_5xx | connection] = 0.002
    status = np.where(timeout | connection, 0, np.where(dead | http_5xx, 503, 200))
    error_kind = np.select([timeout, connection, dead | http_5xx], ["timeout", "connection",
                                                                    "http_5xx"], "")
    region = np.where(failed, "", np.where(on_b, "region-b", "region-a"))
    scheduled_s = T0_S + offset_s
    frame = pd.DataFrame({
        "scheduled_s": scheduled_s, "start_s": scheduled_s + lag_s,
        "end_s": scheduled_s + latency_s, "stack": "tabular", "endpoint": "predict",
        "region": region, "status": status, "ok": (~failed).astype(np.int8),
        "error_kind": error_kind, "ttft_s": "", "itl_s": "", "seq": "",
    })
    frame["latency_s"] = frame["end_s"] - frame["scheduled_s"]
    for column in REQUEST_COLUMNS:  # the rag and model-version columns: empty, as written
        if column not in frame:
            frame[column] = ""
    return frame[list(REQUEST_COLUMNS)]


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    # completion order, as a generator appends them (the reader sorts by scheduled time)
    order = np.argsort(frame["end_s"].to_numpy(), kind="stable")
    frame.iloc[order].to_csv(path, index=False, float_format="%.6f", lineterminator="\r\n")


def _check_format_matches_the_writer(frame: pd.DataFrame, work_dir: Path) -> None:
    """The synthetic file is byte for byte what RecordWriter writes for the same records."""
    head = frame.head(200)
    by_pandas, by_writer = work_dir / "pandas.csv", work_dir / "writer.csv"
    head.to_csv(by_pandas, index=False, float_format="%.6f", lineterminator="\r\n")
    with RecordWriter(by_writer) as writer:
        for row in head.itertuples(index=False):
            writer.write(RequestRecord(row.scheduled_s, row.start_s, row.end_s, row.stack,
                                       row.endpoint, row.region, int(row.status), bool(row.ok),
                                       row.error_kind))
    if by_pandas.read_bytes() != by_writer.read_bytes():
        raise AssertionError("bench CSV differs from RecordWriter's format")


def _write_events(run_dir: Path, suite: Suite, last_offset_s: float) -> None:
    log = EventLog(run_dir / "events.jsonl")
    log.emit(EventKind.RUN_START, t_s=T0_S - 5.0, suite=suite.name, platform="local")
    log.emit(EventKind.LOAD_START, t_s=T0_S, t0_s=T0_S, target_rate_per_s=RATE_PER_S)
    log.emit(EventKind.WARMUP_END, t_s=T0_S + WARMUP_S)
    log.emit(EventKind.SCENARIO_START, SCENARIO, t_s=T0_S + FAULT_AT_S - 0.2,
             target_region="region-a")
    log.emit(EventKind.FAULT_START, SCENARIO, t_s=T0_S + FAULT_AT_S, target_region="region-a",
             action_started_s=T0_S + FAULT_AT_S - 0.01)
    log.emit(EventKind.FAULT_END, SCENARIO, t_s=T0_S + FAULT_AT_S + FAULT_FOR_S,
             target_region="region-a", rollbacks=["succeeded"])
    log.emit(EventKind.SCENARIO_END, SCENARIO, t_s=T0_S + FAULT_AT_S + FAULT_FOR_S + 0.1,
             status="completed", deviated=False, rollbacks=["succeeded"])
    log.emit(EventKind.LOAD_END, t_s=T0_S + last_offset_s + TIMEOUT_S, stopped_by="")
    log.emit(EventKind.RUN_END, t_s=T0_S + last_offset_s + TIMEOUT_S + 1.0)


def _write_edge(run_dir: Path) -> None:
    def sample(t_s: float, server: str, up: bool, admin: str = "ready",
               check: str = "L7OK") -> EdgeServerSample:
        region = "region-a" if "-a-" in server else "region-b"
        return EdgeServerSample(T0_S + t_s, "tabular", server, region, up, admin, check)
    servers = ("tabular-a-0", "tabular-a-1", "tabular-b-0", "tabular-b-1")
    samples = [sample(0.0, server, True) for server in servers]
    for index, server in enumerate(servers[:2]):
        samples.append(sample(FAULT_AT_S + 1.5 + 0.1 * index, server, False, check="L4CON"))
        samples.append(sample(FAULT_AT_S + FAULT_FOR_S + 0.8 + 0.1 * index, server, True))
    samples.append(sample(700.0, "tabular-b-1", True, admin="maint"))
    samples.append(sample(720.0, "tabular-b-1", True))
    append_edge_samples(run_dir, sorted(samples, key=lambda s: s.t_s))


def write_run(run_dir: Path, *, requests: int = 1_000_000, seed: int = 7) -> Path:
    """A run folder of ``requests`` records (plus suite.json, events, journal, edge.jsonl)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    suite = _suite(requests)
    (run_dir / "suite.json").write_text(suite.model_dump_json(indent=2))
    rng = np.random.default_rng(seed)
    last_offset_s = 0.0
    for generator in range(GENERATORS):
        frame = _frame(requests // GENERATORS, rng)
        if generator == 0:
            _check_format_matches_the_writer(frame, run_dir.parent)
        _write_csv(frame, run_dir / f"requests-gen{generator}.csv")
        last_offset_s = max(last_offset_s, float(frame["scheduled_s"].iloc[-1]) - T0_S)
    _write_events(run_dir, suite, last_offset_s)
    _write_edge(run_dir)
    (run_dir / f"journal-{SCENARIO}.json").write_text(
        json.dumps({"status": "completed", "deviated": False}))
    return run_dir


def _child(code: str, run_dir: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", code, str(run_dir)], capture_output=True,
                          text=True, timeout=600, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _median_of(code: str, run_dir: Path, rounds: int) -> dict[str, Any]:
    """The round with the median wall time (a shared machine has bursts of other work)."""
    results = sorted((_child(code, run_dir) for _ in range(rounds)), key=lambda r: r["wall_s"])
    return {**results[len(results) // 2], "rounds_wall_s": [r["wall_s"] for r in results]}


def measure(run_dir: Path, rounds: int = 3) -> dict[str, Any]:
    read, build = _median_of(_CHILD_READ, run_dir, rounds), _median_of(_CHILD_BUILD, run_dir,
                                                                        rounds)
    csv_mb = sum(p.stat().st_size for p in run_dir.glob("requests*.csv")) / 2**20
    return {
        "requests": build["requests"], "csv_mb": csv_mb,
        "build": build, "read_reference": read,
        "build_vs_read_time": build["wall_s"] / read["wall_s"],
        "build_vs_read_rss": build["peak_rss_mb"] / read["peak_rss_mb"],
        "report_html_mb": (run_dir / "report.html").stat().st_size / 2**20,
        "expected_rto_s": EXPECTED_RTO_S,
        "meets_targets": build["wall_s"] <= TARGET_BUILD_S
        and build["peak_rss_mb"] <= TARGET_RSS_MB,
    }


def _seconds(value: float | None) -> str:
    return "none" if value is None else f"{value:.3f} s"


def _print(result: dict[str, Any]) -> None:
    build, read = result["build"], result["read_reference"]
    print(f"run folder: {result['requests']:,} requests in {GENERATORS} files "
          f"({result['csv_mb']:.0f} MB of CSV)")
    print(f"    build_reports   {build['wall_s']:6.2f} s  peak RSS {build['peak_rss_mb']:6.0f} MB"
          f"  (+{build['import_s']:.2f} s imports) -> {build['verdict']}, "
          f"RTO {_seconds(build['rto_s'])} (ground truth {EXPECTED_RTO_S:g} s + one spacing)")
    print(f"    pyarrow read    {read['wall_s']:6.2f} s  peak RSS {read['peak_rss_mb']:6.0f} MB"
          f"  (reference: read every column, nothing else)")
    print(f"    ratio build/read: {result['build_vs_read_time']:.1f}x time, "
          f"{result['build_vs_read_rss']:.1f}x memory; report.html "
          f"{result['report_html_mb']:.1f} MB; targets <= {TARGET_BUILD_S:g} s, "
          f"<= {TARGET_RSS_MB:g} MB: {'met' if result['meets_targets'] else 'MISSED'}")


def main(requests: int = 1_000_000, keep: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gameday-bench-report-") as tmp:
        run_dir = write_run((keep or Path(tmp)) / "run", requests=requests)
        result = measure(run_dir)
    _print(result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="write the run folder here")
    options = parser.parse_args()
    main(options.requests, options.keep)
