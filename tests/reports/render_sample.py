"""Write a synthetic run folder (region-a outage from 10 to 14 s, failover to region-b) and
build its reports, to look at the HTML: ``python tests/reports/render_sample.py <dir>``.

The tests import ``write_sample_run`` to get the same folder, with variants.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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
    EdgeServerSample,
    EventKind,
    EventLog,
    RecordWriter,
    RequestRecord,
    append_edge_samples,
)

__all__ = ["SAMPLE_SCENARIO", "T0_S", "SampleTrouble", "sample_suite", "write_sample_run"]

T0_S = 1_764_061_200.0  # 2025-11-25 09:00:00 UTC: the sample's load start
SAMPLE_SCENARIO = "region-outage"
_OUTAGE_S = (10.0, 14.0)  # seconds since load start
_FAILOVER_AFTER_S = 1.0  # the edge's health check notices the dead region
_COLD_AFTER_S = 0.5  # region-b answers slowly at first (cold cache)
_FAILBACK_AFTER_S = 0.6
_EDGE_MARKS_DOWN_AFTER_S = 0.9  # the edge's health checks fail (before failover completes)


@dataclass(frozen=True)
class SampleTrouble:
    """What went wrong beside the system, as the orchestrator logs it (all off by default)."""

    deviated: bool = False  # the steady-state hypothesis deviated after the fault
    rollback_failed: tuple[str, ...] | None = None  # rollback_failed event: still injected
    rollback_statuses: tuple[str, ...] = ("succeeded",)  # in fault_end and scenario_end
    load_stopped_by: str = ""  # load_end's stopped_by (a signal stopped the generator)
    no_run_end: bool = False  # the harness died: the log never ends


def sample_suite(rate_per_s: float = 50) -> Suite:
    return Suite(
        name="sample-outage",
        load=LoadProfile(arrival="poisson", rate_per_s=rate_per_s, duration_s=27, warmup_s=3,
                         seed=7),
        scenarios=[Scenario(name=SAMPLE_SCENARIO, experiment=Path("experiments/outage.json"),
                            offset_s=7, target_region="region-a")],
        slos=[AvailabilitySlo(kind="availability", objective=0.99),
              LatencySlo(kind="latency", percentile=99, threshold_s=0.25),
              RtoSlo(kind="rto", threshold_s=5)],
        measurement=Measurement(bucket_s=1.0, stability_window_s=5.0, latency_slo_s=0.25),
    )


def write_sample_run(run_dir: Path, *, saturated: bool = False, harness_error: str = "",
                     interrupted: bool = False, rolled_back: bool = True,
                     rate_per_s: float = 50, trouble: SampleTrouble = SampleTrouble(),
                     edge: bool = True) -> Path:
    """The sample run folder: suite.json, requests-gen0.csv, events.jsonl, a journal and
    (``edge``) edge.jsonl."""
    run_dir.mkdir(parents=True, exist_ok=True)
    suite = sample_suite(rate_per_s)
    (run_dir / "suite.json").write_text(json.dumps(suite.model_dump(mode="json"), indent=2))
    load = suite.primary_load
    rng = np.random.default_rng(load.seed)
    total_s = load.warmup_s + load.duration_s
    gaps = rng.exponential(1 / load.rate_per_s, size=int(total_s * load.rate_per_s * 2))
    offsets = np.cumsum(gaps)
    offsets = offsets[offsets < (20.0 if interrupted else total_s)]
    with RecordWriter(run_dir / "requests-gen0.csv") as writer:
        for offset in offsets:
            writer.write(_request(float(offset), rng, saturated=saturated,
                                  rolled_back=rolled_back))
    _write_events(run_dir, suite, float(offsets[-1]), harness_error=harness_error,
                  interrupted=interrupted, rolled_back=rolled_back, trouble=trouble)
    journal = {"status": "failed" if trouble.deviated else "completed",
               "deviated": trouble.deviated, "duration": 4.1,
               "rollbacks": [{"status": status} for status in trouble.rollback_statuses]}
    (run_dir / f"journal-{SAMPLE_SCENARIO}.json").write_text(json.dumps(journal))
    if edge:
        _write_edge(run_dir, rolled_back=rolled_back and not interrupted)
    return run_dir


def _write_edge(run_dir: Path, *, rolled_back: bool) -> None:
    """HAProxy's view: region-a's two servers marked down after the outage began, up after."""
    servers = (("tabular-a-0", "region-a"), ("tabular-a-1", "region-a"),
               ("tabular-b-0", "region-b"), ("tabular-b-1", "region-b"))
    samples = [EdgeServerSample(T0_S - 1.0, "tabular", name, region, True, "ready", "L7OK")
               for name, region in servers]
    for index, (name, region) in enumerate(servers[:2]):
        down_s = T0_S + _OUTAGE_S[0] + _EDGE_MARKS_DOWN_AFTER_S + 0.05 * index
        samples.append(EdgeServerSample(down_s, "tabular", name, region, False, "ready",
                                        "L4CON"))
        if rolled_back:
            samples.append(EdgeServerSample(T0_S + _OUTAGE_S[1] + 0.5, "tabular", name,
                                            region, True, "ready", "L7OK"))
    samples.append(EdgeServerSample(T0_S + 20.0, "tabular", "tabular-b-1", "region-b", True,
                                    "maint", "L7OK"))
    samples.append(EdgeServerSample(T0_S + 23.0, "tabular", "tabular-b-1", "region-b", True,
                                    "ready", "L7OK"))
    append_edge_samples(run_dir, sorted(samples, key=lambda sample: sample.t_s))


def _request(offset_s: float, rng: np.random.Generator, *, saturated: bool,
             rolled_back: bool) -> RequestRecord:
    scheduled_s = T0_S + offset_s
    lag_s = float(rng.exponential(0.0004))
    if saturated and offset_s > 5:
        lag_s += float(rng.uniform(0.02, 0.4))  # a generator that cannot keep up
    start_s = scheduled_s + lag_s
    fault_start, fault_end = _OUTAGE_S
    down = fault_start <= offset_s < fault_start + _FAILOVER_AFTER_S
    on_b = (fault_start + _FAILOVER_AFTER_S <= offset_s
            and (not rolled_back or offset_s < fault_end + _FAILBACK_AFTER_S))
    if down:
        return RequestRecord(scheduled_s, start_s, start_s + 0.002, "tabular", "predict", "",
                             503, False, "http_5xx")
    latency_s = float(rng.lognormal(np.log(0.008), 0.35))
    if on_b:
        latency_s += 0.040  # cross-region round trip
        if offset_s < fault_start + _FAILOVER_AFTER_S + _COLD_AFTER_S:
            latency_s += 0.300  # cold cache: ok but too slow for the RTO's latency bound
    region = "region-b" if on_b else "region-a"
    return RequestRecord(scheduled_s, start_s, start_s + latency_s, "tabular", "predict", region,
                         200, True)


def _write_events(run_dir: Path, suite: Suite, last_offset_s: float, *, harness_error: str,
                  interrupted: bool, rolled_back: bool, trouble: SampleTrouble) -> None:
    log = EventLog(run_dir / "events.jsonl")
    log.emit(EventKind.RUN_START, t_s=T0_S - 2.0, suite=suite.name)
    log.emit(EventKind.LOAD_START, t_s=T0_S, t0=T0_S, rate_per_s=suite.primary_load.rate_per_s)
    log.emit(EventKind.WARMUP_END, t_s=T0_S + suite.primary_load.warmup_s)
    log.emit(EventKind.SCENARIO_START, SAMPLE_SCENARIO, t_s=T0_S + 9.9)
    log.emit(EventKind.FAULT_START, SAMPLE_SCENARIO, t_s=T0_S + _OUTAGE_S[0],
             target_region="region-a")
    if harness_error:
        log.emit(EventKind.HARNESS_ERROR, t_s=T0_S + 12.0, message=harness_error)
    if interrupted:
        log.emit(EventKind.INTERRUPTED, t_s=T0_S + 20.0, reason="SIGINT", phase="fault")
        return
    rollbacks = list(trouble.rollback_statuses)
    if rolled_back:
        log.emit(EventKind.FAULT_END, SAMPLE_SCENARIO, t_s=T0_S + _OUTAGE_S[1],
                 target_region="region-a", rollbacks=rollbacks)
    if trouble.rollback_failed is not None:
        log.emit(EventKind.ROLLBACK_FAILED, SAMPLE_SCENARIO, t_s=T0_S + _OUTAGE_S[1],
                 still_injected=list(trouble.rollback_failed),
                 message="restore_region: region-a members did not come back")
    log.emit(EventKind.SCENARIO_END, SAMPLE_SCENARIO, t_s=T0_S + 15.0,
             status="failed" if trouble.deviated else "completed", deviated=trouble.deviated,
             rollbacks=rollbacks)
    log.emit(EventKind.LOAD_END, t_s=T0_S + last_offset_s + 0.05,
             stopped_by=trouble.load_stopped_by)
    if not trouble.no_run_end:
        log.emit(EventKind.RUN_END, t_s=T0_S + last_offset_s + 0.5)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} <run dir to create>", file=sys.stderr)
        return 2
    from reports import build_reports

    summary = build_reports(write_sample_run(Path(argv[1])))
    print(f"{summary.verdict} (exit {summary.exit_code}): {summary.reason}")
    print(Path(argv[1]).resolve() / "report.html")
    return 0


if __name__ == "__main__":
    # Run as a script, the repo root is not on sys.path, and an editable install made before
    # reports/ existed resolves ``reports`` to an empty namespace package.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    sys.exit(main(sys.argv))
