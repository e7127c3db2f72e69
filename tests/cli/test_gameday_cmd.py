"""``gameday gameday`` refuses to start without an operator at a terminal (exit 2, a clear
message, nothing created), takes the hypothesis from a strict ``gameday`` section of the
suite, and says in its help that the load's duration is the game day's length."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from gameday.cli.gameday_cmd import NOT_A_TERMINAL
from gameday.config import load_suite
from tests.cli.conftest import CliResult

Cli = Callable[..., CliResult]
GAMEDAY = Path(sys.executable).parent / "gameday"


def test_without_a_terminal_it_refuses_and_creates_nothing(
        write_suite: Callable[..., Path], untouched_home: Path, tmp_path: Path) -> None:
    suite = write_suite(lambda d: None)
    runs = tmp_path / "runs"
    done = subprocess.run([str(GAMEDAY), "gameday", str(suite), "--runs-dir", str(runs)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    output = " ".join((done.stdout + done.stderr).split())  # rich may wrap the line
    assert NOT_A_TERMINAL in output and "Traceback" not in output
    assert not runs.exists() and not untouched_home.exists()


def test_the_hypothesis_comes_from_the_suites_gameday_section(
        write_suite: Callable[..., Path]) -> None:
    suite = load_suite(write_suite(lambda d: d.update(gameday={"hypothesis": "b holds"})))
    assert suite.gameday.hypothesis == "b holds"
    assert load_suite(write_suite(lambda d: None)).gameday.hypothesis == ""


def test_a_misspelt_gameday_key_names_the_field(write_suite: Callable[..., Path],
                                                cli: Cli) -> None:
    suite = write_suite(lambda d: d.update(gameday={"hypothsis": "b holds"}))
    result = cli("validate", str(suite))
    assert result.code == 2
    assert "gameday.hypothsis" in result.output and str(suite) in result.output


def test_the_help_says_the_load_duration_is_the_game_days_length(cli: Cli) -> None:
    result = cli("gameday", "--help")
    assert result.code == 0
    assert "load.duration_s is the game day's length" in " ".join(result.output.split())
