"""Whatever a run would only find later is refused up front, by ``validate`` and by ``run``
alike: exit 2 with the file and the field, within a second, before any platform is touched
(no home, no run folder)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import SMOKE, CliResult

Cli = Callable[..., CliResult]
_QUICK_S = 1.0

_BROKEN_EXPERIMENTS = {
    "not-json": ("{ not json", "not valid JSON: line 1"),
    "no-method": (json.dumps({"title": "t", "description": "d"}), "method"),
    "unknown-probe": (json.dumps({
        "title": "t", "description": "d",
        "steady-state-hypothesis": {"title": "h", "probes": [{
            "type": "probe", "name": "p", "tolerance": True,
            "provider": {"type": "python", "module": "gameday.faults.serving.probes",
                         "func": "no_such_probe"}}]},
        "method": [{"type": "action", "name": "a", "provider": {
            "type": "python", "module": "gameday.faults.region.actions",
            "func": "kill_region", "arguments": {"region": "region-a"}}}]}),
        "no_such_probe"),
}


def _refused_quickly(cli: Cli, *argv: str) -> CliResult:
    started = time.monotonic()
    result = cli(*argv)
    elapsed_s = time.monotonic() - started
    assert result.code == 2, result.output
    assert elapsed_s < _QUICK_S, f"took {elapsed_s:.2f} s"
    return result


def _commands(suite: Path, runs: Path, *extra: str) -> list[list[str]]:
    return [["validate", str(suite), *extra],
            ["run", str(suite), "--runs-dir", str(runs), *extra]]


@pytest.mark.parametrize("command", ["validate", "run"])
def test_an_unknown_load_endpoint_is_refused_before_anything_starts(
        command: str, write_suite: Callable[..., Path], untouched_home: Path, tmp_path: Path,
        cli: Cli) -> None:
    suite = write_suite(lambda d: d["load"].update(endpoint="score"))
    argv = dict(zip(("validate", "run"), _commands(suite, tmp_path / "runs"), strict=True))
    result = _refused_quickly(cli, *argv[command])
    assert f"{suite}: load.endpoint: unknown endpoint 'score'" in result.output
    assert "predict" in result.output  # what was expected
    assert not untouched_home.exists() and not (tmp_path / "runs").exists()
    assert not (Path.cwd() / ".gameday").exists()


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_load_stack_outside_the_suites_stacks_is_refused(
        command: str, write_suite: Callable[..., Path], untouched_home: Path, tmp_path: Path,
        cli: Cli) -> None:
    suite = write_suite(lambda d: d["load"].update(stack="rag"))
    argv = dict(zip(("validate", "run"), _commands(suite, tmp_path / "runs"), strict=True))
    result = _refused_quickly(cli, *argv[command])
    assert f"{suite}: load.stack: 'rag' is not one of the suite's stacks" in result.output
    assert not untouched_home.exists() and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_load_stack_set_on_the_command_line_is_checked_the_same_way(
        command: str, untouched_home: Path, tmp_path: Path, cli: Cli) -> None:
    argv = dict(zip(("validate", "run"), _commands(SMOKE, tmp_path / "runs", "--set",
                                                   "load.stack=triton"), strict=True))
    result = _refused_quickly(cli, *argv[command])
    assert f"{SMOKE} (with --set): load.stack: 'triton' is not one of the suite's stacks" \
        in result.output
    assert not untouched_home.exists() and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("broken", sorted(_BROKEN_EXPERIMENTS))
def test_a_broken_experiment_is_refused_before_anything_starts(
        command: str, broken: str, write_suite: Callable[..., Path], untouched_home: Path,
        tmp_path: Path, cli: Cli) -> None:
    content, expected = _BROKEN_EXPERIMENTS[broken]
    experiment = tmp_path / "experiments" / "bad.json"
    experiment.write_text(content)
    suite = write_suite(lambda d: d["scenarios"][0].update(experiment="experiments/bad.json"))
    argv = dict(zip(("validate", "run"), _commands(suite, tmp_path / "runs"), strict=True))
    result = _refused_quickly(cli, *argv[command])
    assert str(experiment) in result.output and expected in result.output
    assert not untouched_home.exists() and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_suite_without_slos_is_refused_naming_the_opt_out(
        command: str, write_suite: Callable[..., Path], untouched_home: Path, tmp_path: Path,
        cli: Cli) -> None:
    suite = write_suite(lambda d: d.update(slos=[]))
    argv = dict(zip(("validate", "run"), _commands(suite, tmp_path / "runs"), strict=True))
    result = _refused_quickly(cli, *argv[command])
    assert f"{suite}: slos: a suite with no SLOs can never fail" in result.output
    assert "allow_no_slos: true" in result.output
    assert not untouched_home.exists() and not (tmp_path / "runs").exists()


def test_a_suite_without_slos_is_valid_when_it_says_so(write_suite: Callable[..., Path],
                                                       cli: Cli) -> None:
    suite = write_suite(lambda d: d.update(slos=[], allow_no_slos=True))
    result = cli("validate", str(suite))
    assert result.code == 0, result.output
    assert "no SLOs (allow_no_slos: true)" in result.output


def test_removing_every_slo_on_the_command_line_is_refused_too(cli: Cli) -> None:
    result = cli("validate", str(SMOKE), "--set", "slos=[]")
    assert result.code == 2
    assert f"{SMOKE} (with --set): slos: a suite with no SLOs can never fail" in result.output


def test_the_shipped_experiments_are_all_valid(write_suite: Callable[..., Path],
                                               cli: Cli) -> None:
    experiments = sorted((SMOKE.parents[1] / "experiments").glob("*.json"))
    scenarios = [{"name": path.stem, "experiment": f"experiments/{path.name}"}
                 for path in experiments]
    suite = write_suite(lambda d: d.update(scenarios=scenarios))
    result = cli("validate", str(suite))
    assert result.code == 0, result.output
    assert f"({len(experiments)} scenarios" in result.output
