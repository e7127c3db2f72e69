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
import yaml

from gameday.cli import main

SMOKE = Path(__file__).resolve().parents[2] / "suites" / "smoke.yaml"


@pytest.fixture
def smoke_document() -> dict:
    return yaml.safe_load(SMOKE.read_text())


@pytest.fixture
def write_suite(tmp_path: Path, smoke_document: dict) -> Callable[..., Path]:
    """Writes the smoke suite, changed by ``edit``, with its experiments copied beside it."""
    experiments = tmp_path / "experiments"
    experiments.mkdir()
    for source in (SMOKE.parents[1] / "experiments").glob("*.json"):
        (experiments / source.name).write_text(source.read_text())

    def write(edit: Callable[[dict], object], name: str = "suite.yaml") -> Path:
        document = json.loads(json.dumps(smoke_document))
        edit(document)
        path = tmp_path / name
        path.write_text(yaml.safe_dump(document))
        return path

    return write


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "Traceback" not in output
    return code, output


def test_the_shipped_smoke_suite_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run_cli(capsys, "validate", str(SMOKE))
    assert code == 0, output
    assert "valid" in output


def test_malformed_yaml_names_the_file_and_the_line(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    suite = tmp_path / "broken.yaml"
    suite.write_text("name: x\nplatform: local\nstacks: [tabular\n")
    code, output = run_cli(capsys, "validate", str(suite))
    assert code == 2
    assert str(suite) in output and "not valid YAML" in output and "line 4" in output


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
                                                capsys: pytest.CaptureFixture[str],
                                                edit: Callable[[dict], object], field: str,
                                                expected: str) -> None:
    suite = write_suite(edit)
    code, output = run_cli(capsys, "validate", str(suite))
    assert code == 2, output
    assert f"{suite}: {field}" in output.replace("\n", " ")
    assert expected in output


def test_a_missing_suite_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run_cli(capsys, "run", str(tmp_path / "nope.yaml"), "--runs-dir",
                           str(tmp_path / "runs"))
    assert code == 2
    assert f"{tmp_path / 'nope.yaml'}: file not found" in output
    assert not (tmp_path / "runs").exists()  # nothing started, no run folder


def test_a_missing_experiment_file_is_named(write_suite: Callable[..., Path],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    suite = write_suite(lambda d: d["scenarios"][0].update(experiment="experiments/nope.json"))
    code, output = run_cli(capsys, "validate", str(suite))
    assert code == 2
    assert "scenarios.0.experiment" in output and "nope.json" in output


@pytest.mark.parametrize(("content", "expected"), [
    ("{ not json", "not valid JSON: line 1"),
    (json.dumps({"title": "no method", "description": "x"}), "method"),
    (json.dumps({"title": "t", "description": "d", "method": [
        {"type": "action", "name": "a", "provider": {"type": "python",
         "module": "gameday.faults.region.actions", "func": "no_such_action"}}]}),
     "no_such_action"),
], ids=["not-json", "no-method", "unknown-action"])
def test_a_bad_experiment_is_named(write_suite: Callable[..., Path], tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str], content: str,
                                   expected: str) -> None:
    (tmp_path / "experiments" / "bad.json").write_text(content)
    suite = write_suite(lambda d: d["scenarios"][0].update(experiment="experiments/bad.json"))
    code, output = run_cli(capsys, "validate", str(suite))
    assert code == 2, output
    assert "bad.json" in output and expected in output


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
def test_bad_command_line_arguments_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str],
                                           expected: str) -> None:
    code, output = run_cli(capsys, *argv)
    assert code == 2, output
    assert expected in output


def test_the_console_script_exits_2_without_a_traceback(write_suite: Callable[..., Path]) -> None:
    suite = write_suite(lambda d: d["load"].update(rate_per_sec=5))
    gameday = Path(sys.executable).parent / "gameday"
    result = subprocess.run([str(gameday), "run", str(suite)], capture_output=True, text=True,
                            timeout=60, cwd=suite.parent)
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert f"{suite}: load.rate_per_sec: unknown key" in result.stderr


def test_brackets_in_a_message_are_printed_as_they_are(write_suite: Callable[..., Path],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    suite = write_suite(lambda d: d["scenarios"].append(dict(d["scenarios"][0])))
    code, output = run_cli(capsys, "validate", str(suite))
    assert code == 2
    assert "['region-outage', 'region-outage']" in output  # not eaten as console markup
