"""Fixtures for the command line tests: the smoke suite rewritten, the CLI run in-process, and a
platform home that a test can prove was never created."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from gameday.cli import main

SMOKE = Path(__file__).resolve().parents[2] / "suites" / "smoke.yaml"


@dataclass(frozen=True)
class CliResult:
    code: int
    output: str  # stdout and stderr together
    stdout: str


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


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Runs ``gameday <argv>`` in-process; no output may hold a traceback."""

    def run(*argv: str) -> CliResult:
        code = main(list(argv))
        captured = capsys.readouterr()
        output = captured.out + captured.err
        assert "Traceback" not in output
        return CliResult(code=code, output=output, stdout=captured.out)

    return run


@pytest.fixture
def untouched_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A platform home nothing has created yet: ``$GAMEDAY_HOME`` points at it and the current
    directory is a fresh folder, so the default ``.gameday`` would land there too."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    home = tmp_path / "home"
    monkeypatch.setenv("GAMEDAY_HOME", str(home))
    monkeypatch.delenv("GAMEDAY_PLATFORM", raising=False)
    return home


def assert_suite_error(cli: Callable[..., CliResult], tmp_path: Path, shipped: Path,
                       edit: Callable[[dict], object], field: str, expected: str) -> None:
    """A shipped suite with one edit: ``gameday validate`` exits 2 naming the file and the
    field, with ``expected`` in its message and no traceback."""
    document = yaml.safe_load(shipped.read_text())
    for scenario in document["scenarios"]:
        scenario["experiment"] = str(shipped.parents[1] / scenario["experiment"])
    edit(document)
    suite = tmp_path / "suite.yaml"
    suite.write_text(yaml.safe_dump(document))
    result = cli("validate", str(suite))
    assert result.code == 2, result.output
    flat = result.output.replace("\n", " ")
    assert f"{suite}: {field}" in flat, flat
    assert expected in flat, flat
    assert "Traceback" not in result.output
