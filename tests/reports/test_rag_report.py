"""The RAG part of the reports on a hand-made rag run folder: the section and its panels in
report.html, the figures in summary.json, the RAG SLOs as JUnit cases, all rebuilt from the
folder alone."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gameday.config import Suite
from gameday.records import EventKind, EventLog, RecordWriter, RequestRecord
from reports import build_reports

T0_S = 1_800_000_000.0
FAULT_S = (20.0, 30.0)  # from the load start


def _suite() -> Suite:
    return Suite.model_validate({
        "name": "rag-sample", "stacks": ["rag"],
        "load": [{"name": "ask", "stack": "rag", "endpoint": "ask", "rate_per_s": 2,
                  "duration_s": 40, "warmup_s": 2}],
        "scenarios": [{"name": "region-outage", "experiment": "experiments/region-outage.json"}],
        "slos": [{"kind": "ttft", "percentile": 99, "threshold_s": 1.0},
                 {"kind": "quality", "metric": "recall", "objective": 0.8, "scope": "all"},
                 {"kind": "degraded_share", "max_share": 0.1, "scope": "during_faults"}]})


def _answer(offset_s: float) -> RequestRecord:
    during = FAULT_S[0] <= offset_s < FAULT_S[1]
    t_s = T0_S + offset_s
    return RequestRecord(
        scheduled_s=t_s, start_s=t_s, end_s=t_s + 0.4, stack="rag", endpoint="ask",
        region="region-b" if during else "region-a", status=200, ok=True, ttft_s=0.25,
        itl_s=(0.02, 0.02), question=f"kb-{int(offset_s):06d}-q0",
        variant="hybrid" if int(offset_s * 2) % 2 else "vector", cache="miss",
        degraded="embedder" if during else "", stream="complete",
        recall=0.0 if during else 1.0, correct=0.0 if during else 1.0, f1=0.5)


@pytest.fixture(scope="module")
def rag_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("run") / "20261202T000000Z-rag-sample"
    run_dir.mkdir()
    suite = _suite()
    (run_dir / "suite.json").write_text(json.dumps(suite.model_dump(mode="json")))
    with RecordWriter(run_dir / "requests-ask.csv") as writer:
        for step in range(84):  # every 0.5 s for 42 s
            writer.write(_answer(step * 0.5))
    with RecordWriter(run_dir / "requests-ingest.csv") as writer:
        for step in range(4, 40):  # one a second; stored pending while the fault lasts
            during = FAULT_S[0] <= step < FAULT_S[1]
            writer.write(RequestRecord(T0_S + step, T0_S + step, T0_S + step + 0.1, "rag",
                                       "ingest", "region-b" if during else "region-a", 201,
                                       True, degraded="embedder" if during else "",
                                       seq=step))
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
    log.emit(EventKind.LOAD_END, t_s=T0_S + 42)
    log.emit(EventKind.RUN_END, t_s=T0_S + 43)
    build_reports(run_dir)
    return run_dir


def test_summary_json_has_the_rag_figures(rag_run: Path) -> None:
    rag = json.loads((rag_run / "summary.json").read_text())["rag"]
    during, outside = rag["scopes"]["during_faults"], rag["scopes"]["outside_faults"]
    assert during["answers"] == 20 and during["degraded"] == 20
    assert during["recall"]["mean"] == 0.0 and outside["recall"]["mean"] == 1.0
    assert rag["modes"]["degraded"]["answers"] == 20
    assert set(rag["variants"]) == {"vector", "hybrid"}
    assert rag["bucket_s"] == 5.0
    recall_by_bucket = [b["recall"] for b in rag["buckets"]]
    assert recall_by_bucket[3] == 1.0 and recall_by_bucket[4] == 0.0  # 15-20 s, 20-25 s


def test_the_rag_slos_are_judged_and_become_junit_cases(rag_run: Path) -> None:
    slos = {s["case_name"]: s for s in json.loads((rag_run / "summary.json").read_text())["slos"]}
    assert slos["ttft.p99.outside_faults"]["passed"] is True
    assert slos["ttft.p99.outside_faults"]["measured"] == pytest.approx(0.25)
    # 20 of the 80 answers after the warm-up were wrong: recall 0.75 < 0.8
    assert slos["quality.recall.all"]["measured"] == pytest.approx(0.75)
    assert slos["quality.recall.all"]["passed"] is False
    assert slos["degraded_share.during_faults"]["measured"] == 1.0
    root = ET.parse(rag_run / "junit.xml").getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["quality.recall.all"].find("failure") is not None
    assert cases["ttft.p99.outside_faults"].find("failure") is None
    assert json.loads((rag_run / "summary.json").read_text())["exit_code"] == 1


def test_report_html_shows_the_rag_section_and_panels(rag_run: Path) -> None:
    html = (rag_run / "report.html").read_text()
    for anchor in ('id="rag"', 'id="rag-latency"', 'id="rag-quality"',
                   "RAG A/B: retrieval variants", 'id="rag-recall-degraded"'):
        assert anchor in html
    assert "Degraded answers by fallback: embedder: 20." in html
    assert 'id="rag-ingests-pending-during_faults">10<' in html
    assert 'id="rag-ingests-acknowledged-all">36 (100.000%)<' in html
