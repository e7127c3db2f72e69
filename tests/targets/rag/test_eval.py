"""``gameday eval rag`` against a real replica seeded with the 400 base documents: every
labelled question asked once per variant, the figures printed and written as JSON alike; bad
input exits 2 before anything is asked."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gameday.cli import main


@dataclass(frozen=True)
class _Run:
    code: int
    stdout: str
    output: str  # stdout and stderr together
    figures: dict[str, Any]  # the --json file, {} without one


def _eval(*argv: str, json_path: Path | None = None) -> _Run:
    """``gameday eval <argv>`` in-process, on a console wide enough that no row wraps."""
    stdout, stderr = io.StringIO(), io.StringIO()
    args = [*argv, "--json", str(json_path)] if json_path else list(argv)
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(stdout), \
            contextlib.redirect_stderr(stderr):
        patch.setenv("COLUMNS", "250")
        code = main(["eval", *args])
    figures = json.loads(json_path.read_text()) if json_path and json_path.exists() else {}
    output = stdout.getvalue() + stderr.getvalue()
    assert "Traceback" not in output
    return _Run(code, stdout.getvalue(), output, figures)


QUESTIONS = 200


@pytest.fixture(scope="module")
def evaluation(replica: str, tmp_path_factory: pytest.TempPathFactory) -> _Run:
    """The eval of the first 200 labelled questions (k = 5) of the replica, once for the
    module (all 800 take two minutes on two cores: the default test run stays short)."""
    return _eval("rag", "--url", replica, "--questions", str(QUESTIONS),
                 json_path=tmp_path_factory.mktemp("eval") / "e.json")


def _rows(stdout: str) -> dict[str, list[str]]:
    """The table's body rows by their first cell."""
    rows = {}
    for line in stdout.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if cells and cells[0]:
            rows[cells[0]] = cells[1:]
    return rows


def _cell(estimate: dict[str, float], signed: bool = False) -> str:
    number = "{:+.3f}" if signed else "{:.3f}"
    return " ".join((number.format(estimate["mean"]),
                     f"[{number.format(estimate['low'])}, {number.format(estimate['high'])}]"))


def test_every_base_question_is_answered_under_both_variants(evaluation: _Run) -> None:
    assert evaluation.code == 0, evaluation.output
    variants = {v["variant"]: v for v in evaluation.figures["variants"]}
    assert sorted(variants) == ["hybrid", "vector"]
    for figures in variants.values():
        assert (figures["asked"], figures["n"], figures["errors"]) == (QUESTIONS, QUESTIONS, {})


def test_vector_retrieval_finds_most_gold_passages_and_hybrid_the_twins_too(
        evaluation: _Run) -> None:
    """Measured over all 800: vector recall@5 0.806 [0.777, 0.832], hybrid 0.984 [0.972,
    0.990]. The
    corpus's digit-swapped twins (kestrel-41 / kestrel-14) embed alike and only the keyword
    side tells them apart, so hybrid must beat vector beyond doubt."""
    vector, hybrid = evaluation.figures["variants"]
    (difference,) = evaluation.figures["differences"]
    assert vector["recall"]["mean"] >= 0.75, vector["recall"]
    assert hybrid["recall"]["low"] >= 0.93, hybrid["recall"]
    assert difference["recall"]["low"] > 0 and difference["mrr"]["low"] > 0, difference
    for figures in (vector, hybrid):  # the span is read from the passage that was found
        assert figures["exact_match"]["mean"] >= figures["recall"]["mean"] - 0.05, figures
        assert figures["f1"]["mean"] >= figures["exact_match"]["mean"]


def test_the_printed_table_shows_the_figures_the_json_file_holds(evaluation: _Run) -> None:
    rows = _rows(evaluation.stdout)
    for figures in evaluation.figures["variants"]:
        n, recall, mrr, em, f1, errors, *_ = rows[figures["variant"]]
        assert (n, errors) == (str(figures["n"]), "0")
        assert [recall, mrr, em, f1] == [_cell(figures[key]) for key in
                                         ("recall", "mrr", "exact_match", "f1")]
    (difference,) = evaluation.figures["differences"]
    n, recall, mrr, em, f1, *_ = rows["hybrid − vector"]
    assert n == str(difference["n"]) == str(QUESTIONS)
    assert [recall, mrr, em, f1] == [_cell(difference[key], signed=True) for key in
                                     ("recall", "mrr", "exact_match", "f1")]


def test_asking_again_within_the_cache_ttl_is_answered_from_the_cache(
        evaluation: _Run, replica: str, tmp_path: Path) -> None:
    again = _eval("rag", "--url", replica, "--questions", "20",
                  json_path=tmp_path / "again.json")
    assert again.code == 0, again.output
    for figures in again.figures["variants"]:
        assert figures["n"] == 20
        assert figures["cache_hits"] == 20  # /ask has no way to bypass the cache
    assert _rows(again.stdout)["vector"][-1] == "20 (100%)"


def test_a_url_off_loopback_exits_2_before_asking() -> None:
    run = _eval("rag", "--url", "http://10.1.2.3:8080/rag")
    assert run.code == 2
    assert "--url" in run.output and "loopback" in run.output and "10.1.2.3" in run.output


def test_a_service_that_does_not_answer_exits_2() -> None:
    run = _eval("rag", "--url", "http://127.0.0.1:9", "--questions", "1")
    assert run.code == 2
    assert "does not answer" in run.output and "127.0.0.1:9" in run.output


def test_a_stack_other_than_rag_exits_2_naming_the_choices() -> None:
    run = _eval("tabular", "--url", "http://127.0.0.1:9")
    assert run.code == 2
    assert "STACK" in run.output and "'tabular'" in run.output and "rag" in run.output


def test_without_url_or_running_stack_exits_2_pointing_at_url(tmp_path: Path) -> None:
    run = _eval("rag", "--home", str(tmp_path / "home"))
    assert run.code == 2
    assert "not up" in run.output and "--url" in run.output
    assert not (tmp_path / "home").exists()
