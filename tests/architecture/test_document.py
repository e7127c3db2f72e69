"""docs/architecture.md is exactly what `gameday architecture --output docs/architecture.md`
makes now (so it never goes stale), and the command's other forms and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.architecture import REGENERATE
from gameday.cli import main

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "architecture.md"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out, captured.err


def test_the_committed_architecture_document_is_what_the_generator_makes_now(capsys, tmp_path):
    made = tmp_path / "architecture.md"
    code, _, _ = _run(capsys, "architecture", "--output", str(made))
    assert code == 0
    assert COMMITTED.read_text() == made.read_text(), \
        f"docs/architecture.md is stale: regenerate it with `{REGENERATE}` and commit it"


def test_without_output_the_document_goes_to_stdout(capsys):
    code, out, _ = _run(capsys, "architecture")
    assert code == 0
    assert out == COMMITTED.read_text()


def test_a_suite_draws_its_own_stacks_and_replicas(capsys):
    code, out, _ = _run(capsys, "architecture", "--suite", str(ROOT / "suites" / "rag.yaml"))
    assert code == 0
    assert "the suite `" in out and "stacks rag, 1 replica(s) per region" in out
    assert "rag-etcd-w1" in out and "tabular-api" not in out
    assert "database failover `patroni`" in out


def test_replicas_override_the_suite_s(capsys):
    code, out, _ = _run(capsys, "architecture", "--suite", str(ROOT / "suites" / "smoke.yaml"),
                        "--replicas", "3")
    assert code == 0
    assert "tabular-api-a3 127.10.1.3" in out and "tabular-api-a4" not in out


def test_a_missing_suite_exits_2_naming_the_file(capsys, tmp_path):
    missing = tmp_path / "nope.yaml"
    code, _, err = _run(capsys, "architecture", "--suite", str(missing))
    assert code == 2
    assert str(missing) in err


def test_an_unwritable_output_exits_2_naming_the_option(capsys, tmp_path):
    code, _, err = _run(capsys, "architecture", "--output", str(tmp_path / "no" / "dir.md"))
    assert code == 2
    assert "--output" in err and "cannot write" in err
