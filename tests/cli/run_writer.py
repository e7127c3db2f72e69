"""Synthetic run folders for the compare and trend tests: suite.json from a real Suite, requests
written with the real RecordWriter, events with the real EventLog.

The story (seconds since the load start): warm-up to 5 s (every request then 1 s slow, so a
warm-up that leaked in would show), a region-a outage from 30 to 35 s (every request in it
fails after 2 s), constant arrivals of ``rate_per_s`` to ``duration_s``, each ok latency drawn
lognormal around 20 ms plus ``shift_s``, each failing with probability ``error_rate``. A
labelled request (the edge's attack set) 5 s slow every second, which the samples must leave
out. With ``rag``, a rag stack answering too, each answer with its TTFT.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from gameday.config import AvailabilitySlo, LoadProfile, Measurement, Scenario, Suite
from gameday.records import EventKind, EventLog, RecordWriter, RequestRecord

T0 = 1_764_061_200.0
WARMUP_S, FAULT_S, FAULT_END_S = 5.0, 30.0, 35.0


def write_run(run_dir: Path, *, seed: int, shift_s: float = 0.0, error_rate: float = 0.002,
              rate_per_s: float = 50.0, duration_s: float = 60.0, suite: str = "nightly",
              started_at_s: float = T0, rag: bool = False, ttft_shift_s: float = 0.0) -> Path:
    run_dir.mkdir(parents=True)
    start_s = started_at_s
    stacks = ["tabular", "rag"] if rag else ["tabular"]
    suite_model = Suite(
        name=suite, stacks=stacks,
        load=[LoadProfile(rate_per_s=rate_per_s, duration_s=duration_s, warmup_s=WARMUP_S,
                          arrival="constant")],
        scenarios=[Scenario(name="region-outage", experiment=Path("experiments/outage.json"))],
        slos=[AvailabilitySlo(kind="availability", objective=0.5)],
        measurement=Measurement(bucket_s=1.0))
    (run_dir / "suite.json").write_text(json.dumps(suite_model.model_dump(mode="json")))
    rng = np.random.default_rng(seed)
    records = [*_requests(rng, start_s, "tabular", "predict", rate_per_s, duration_s, shift_s,
                          error_rate)]
    if rag:
        records += _requests(rng, start_s, "rag", "ask", rate_per_s / 2, duration_s, shift_s,
                             error_rate, ttft_shift_s=ttft_shift_s)
    records += [RequestRecord(start_s + k + 0.5, start_s + k + 0.5, start_s + k + 5.5,
                              "tabular", "attack", "region-a", 200, True, label="sqli")
                for k in range(int(duration_s))]
    with RecordWriter(run_dir / "requests-gen0.csv") as writer:
        for record in sorted(records, key=lambda r: r.scheduled_s):
            writer.write(record)
    _events(run_dir, start_s, duration_s)
    (run_dir / "journal-region-outage.json").write_text(json.dumps(
        {"status": "completed", "deviated": False, "rollbacks": [{"status": "succeeded"}]}))
    return run_dir


def _requests(rng: np.random.Generator, start_s: float, stack: str, endpoint: str,
              rate_per_s: float, duration_s: float, shift_s: float, error_rate: float, *,
              ttft_shift_s: float | None = None) -> list[RequestRecord]:
    count = int(rate_per_s * duration_s)
    latency_s = rng.lognormal(np.log(0.020), 0.3, size=count) + shift_s
    fails = rng.random(count) < error_rate
    records = []
    for k in range(count):
        at_s = round(start_s + k / rate_per_s, 6)
        offset_s = at_s - start_s
        ttft_s = None if ttft_shift_s is None else float(latency_s[k]) / 2 + ttft_shift_s
        if FAULT_S <= offset_s < FAULT_END_S:
            records.append(RequestRecord(at_s, at_s, at_s + 2.0, stack, endpoint, "", 0, False,
                                         "timeout"))
        elif fails[k]:
            records.append(RequestRecord(at_s, at_s, at_s + 0.002, stack, endpoint, "", 503,
                                         False, "http_5xx"))
        else:
            slow_s = 1.0 if offset_s < WARMUP_S else 0.0
            records.append(RequestRecord(at_s, at_s, at_s + float(latency_s[k]) + slow_s, stack,
                                         endpoint, "region-a", 200, True, ttft_s=ttft_s))
    return records


def _events(run_dir: Path, start_s: float, duration_s: float) -> None:
    log = EventLog(run_dir / "events.jsonl")
    log.emit(EventKind.RUN_START, t_s=start_s - 1)
    log.emit(EventKind.LOAD_START, t_s=start_s)
    log.emit(EventKind.WARMUP_END, t_s=start_s + WARMUP_S)
    log.emit(EventKind.SCENARIO_START, "region-outage", t_s=start_s + FAULT_S - 0.5)
    log.emit(EventKind.FAULT_START, "region-outage", t_s=start_s + FAULT_S,
             target_region="region-a")
    log.emit(EventKind.FAULT_END, "region-outage", t_s=start_s + FAULT_END_S,
             target_region="region-a")
    log.emit(EventKind.SCENARIO_END, "region-outage", t_s=start_s + FAULT_END_S + 0.5,
             deviated=False)
    log.emit(EventKind.LOAD_END, t_s=start_s + duration_s + 0.1)
    log.emit(EventKind.RUN_END, t_s=start_s + duration_s + 0.5)
