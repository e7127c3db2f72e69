"""`gameday compare BASELINE CANDIDATE` on run folders written by the real record writers
(``tests/cli/run_writer.py``): two healthy runs judge Pass, 20 ms more latency judges High and
fails, too few samples judge Nodata (never Pass), the warm-up and the labelled attack requests
are left out, and bad input exits 2 naming what was wrong."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from reports.compare import judge_runs
from tests.cli.conftest import CliResult
from tests.cli.run_writer import FAULT_END_S, FAULT_S, WARMUP_S, write_run
from tests.html_refs import external_references

Cli = Callable[..., CliResult]
RATE, DURATION = 50.0, 60.0


def _judged(cli: Cli, tmp_path: Path, *argv: str) -> tuple[CliResult, dict]:
    out = tmp_path / "judgement.json"
    result = cli("compare", *argv, "--json", str(out))
    return result, json.loads(out.read_text())


def _metric(document: dict, name: str) -> dict:
    return next(m for m in document["metrics"] if m["name"] == name)


def test_two_healthy_runs_of_the_same_suite_judge_pass(cli: Cli, tmp_path: Path) -> None:
    base = write_run(tmp_path / "base", seed=1)
    cand = write_run(tmp_path / "cand", seed=2)
    result, document = _judged(cli, tmp_path, str(base), str(cand))
    assert result.code == 0, result.output
    assert "PASS" in result.output
    assert document["verdict"] == "pass" and document["regressed"] is False
    assert document["score"] == 100.0
    assert {m["class"] for m in document["metrics"]} == {"pass"}
    latency = _metric(document, "latency:tabular")
    assert latency["p_value"] > 0.02 or latency["ci_high"] - latency["ci_low"] < 0.004


def test_twenty_ms_more_latency_judges_high_and_fails(cli: Cli, tmp_path: Path) -> None:
    base = write_run(tmp_path / "base", seed=1)
    cand = write_run(tmp_path / "cand", seed=2, shift_s=0.020)
    result, document = _judged(cli, tmp_path, str(base), str(cand))
    assert result.code == 1
    latency = _metric(document, "latency:tabular")
    assert latency["class"] == "high" and latency["failed"] is True
    assert latency["hodges_lehmann"] == pytest.approx(0.020, abs=0.002)
    assert latency["ci_low"] > latency["tolerance"] > 0
    assert latency["p_value"] < 0.02
    assert document["regressed"] is True and document["verdict"] == "fail"
    assert "High" in result.output and "latency:tabular" in result.output
    assert judge_runs(base, cand).regressed


def test_a_faster_candidate_is_shown_low_and_passes(cli: Cli, tmp_path: Path) -> None:
    base = write_run(tmp_path / "base", seed=1, shift_s=0.020)
    cand = write_run(tmp_path / "cand", seed=2)
    result, document = _judged(cli, tmp_path, str(base), str(cand))
    latency = _metric(document, "latency:tabular")
    assert latency["class"] == "low" and latency["failed"] is False
    assert result.code == 0 and document["regressed"] is False


def test_too_few_samples_judge_nodata_never_pass(cli: Cli, tmp_path: Path) -> None:
    base = write_run(tmp_path / "base", seed=1)
    # 0.4 s of load after the warm-up: 20 latency samples, 1 availability bucket
    cand = write_run(tmp_path / "cand", seed=2, duration_s=WARMUP_S + 0.4)
    result, document = _judged(cli, tmp_path, str(base), str(cand))
    assert result.code == 1
    assert document["verdict"] == "nodata" and document["score"] is None
    assert {m["class"] for m in document["metrics"]} == {"nodata"}
    assert _metric(document, "latency:tabular")["n_candidate"] == 20
    assert "NODATA" in result.output


def test_the_warm_up_and_labelled_requests_are_left_out(cli: Cli, tmp_path: Path) -> None:
    base = write_run(tmp_path / "base", seed=1, error_rate=0.0)
    cand = write_run(tmp_path / "cand", seed=2, error_rate=0.0)
    _, document = _judged(cli, tmp_path, str(base), str(cand))
    latency = _metric(document, "latency:tabular")
    outage = (FAULT_END_S - FAULT_S) * RATE
    assert latency["n_baseline"] == (DURATION - WARMUP_S) * RATE - outage
    # the warm-up's 1 s and the attack set's 5 s answers would move the median far off 20 ms
    assert latency["median_baseline"] == pytest.approx(0.020, rel=0.05)


def test_the_scope_picks_the_requests(cli: Cli, tmp_path: Path) -> None:
    base = write_run(tmp_path / "base", seed=1, error_rate=0.0)
    cand = write_run(tmp_path / "cand", seed=2, error_rate=0.0)
    buckets = {}
    for scope in ("all", "outside_faults", "during_faults"):
        _, document = _judged(cli, tmp_path, str(base), str(cand), "--scope", scope)
        buckets[scope] = _metric(document, "availability:tabular")["n_baseline"]
        assert document["scope"] == scope
    assert buckets["all"] == DURATION - WARMUP_S
    # a request in flight when the fault began counts as during it: the second before it too
    assert buckets["during_faults"] == FAULT_END_S - FAULT_S + 1
    assert buckets["outside_faults"] == buckets["all"] - (FAULT_END_S - FAULT_S)


def test_the_rag_stack_is_judged_on_time_to_first_token(cli: Cli, tmp_path: Path) -> None:
    base = write_run(tmp_path / "base", seed=1, rag=True)
    cand = write_run(tmp_path / "cand", seed=2, rag=True, ttft_shift_s=0.050)
    result, document = _judged(cli, tmp_path, str(base), str(cand))
    assert _metric(document, "ttft:rag")["class"] == "high"
    assert _metric(document, "latency:rag")["class"] != "nodata"
    assert result.code == 1


def test_options_change_the_rules(cli: Cli, tmp_path: Path) -> None:
    base = write_run(tmp_path / "base", seed=1)
    cand = write_run(tmp_path / "cand", seed=2, shift_s=0.020)
    # a tolerance of 2 (200 % of the median) lets 20 ms through
    result, document = _judged(cli, tmp_path, str(base), str(cand),
                               "--tolerance", "latency:tabular=2")
    assert result.code == 0 and _metric(document, "latency:tabular")["class"] == "pass"
    # availability weighted 9: one failed metric of weight 1 leaves 90: marginal
    result, document = _judged(cli, tmp_path, str(base), str(cand), "--weight",
                               "availability=9", "--marginal-score", "80")
    assert document["score"] == pytest.approx(90.0) and document["verdict"] == "marginal"
    assert result.code == 1
    # a floor of 30 ms does too, and says so
    result, document = _judged(cli, tmp_path, str(base), str(cand),
                               "--tolerance-floor", "latency=0.030")
    latency = _metric(document, "latency:tabular")
    assert latency["class"] == "pass" and latency["tolerance"] == pytest.approx(0.030)
    assert latency["tolerance_floor"] == 0.030 and ">= 30.000 ms" in result.output
    result, document = _judged(cli, tmp_path, str(base), str(cand), "--weight",
                               "availability=99", "--critical", "latency")
    assert document["verdict"] == "fail" and "critical" in document["reason"]


def test_the_html_page_is_self_contained(cli: Cli, tmp_path: Path) -> None:
    base = write_run(tmp_path / "base", seed=1)
    cand = write_run(tmp_path / "cand", seed=2, shift_s=0.020)
    page = tmp_path / "compare.html"
    result = cli("compare", str(base), str(cand), "--html", str(page))
    assert result.code == 1
    html = page.read_text()
    assert "latency:tabular" in html and "Hodges" in html and "Mann" in html
    references = external_references(html)
    assert references.found == [] and references.inline_scripts >= 2


@pytest.mark.parametrize(("argv", "expected"), [
    (["--scope", "everything"], "--scope"),
    (["--tolerance", "latency"], "METRIC=NUMBER"),
    (["--tolerance", "speed=0.1"], "unknown metric 'speed'"),
    (["--weight", "latency=0"], "weight must be > 0"),
    (["--tolerance-floor", "latency=-1"], "--tolerance-floor"),
    (["--tolerance", "latency=nan"], "tolerance must be >= 0"),
    (["--confidence", "1.5"], "--confidence"),
    (["--pass-score", "50", "--marginal-score", "60"], "--pass-score"),
    (["--bucket-s", "0"], "--bucket-s"),
])
def test_bad_options_exit_2_naming_the_option(cli: Cli, tmp_path: Path, argv: list[str],
                                              expected: str) -> None:
    base = write_run(tmp_path / "base", seed=1)
    result = cli("compare", str(base), str(base), *argv)
    assert result.code == 2, result.output
    assert expected in result.output


def test_a_folder_that_is_not_a_run_exits_2_naming_it(cli: Cli, tmp_path: Path) -> None:
    base = write_run(tmp_path / "base", seed=1)
    empty = tmp_path / "not-a-run"
    empty.mkdir()
    result = cli("compare", str(base), str(empty))
    assert result.code == 2
    assert "not-a-run" in result.output and "events.jsonl" in result.output
    result = cli("compare", str(base), str(base), "--json", str(tmp_path / "no" / "x.json"))
    assert result.code == 2 and "--json" in result.output


@pytest.mark.parametrize("make", ["missing", "empty", "no-suite"])
def test_run_with_a_baseline_that_is_not_a_run_exits_2_before_anything_starts(
        cli: Cli, tmp_path: Path, write_suite: Callable[..., Path], untouched_home: Path,
        make: str) -> None:
    baseline = tmp_path / "baseline"
    if make != "missing":
        baseline.mkdir()
    if make == "no-suite":
        (baseline / "events.jsonl").write_text("")
    runs = tmp_path / "runs"
    suite = write_suite(lambda document: None)
    result = cli("run", str(suite), "--runs-dir", str(runs), "--baseline", str(baseline))
    assert result.code == 2, result.output
    assert str(baseline) in result.output and "not a run folder" in result.output
    assert not runs.exists() and not untouched_home.exists()
