"""`gameday trend RUN_DIR...` on nightly run folders written by the real record writers: the
runs are put in start order whatever order the shell gave them, a latency step planted at one
night is found at that night, a flat history has no change point, runs of another suite and
paths that are not runs are skipped with the reason, and bad input exits 2."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import CliResult
from tests.cli.run_writer import T0, write_run
from tests.html_refs import external_references

Cli = Callable[..., CliResult]
DAY_S = 86_400.0
NIGHTS, STEP_AT = 12, 7


def _nightly(tmp_path: Path, *, step_s: float = 0.0, nights: int = NIGHTS) -> list[Path]:
    """A run a night; from night STEP_AT every answer ``step_s`` slower. Folder names sort
    in the reverse of the nights, so only the start times give the order."""
    return [write_run(tmp_path / f"run-{nights - night:02d}", seed=night, duration_s=30.0,
                      started_at_s=T0 + night * DAY_S,
                      shift_s=step_s if night >= STEP_AT else 0.0)
            for night in range(nights)]


def _trend(cli: Cli, tmp_path: Path, *argv: str) -> tuple[CliResult, dict]:
    out = tmp_path / "trend.json"
    result = cli("trend", *argv, "--json", str(out))
    return result, json.loads(out.read_text()) if out.exists() else {}


def _series(document: dict, name: str) -> dict:
    return next(s for s in document["series"] if s["name"] == name)


def test_a_latency_step_is_found_at_the_night_it_began(cli: Cli, tmp_path: Path) -> None:
    runs = _nightly(tmp_path, step_s=0.015)
    result, document = _trend(cli, tmp_path, *map(str, sorted(runs)))
    assert result.code == 0, result.output
    assert [r["started_at_s"] for r in document["runs"]] == sorted(
        r["started_at_s"] for r in document["runs"])
    assert document["runs"][0]["run"] == f"run-{NIGHTS:02d}"
    p50 = _series(document, "latency p50:tabular")
    assert [point["index"] for point in p50["change_points"]] == [STEP_AT]
    point = p50["change_points"][0]
    assert point["run"] == f"run-{NIGHTS - STEP_AT:02d}"
    assert point["mean_after"] - point["mean_before"] == pytest.approx(0.015, abs=0.002)
    assert "latency p50:tabular" in result.output and f"run-{NIGHTS - STEP_AT:02d}" in result.output


def test_a_flat_history_has_no_change_point(cli: Cli, tmp_path: Path) -> None:
    runs = _nightly(tmp_path)
    result, document = _trend(cli, tmp_path, *map(str, runs))
    assert result.code == 0
    assert all(series["change_points"] == [] for series in document["series"])
    assert {s["name"] for s in document["series"]} == {
        "latency p50:tabular", "latency p99:tabular", "availability:tabular"}


def test_few_runs_are_said_to_be_few(cli: Cli, tmp_path: Path) -> None:
    runs = _nightly(tmp_path, nights=5)
    result, document = _trend(cli, tmp_path, *map(str, runs))
    assert result.code == 0 and len(document["runs"]) == 5
    assert "5 runs: with fewer than 10" in result.output


def test_other_suites_and_non_runs_are_skipped_with_the_reason(cli: Cli,
                                                                tmp_path: Path) -> None:
    runs = _nightly(tmp_path, nights=4)
    other = write_run(tmp_path / "other", seed=99, suite="smoke", started_at_s=T0 - DAY_S)
    stray = tmp_path / "notes"
    stray.mkdir()
    result, document = _trend(cli, tmp_path, *map(str, [*runs, other, stray]))
    assert result.code == 0
    assert document["suite"] == "nightly" and len(document["runs"]) == 4
    reasons = {Path(s["path"]).name: s["reason"] for s in document["skipped"]}
    assert reasons == {"other": "suite smoke, not nightly",
                       "notes": "not a run folder (no events.jsonl)"}
    assert "skipped" in result.output
    result, document = _trend(cli, tmp_path, *map(str, [*runs, other]), "--any-suite")
    assert len(document["runs"]) == 5 and document["suite"] is None
    result, document = _trend(cli, tmp_path, *map(str, [*runs, other]), "--suite", "smoke")
    assert [r["run"] for r in document["runs"]] == ["other"]


def test_the_html_page_marks_the_change_point(cli: Cli, tmp_path: Path) -> None:
    runs = _nightly(tmp_path, step_s=0.015)
    page = tmp_path / "trend.html"
    result = cli("trend", *map(str, runs), "--html", str(page))
    assert result.code == 0
    html = page.read_text()
    assert "latency p99:tabular" in html and f"run-{NIGHTS - STEP_AT:02d}" in html
    references = external_references(html)
    assert references.found == [] and references.inline_scripts >= 2


@pytest.mark.parametrize(("argv", "expected"), [
    (["--scope", "nights"], "--scope"),
    (["--pvalue", "1"], "--pvalue"),
    (["--permutations", "0"], "--permutations"),
    (["--suite", "nightly", "--any-suite"], "exclude each other"),
])
def test_bad_options_exit_2_naming_the_option(cli: Cli, tmp_path: Path, argv: list[str],
                                              expected: str) -> None:
    run = write_run(tmp_path / "run", seed=1)
    result = cli("trend", str(run), *argv)
    assert result.code == 2 and expected in result.output


def test_no_run_folder_left_exits_2_saying_why(cli: Cli, tmp_path: Path) -> None:
    stray = tmp_path / "notes"
    stray.mkdir()
    result = cli("trend", str(stray), str(tmp_path / "missing"))
    assert result.code == 2
    assert "no run folder" in result.output and "notes" in result.output
