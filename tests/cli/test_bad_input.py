"""Bad input exits 2 with a message naming the file and the field, never with a traceback.

Everything here fails before anything is started, so the tests run the real ``gameday`` command
line in-process (one case also as the installed console script, to cover the process exit).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import SMOKE, CliResult

Cli = Callable[..., CliResult]


def test_the_shipped_smoke_suite_is_valid(cli: Cli) -> None:
    result = cli("validate", str(SMOKE))
    assert result.code == 0, result.output
    assert "valid" in result.output


def test_malformed_yaml_names_the_file_and_the_line(tmp_path: Path, cli: Cli) -> None:
    suite = tmp_path / "broken.yaml"
    suite.write_text("name: x\nplatform: local\nstacks: [tabular\n")
    result = cli("validate", str(suite))
    assert result.code == 2
    assert str(suite) in result.output
    assert "not valid YAML" in result.output and "line 4" in result.output


@pytest.mark.parametrize(("edit", "field", "expected"), [
    (lambda d: d.update(lod=d.pop("load")), "lod", "unknown key"),
    (lambda d: d["load"].update(rate_per_sec=5), "load.rate_per_sec", "unknown key"),
    (lambda d: d["load"].update(rate_per_s="fast"), "load.rate_per_s", "valid number"),
    (lambda d: d["load"].update(arrival="bursty"), "load.arrival", "poisson"),
    (lambda d: d["slos"][0].update(kind="uptime"), "slos.0", "availability"),
    (lambda d: d["slos"][1].update(threshold_s=-1), "slos.1", "greater than"),
    (lambda d: d["scenarios"][0].update(target_region="region-c"), "scenarios.0.target_region",
     "region-a"),
    (lambda d: d.pop("name"), "name", "required"),
    (lambda d: d.update(platform="docker"), "platform", "local"),
], ids=["unknown-top-key", "misspelt-nested-key", "wrong-type", "bad-choice", "bad-slo-kind",
        "negative-threshold", "unknown-region", "missing-name", "unknown-platform"])
def test_a_wrong_suite_names_the_file_and_field(write_suite: Callable[..., Path],
                                                cli: Cli,
                                                edit: Callable[[dict], object], field: str,
                                                expected: str) -> None:
    suite = write_suite(edit)
    result = cli("validate", str(suite))
    assert result.code == 2, result.output
    assert f"{suite}: {field}" in result.output.replace("\n", " ")
    assert expected in result.output


def test_a_missing_suite_file_is_named(tmp_path: Path, cli: Cli) -> None:
    result = cli("run", str(tmp_path / "nope.yaml"), "--runs-dir",
                           str(tmp_path / "runs"))
    assert result.code == 2
    assert f"{tmp_path / 'nope.yaml'}: file not found" in result.output
    assert not (tmp_path / "runs").exists()  # nothing started, no run folder


def test_a_missing_experiment_file_is_named(write_suite: Callable[..., Path],
                                            cli: Cli) -> None:
    suite = write_suite(lambda d: d["scenarios"][0].update(experiment="experiments/nope.json"))
    result = cli("validate", str(suite))
    assert result.code == 2
    assert "scenarios.0.experiment" in result.output and "nope.json" in result.output


@pytest.mark.parametrize(("content", "expected"), [
    ("{ not json", "not valid JSON: line 1"),
    (json.dumps({"title": "no method", "description": "x"}), "method"),
    (json.dumps({"title": "t", "description": "d", "method": [
        {"type": "action", "name": "a", "provider": {"type": "python",
         "module": "gameday.faults.region.actions", "func": "no_such_action"}}]}),
     "no_such_action"),
], ids=["not-json", "no-method", "unknown-action"])
def test_a_bad_experiment_is_named(write_suite: Callable[..., Path], tmp_path: Path,
                                   cli: Cli, content: str,
                                   expected: str) -> None:
    (tmp_path / "experiments" / "bad.json").write_text(content)
    suite = write_suite(lambda d: d["scenarios"][0].update(experiment="experiments/bad.json"))
    result = cli("validate", str(suite))
    assert result.code == 2, result.output
    assert "bad.json" in result.output and expected in result.output


@pytest.mark.parametrize(("argv", "expected"), [
    (["run", "--bogus", "x"], "No such option: --bogus"),
    (["run"], "Missing argument"),
    (["frobnicate"], "No such command"),
    (["validate", str(SMOKE), "--set", "load"], "--set expects key.path=value"),
    (["validate", str(SMOKE), "--set", "load.rate=3"], "load.rate: unknown key"),
    (["validate", str(SMOKE), "--set", "slos.9.threshold_s=1"], "no such place"),
    (["validate", str(SMOKE), "--set", "load.rate_per_s=lots"], "load.rate_per_s"),
    (["report", "/nonexistent/run"], "not a run folder"),
], ids=["unknown-option", "missing-argument", "unknown-command", "set-without-value",
        "set-unknown-key", "set-out-of-range", "set-wrong-type", "report-not-a-run"])
def test_bad_command_line_arguments_exit_2(cli: Cli, argv: list[str],
                                           expected: str) -> None:
    result = cli(*argv)
    assert result.code == 2, result.output
    assert expected in result.output


def test_the_console_script_exits_2_without_a_traceback(write_suite: Callable[..., Path]) -> None:
    suite = write_suite(lambda d: d["load"].update(rate_per_sec=5))
    gameday = Path(sys.executable).parent / "gameday"
    result = subprocess.run([str(gameday), "run", str(suite)], capture_output=True, text=True,
                            timeout=60, cwd=suite.parent)
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert f"{suite}: load.rate_per_sec: unknown key" in result.stderr


def test_brackets_in_a_message_are_printed_as_they_are(write_suite: Callable[..., Path],
                                                       cli: Cli) -> None:
    suite = write_suite(lambda d: d["scenarios"].append(dict(d["scenarios"][0])))
    result = cli("validate", str(suite))
    assert result.code == 2
    assert "['region-outage', 'region-outage']" in result.output  # not eaten as console markup
