"""The Triton part of the reports on a hand-made triton run folder: the section, its cell ids
and panels in report.html and the figures in summary.json, rebuilt from the folder alone.

Load start T0, region-a's outage from +10 to +20 s. triton-server-b1 is scraped every second:
20 inferences/s in batches of 4 outside the outage, 60/s in batches of 10 during it (queue
70 % of its server time). triton-server-a1 serves 40/s in batches of 4, is not scraped during
the outage and comes back at +21 s with its counters restarted from zero."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gameday.config import Suite
from gameday.errors import MeasurementError
from gameday.records import EventKind, EventLog, RecordWriter, RequestRecord
from gameday.tritonrecords import TRITON_FILE, TritonSample, append_triton_samples
from reports import build_reports
from reports.run_folder import read_run_folder

T0_S = 1_800_000_000.0
FAULT_S = (10.0, 20.0)
A1, B1 = "triton-server-a1", "triton-server-b1"


def _suite() -> Suite:
    return Suite.model_validate({
        "name": "triton-sample", "stacks": ["triton"], "replicas": 1,
        "load": [{"stack": "triton", "endpoint": "infer", "rate_per_s": 10, "duration_s": 38,
                  "warmup_s": 2}],
        "scenarios": [{"name": "region-outage", "experiment": "experiments/region-outage.json",
                       "target_region": "region-a"}],
        "slos": [{"kind": "availability", "objective": 0.99, "scope": "outside_faults"}]})


def _sample(member: str, offset_s: float, inferences: int, executions: int, queue_us: int,
            gpu: bool) -> TritonSample:
    return TritonSample(
        t_s=T0_S + offset_s, member=member, region="region-a" if member == A1 else "region-b",
        model="fraud", version="1", inference_count=inferences, exec_count=executions,
        request_success=inferences, failure_by_reason={"REJECTED": 0},
        request_us=1000.0 * inferences, queue_us=queue_us, compute_infer_us=200.0 * inferences,
        queue_p99_us=2500.0, gpu_utilization=0.4 if gpu else None,
        gpu_memory_used_bytes=2**31 if gpu else None,
        gpu_memory_total_bytes=2**33 if gpu else None)


def _samples(gpu: bool = False) -> list[TritonSample]:
    samples, inferences, executions, queue_us = [], 0, 0, 0
    for second in range(40):
        if FAULT_S[0] < second <= FAULT_S[1]:
            inferences, executions, queue_us = inferences + 60, executions + 6, queue_us + 42000
        elif second:
            inferences, executions, queue_us = inferences + 20, executions + 5, queue_us + 4000
        samples.append(_sample(B1, second, inferences, executions, queue_us, gpu))
    samples += [_sample(A1, s, 40 * s, 10 * s, 8000 * s, gpu) for s in range(10)]
    samples += [_sample(A1, s, 40 * (s - 20), 10 * (s - 20), 8000 * (s - 20), gpu)
                for s in range(21, 40)]  # restarted at +20 s
    return samples


def _write_run(run_dir: Path, gpu: bool = False) -> Path:
    run_dir.mkdir(parents=True)
    (run_dir / "suite.json").write_text(json.dumps(_suite().model_dump(mode="json")))
    with RecordWriter(run_dir / "requests-gen0.csv") as writer:
        for step in range(400):
            t_s = T0_S + step * 0.1
            during = FAULT_S[0] <= step * 0.1 < FAULT_S[1]
            writer.write(RequestRecord(t_s, t_s, t_s + 0.01, "triton", "infer",
                                       "region-b" if during else "region-a", 200, True))
    append_triton_samples(run_dir, _samples(gpu))
    log = EventLog(run_dir / "events.jsonl")
    log.emit(EventKind.RUN_START, t_s=T0_S - 1)
    log.emit(EventKind.LOAD_START, t_s=T0_S)
    log.emit(EventKind.WARMUP_END, t_s=T0_S + 2)
    log.emit(EventKind.SCENARIO_START, "region-outage", t_s=T0_S + FAULT_S[0] - 0.1)
    log.emit(EventKind.FAULT_START, "region-outage", t_s=T0_S + FAULT_S[0],
             target_region="region-a")
    log.emit(EventKind.FAULT_END, "region-outage", t_s=T0_S + FAULT_S[1])
    log.emit(EventKind.SCENARIO_END, "region-outage", t_s=T0_S + FAULT_S[1] + 0.1,
             status="completed", deviated=False)
    log.emit(EventKind.LOAD_END, t_s=T0_S + 40)
    log.emit(EventKind.RUN_END, t_s=T0_S + 41)
    return run_dir


@pytest.fixture(scope="module")
def triton_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = _write_run(tmp_path_factory.mktemp("run") / "20261202T000000Z-triton-sample")
    build_reports(run_dir)
    return run_dir


def test_summary_json_has_the_triton_figures_per_scope_member_and_bucket(
        triton_run: Path) -> None:
    triton = json.loads((triton_run / "summary.json").read_text())["triton"]
    b1 = triton["members"][B1]
    assert b1["during_faults"]["batch_size"] == pytest.approx(10.0)  # 600 / 60
    assert b1["during_faults"]["queue_share"] == pytest.approx(0.7)  # 420000 / 600000 µs
    assert b1["outside_faults"]["batch_size"] == pytest.approx(4.0)
    # a1's interval across its outage (+9 to +21 s) overlaps the fault: 40 rows, 10 runs
    assert triton["members"][A1]["during_faults"]["inferences"] == 40
    assert triton["scopes"]["during_faults"]["batch_size"] == pytest.approx(640 / 70)
    assert triton["scopes"]["during_faults"]["gpu_utilization"] is None
    assert triton["bucket_s"] == 2.0 and triton["buckets"][0]["t_s"] == 0.0
    assert triton["buckets"][7]["batch_size"] == pytest.approx(10.0)  # +14 to +16 s, b1 only


def test_report_html_shows_the_triton_section_with_ids_on_its_cells(triton_run: Path) -> None:
    html = (triton_run / "report.html").read_text()
    for anchor in ('id="triton"', 'id="triton-definitions"', 'id="triton-time"',
                   'id="triton-batching"', "Triton: queue vs compute, batching, throughput"):
        assert anchor in html
    assert 'id="triton-batch-during_faults">9.14<' in html
    assert f'id="triton-batch-{B1}-during_faults">10.00<' in html
    assert f'id="triton-queue-share-{B1}-during_faults">70.000%<' in html
    assert f'id="triton-queue-{B1}-during_faults">0.7 ms<' in html
    assert 'id="triton-gpu-panel"' not in html and 'id="triton-gpu-all">—<' in html


def test_a_gpu_run_gets_the_gpu_panel_and_figures(tmp_path: Path) -> None:
    run_dir = _write_run(tmp_path / "20261202T000000Z-triton-gpu", gpu=True)
    build_reports(run_dir)
    html = (run_dir / "report.html").read_text()
    assert 'id="triton-gpu-panel"' in html and 'id="triton-gpu-all">40.000%<' in html
    scopes = json.loads((run_dir / "summary.json").read_text())["triton"]["scopes"]
    assert scopes["all"]["gpu_memory_used_max_bytes"] == 2**31


def test_a_run_without_triton_jsonl_has_no_triton_section(tmp_path: Path) -> None:
    run_dir = _write_run(tmp_path / "20261202T000000Z-triton-none")
    (run_dir / TRITON_FILE).unlink()
    summary = build_reports(run_dir)
    assert summary.triton is None
    assert 'id="triton"' not in (run_dir / "report.html").read_text()
    assert json.loads((run_dir / "summary.json").read_text())["triton"] is None


def test_a_damaged_triton_jsonl_is_a_measurement_error_naming_the_line(tmp_path: Path) -> None:
    run_dir = _write_run(tmp_path / "20261202T000000Z-triton-damaged")
    lines = (run_dir / TRITON_FILE).read_text().splitlines()
    lines[3] = "not json"
    (run_dir / TRITON_FILE).write_text("\n".join(lines) + "\n")
    with pytest.raises(MeasurementError, match=rf"{TRITON_FILE}: line 4: not a Triton"):
        read_run_folder(run_dir)


def test_samples_of_a_stack_the_suite_does_not_run_are_not_read(tmp_path: Path) -> None:
    run_dir = _write_run(tmp_path / "20261202T000000Z-tabular")
    suite = _suite().model_dump(mode="json")
    suite.update(stacks=["tabular"], load=[{**suite["load"][0], "stack": "tabular",
                                            "endpoint": "predict"}])
    (run_dir / "suite.json").write_text(json.dumps(suite))
    assert read_run_folder(run_dir).triton is None
