"""The shipped RAG suites run end to end as a user runs them (``gameday run``), judged
against ground truth the harness does not compute: the answers' own degraded marks and the
embedder freeze the fault action itself reported. End-to-end: each stands the rag stack up
(about a minute) and runs it for a minute and a half."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from tests.runs.run_helpers import REPO, RunFolder, run_gameday
from tests.runs.test_rpo_ground_truth import reachable_home

pytestmark = pytest.mark.e2e


def _run(suite_name: str, work: Path) -> RunFolder:
    document = yaml.safe_load((REPO / "suites" / f"{suite_name}.yaml").read_text())
    for scenario in document["scenarios"]:
        scenario["experiment"] = str(REPO / scenario["experiment"])
    suite = work / f"{suite_name}.yaml"
    suite.write_text(yaml.safe_dump(document))
    with reachable_home() as home:
        result = run_gameday("run", str(suite), "--runs-dir", str(work / "runs"), home=home,
                             timeout_s=600)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return RunFolder.only_one_in(work / "runs")


def _answers(run: RunFolder) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted(run.path.glob("requests-*.csv")):
        with path.open() as handle:
            rows += [r for r in csv.DictReader(handle) if r["endpoint"] in ("ask", "probe")]
    return rows


def test_a_frozen_embedder_is_answered_around_degraded_and_the_report_says_so(
        tmp_path: Path) -> None:
    run = _run("rag-degraded", tmp_path)
    summary = json.loads((run.path / "summary.json").read_text())
    (scenario,) = summary["scenarios"]
    assert scenario["journal_status"] == "completed", scenario
    start_s, end_s = scenario["fault_start_s"], scenario["fault_end_s"]
    # ground truth: the answers' own marks, read straight from the request files
    during = [r for r in _answers(run) if start_s + 1 <= float(r["scheduled_s"]) < end_s
              and r["ok"] == "1"]
    degraded = [r for r in during if r["degraded"] == "embedder"]
    assert during and len(degraded) / len(during) >= 0.8, (len(degraded), len(during))
    rag = summary["rag"]
    assert rag["scopes"]["during_faults"]["degraded_by"].get("embedder", 0) >= len(degraded)
    assert rag["modes"]["degraded"]["recall"]["n"] > 0
    assert 'id="rag-quality"' in (run.path / "report.html").read_text()
    cases = {s["case_name"]: s for s in summary["slos"]}
    assert cases["quality.recall.during_faults"]["measured"] is not None
    # ingests: the writer's own acknowledgements, and the store's marks on them
    ingests = [r for path in sorted(run.path.glob("requests-*.csv"))
               for r in csv.DictReader(path.open()) if r["endpoint"] == "ingest"]
    frozen = [r for r in ingests if start_s + 1 <= float(r["scheduled_s"]) < end_s - 1]
    assert frozen and all(r["ok"] == "1" and r["degraded"] == "embedder" for r in frozen)
    assert rag["ingests"]["during_faults"]["pending"] >= len(frozen)
    assert rag["ingests"]["all"]["availability"] == 1.0
    audit = json.loads((run.path / "audit.json").read_text())
    acknowledged = {int(r["seq"]) for r in ingests if r["ok"] == "1"}
    assert audit["error"] == "" and acknowledged <= set(audit["present"])
