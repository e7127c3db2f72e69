"""The shipped rag suite is valid, and a rag suite that cannot mean what it says exits 2
naming the file and the field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import CliResult, assert_suite_error

Cli = Callable[..., CliResult]
RAG = Path(__file__).resolve().parents[2] / "suites" / "rag.yaml"


def test_the_shipped_rag_suite_is_valid(cli: Cli) -> None:
    result = cli("validate", str(RAG))
    assert result.code == 0, result.output


def _slo(document: dict, kind: str) -> dict:
    return next(slo for slo in document["slos"] if slo["kind"] == kind)


@pytest.mark.parametrize(("edit", "field", "expected"), [
    (lambda d: _slo(d, "ttft").update(treshold_s=1), "slos.3.ttft.treshold_s", "unknown key"),
    (lambda d: _slo(d, "quality").update(metric="bleu"), "slos.4.quality.metric",
     "'recall', 'exact_match' or 'f1'"),
    (lambda d: _slo(d, "quality").update(objective=1.5), "slos.4.quality.objective",
     "less than or equal to 1"),
    (lambda d: _slo(d, "degraded_share").update(stack="tabular"), "slos.6.stack",
     "judges a RAG stack's answers"),
    (lambda d: d.pop("database"), "slos.7.kind", "a rag ingest load and the suite's `database`"),
    (lambda d: d["load"].pop(1), "load.1.follows", "constant-rate ingest load"),
], ids=["misspelt-ttft-key", "unknown-quality-metric", "quality-above-one",
        "rag-slo-on-another-stack", "rpo-without-database", "probe-without-ingest"])
def test_a_wrong_rag_suite_names_the_file_and_field(tmp_path: Path, cli: Cli,
                                                    edit: Callable[[dict], object],
                                                    field: str, expected: str) -> None:
    assert_suite_error(cli, tmp_path, RAG, edit, field, expected)
