"""`gameday sheet RUN_DIR [--stack S] [--output FILE]` on synthetic run folders (the cost run
of ``tests.measure.cost_run``: two stacks; ``tests.cli.run_writer``'s: one), and its bad
input: exit 2 with the folder, the file or the option named, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.cli.conftest import CliResult
from tests.cli.run_writer import write_run
from tests.measure import cost_run

Cli = Callable[..., CliResult]


@pytest.fixture(scope="module")
def two_stacks(tmp_path_factory):
    return cost_run.write_cost_run(tmp_path_factory.mktemp("sheet") / "20260101T000000Z-cost")


def test_the_sheet_of_the_run_s_only_stack_needs_no_stack_option(cli: Cli, tmp_path):
    run_dir = write_run(tmp_path / "20251125T090000Z-nightly", seed=1)
    result = cli("sheet", str(run_dir))
    assert result.code == 0
    assert result.stdout.startswith("# Reference sheet: tabular\n")
    assert f"`gameday sheet {run_dir.as_posix()} --stack tabular`" in result.stdout


def test_output_writes_the_file_and_the_sheet_says_how_it_was_made(cli: Cli, two_stacks,
                                                                   tmp_path):
    target = tmp_path / "triton.md"
    result = cli("sheet", str(two_stacks), "--stack", "triton", "--output", str(target))
    assert result.code == 0 and f"sheet: {target}" in result.output
    text = target.read_text()
    assert text.startswith("# Reference sheet: triton\n")
    assert f"--stack triton --output {target.as_posix()}`" in text


def test_a_run_of_several_stacks_needs_the_stack_named(cli: Cli, two_stacks):
    result = cli("sheet", str(two_stacks))
    assert result.code == 2
    assert f"{two_stacks}: the run served tabular, triton: name one with --stack" in \
        result.output


def test_an_unknown_stack_exits_2_naming_the_option_and_the_run_s_stacks(cli: Cli, two_stacks):
    result = cli("sheet", str(two_stacks), "--stack", "rag")
    assert result.code == 2
    assert "--stack: unknown stack 'rag': the run served tabular, triton" in result.output


def test_a_folder_that_is_not_a_run_exits_2(cli: Cli, tmp_path):
    result = cli("sheet", str(tmp_path))
    assert result.code == 2
    assert f"{tmp_path}: not a run folder (no events.jsonl)" in result.output


def test_a_missing_folder_exits_2(cli: Cli, tmp_path):
    result = cli("sheet", str(tmp_path / "nope"))
    assert result.code == 2 and "not a run folder" in result.output


def test_a_damaged_suite_json_exits_2_naming_the_file_and_field(cli: Cli, tmp_path):
    run_dir = write_run(tmp_path / "run", seed=1)
    document = json.loads((run_dir / "suite.json").read_text())
    document["replicas"] = "many"
    (run_dir / "suite.json").write_text(json.dumps(document))
    result = cli("sheet", str(run_dir))
    assert result.code == 2
    assert "suite.json: replicas:" in result.output and "harness error" not in result.output


def test_an_unwritable_output_exits_2_naming_the_option(cli: Cli, two_stacks, tmp_path):
    result = cli("sheet", str(two_stacks), "--stack", "tabular", "--output",
                 str(tmp_path / "missing" / "sheet.md"))
    assert result.code == 2 and "--output" in result.output and "cannot write" in result.output
