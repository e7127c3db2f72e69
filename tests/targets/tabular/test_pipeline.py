"""The one-click pipeline from an empty model home: data, features, train, register, serve,
monitor, each with its line; a second run does no work again and still checks what is served.
Also `gameday pipeline`, which runs the same."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from targets.tabular.home import ModelHome
from targets.tabular.pipeline import FEAST_PYTHON, STEPS
from tests.targets.tabular.tabular_testing import REPO

_LINE = re.compile(r"^\[(\d)/6\] (\w+)\s+(ran|up to date|checked|skipped): (.*) \(\d+\.\d s\)$")


def _pipeline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600,
                          check=False)


def _steps(stdout: str) -> dict[str, tuple[str, str]]:
    found = [match.groups() for line in stdout.splitlines() if (match := _LINE.match(line))]
    assert [int(number) for number, *_ in found] == list(range(1, 7)), stdout
    return {step: (status, detail) for _, step, status, detail in found}


@pytest.fixture(scope="module")
def fresh_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModelHome, str]:
    home = ModelHome(tmp_path_factory.mktemp("pipeline") / "artifacts")
    done = _pipeline(sys.executable, "-m", "targets.tabular.pipeline", "--home", str(home.root))
    assert done.returncode == 0, done.stdout + done.stderr
    return home, done.stdout


def test_an_empty_home_goes_through_every_step_to_a_served_monitored_model(
        fresh_home: tuple[ModelHome, str]) -> None:
    home, stdout = fresh_home
    steps = _steps(stdout)
    assert list(steps) == list(STEPS)
    expected_features = "ran" if FEAST_PYTHON.is_file() else "skipped"
    assert {step: status for step, (status, _) in steps.items()} == {
        "data": "ran", "features": expected_features, "train": "ran", "register": "ran",
        "serve": "checked", "monitor": "checked"}
    assert home.dataset_path.is_file() and home.shadow_set_path.is_file()
    assert "fraud v1 logistic_regression: roc_auc=" in steps["train"][1]
    assert "champion -> v1" in steps["register"][1]
    served = re.search(r"champion v1 from the registry answered 2,000 shadow rows: "
                       r"ROC AUC (\d\.\d+)", steps["serve"][1])
    assert served and float(served.group(1)) > 0.8, steps["serve"]
    assert "/metrics counts 2,000 predictions" in steps["monitor"][1]
    assert "no dataset drift" in steps["monitor"][1]


def test_a_second_run_through_gameday_pipeline_redoes_nothing_and_checks_again(
        fresh_home: tuple[ModelHome, str]) -> None:
    home, _ = fresh_home
    done = _pipeline(str(Path(sys.executable).parent / "gameday"), "pipeline",
                     "--home", str(home.root))
    assert done.returncode == 0, done.stdout + done.stderr
    statuses = {step: status for step, (status, _) in _steps(done.stdout).items()}
    assert statuses["data"] == statuses["train"] == statuses["register"] == "up to date"
    assert statuses["features"] in {"up to date", "skipped"}
    assert statuses["serve"] == statuses["monitor"] == "checked"


def test_a_failing_step_stops_the_pipeline_with_exit_2_and_says_why(tmp_path: Path) -> None:
    home = tmp_path / "artifacts"
    (home / "data").mkdir(parents=True)
    (home / "data" / "transactions.parquet").mkdir()  # a folder where the file must go
    done = _pipeline(sys.executable, "-m", "targets.tabular.pipeline", "--home", str(home))
    assert done.returncode == 2
    assert "pipeline failed at step data: IsADirectoryError" in done.stderr
    assert "transactions.parquet" in done.stderr
    assert "[2/6]" not in done.stdout
