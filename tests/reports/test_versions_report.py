"""The model-versions part of the reports on a hand-made hot-swap run: what summary.json and
report.html say about each fault window, rebuilt from the folder alone.

10 requests a second from T0 for 30 s, all served by region-a except during the window. The
hot-swap (version 1 -> 2 in region-a) is in force from +10 to +20 s: region-a answers version 1
until +12 s and version 2 after, but for one version-1 answer at +14 s (a flap); one request
at +15 s fails and one at +16 s takes 0.4 s (the latency bound is 0.25 s); region-b answers
version 1 for every tenth request of the window.
After the rollback region-a answers version 1 again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gameday.config import Suite
from gameday.records import EventKind, EventLog, RecordWriter, RequestRecord
from reports import build_reports

T0_S = 1_800_000_000.0
WINDOW_S = (10.0, 20.0)


def _suite() -> Suite:
    return Suite.model_validate({
        "name": "hot-swap-sample", "stacks": ["triton"], "replicas": 1,
        "load": [{"stack": "triton", "endpoint": "infer", "rate_per_s": 10, "duration_s": 30,
                  "warmup_s": 2}],
        "scenarios": [{"name": "hot-swap", "experiment": "experiments/triton-hot-swap.json",
                       "target_region": "region-a"}],
        "slos": [{"kind": "availability", "objective": 0.9, "scope": "outside_faults"}]})


def _record(step: int) -> RequestRecord:
    offset_s = step * 0.1
    t_s = T0_S + offset_s
    inside = WINDOW_S[0] <= offset_s < WINDOW_S[1]
    region, version = "region-a", "1"
    if inside and step % 10 == 5:
        region = "region-b"
    elif inside and offset_s >= 12.0 and step != 140:
        version = "2"
    if step == 150:  # +15 s: no good answer
        return RequestRecord(t_s, t_s, t_s + 2.0, "triton", "infer", "", 0, False, "timeout")
    latency_s = 0.4 if step == 160 else 0.01
    return RequestRecord(t_s, t_s, t_s + latency_s, "triton", "infer", region, 200, True,
                         model_version=version)


@pytest.fixture(scope="module")
def swap_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("run") / "20261202T000000Z-hot-swap-sample"
    run_dir.mkdir()
    (run_dir / "suite.json").write_text(json.dumps(_suite().model_dump(mode="json")))
    with RecordWriter(run_dir / "requests-gen0.csv") as writer:
        for step in range(300):
            writer.write(_record(step))
    log = EventLog(run_dir / "events.jsonl")
    log.emit(EventKind.RUN_START, t_s=T0_S - 1)
    log.emit(EventKind.LOAD_START, t_s=T0_S)
    log.emit(EventKind.WARMUP_END, t_s=T0_S + 2)
    log.emit(EventKind.SCENARIO_START, "hot-swap", t_s=T0_S + WINDOW_S[0] - 0.5)
    log.emit(EventKind.FAULT_START, "hot-swap", t_s=T0_S + WINDOW_S[0],
             target_region="region-a")
    log.emit(EventKind.FAULT_END, "hot-swap", t_s=T0_S + WINDOW_S[1])
    log.emit(EventKind.SCENARIO_END, "hot-swap", t_s=T0_S + WINDOW_S[1] + 0.1,
             status="completed", deviated=False)
    log.emit(EventKind.LOAD_END, t_s=T0_S + 30)
    log.emit(EventKind.RUN_END, t_s=T0_S + 31)
    build_reports(run_dir)
    return run_dir


def test_summary_json_counts_versions_failed_slowed_and_mixed_in_the_window(
        swap_run: Path) -> None:
    (window,) = json.loads((swap_run / "summary.json").read_text())["versions"]
    assert window["scenario"] == "hot-swap" and window["target_region"] == "region-a"
    # region-a in the window: 100 scheduled, 10 went to region-b; the failed one had no region
    target = window["target"]
    assert target["requests"] == 89 and target["failed"] == 0
    assert target["by_version"] == {"1": 19, "2": 70}  # +10.0..+11.9 s but two, and +14 s
    assert target["slowed"] == 1  # the 0.4 s answer at +16 s
    assert window["final_version"] == "2" and window["mixed"] == 1  # the flap at +14 s
    assert window["switched_after_s"] == pytest.approx(2.01)  # v2 answered from +12 s
    others = window["others"]  # region-b's ten and the failed request
    assert others["requests"] == 11 and others["failed"] == 1
    assert others["by_version"] == {"1": 10}
    assert window["before"] == {"requests": 50, "by_version": {"1": 50}, "failed": 0,
                                "slowed": 0}
    assert window["after"]["by_version"] == {"1": 50}


def test_report_html_shows_the_versions_table_with_ids_on_its_cells(swap_run: Path) -> None:
    html = (swap_run / "report.html").read_text()
    assert 'id="versions"' in html and "Model versions around each fault" in html
    assert 'id="versions-mixed-hot-swap-0">1<' in html
    assert 'id="versions-final-hot-swap-0">2<' in html
    assert 'id="versions-target-hot-swap-0">region-a: 89 requests (v1 19, v2 70)<' in html
    assert 'id="versions-others-hot-swap-0">11 requests (v1 10); 1 failed, 0 slowed<' in html


def test_a_run_whose_answers_name_no_version_has_no_versions_section(
        tmp_path: Path, sample) -> None:  # type: ignore[no-untyped-def]
    run_dir = tmp_path / "20261202T000000Z-sample"
    sample.write_sample_run(run_dir)
    summary = build_reports(run_dir)
    assert summary.versions is None
    assert 'id="versions"' not in (run_dir / "report.html").read_text()
    assert json.loads((run_dir / "summary.json").read_text())["versions"] is None
