"""The platform and its home are decided once, at the command line's edge: the option, else the
environment, else the suite, else the default; a bad name says where it came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.cli.options import resolve_platform
from gameday.config import load_suite
from gameday.errors import ConfigError
from tests.cli.conftest import SMOKE


@pytest.fixture
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("GAMEDAY_PLATFORM", raising=False)
    monkeypatch.delenv("GAMEDAY_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_without_options_or_environment_it_is_local_in_dot_gameday(
        clean_environment: Path) -> None:
    target = resolve_platform(None, None)
    assert (target.name, target.home) == ("local", clean_environment / ".gameday")
    assert not target.home.exists()  # deciding touches nothing


def test_the_environment_is_used_when_no_option_is_given(
        clean_environment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAMEDAY_PLATFORM", "kind")
    monkeypatch.setenv("GAMEDAY_HOME", "elsewhere")
    target = resolve_platform(None, None)
    assert (target.name, target.home) == ("kind", clean_environment / "elsewhere")
    assert (target.name_from, target.home_from) == ("$GAMEDAY_PLATFORM", "$GAMEDAY_HOME")


def test_options_win_over_the_environment(clean_environment: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAMEDAY_PLATFORM", "kind")
    monkeypatch.setenv("GAMEDAY_HOME", "elsewhere")
    target = resolve_platform("local", Path("/srv/gameday-home"))
    assert (target.name, target.home) == ("local", Path("/srv/gameday-home"))


def test_the_environment_wins_over_the_suite_and_the_suite_over_the_default(
        clean_environment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suite = load_suite(SMOKE).model_copy(update={"platform": "kind"})
    assert resolve_platform(None, None, suite).name == "kind"
    monkeypatch.setenv("GAMEDAY_PLATFORM", "local")
    assert resolve_platform(None, None, suite).name == "local"


def test_an_unknown_platform_names_where_it_came_from(clean_environment: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAMEDAY_PLATFORM", "docker")
    with pytest.raises(ConfigError, match=r"^\$GAMEDAY_PLATFORM: unknown platform 'docker'; "
                                          r"expected one of local, kind$"):
        resolve_platform(None, None)
    with pytest.raises(ConfigError, match=r"^--platform: unknown platform 'k8s'"):
        resolve_platform("k8s", None)
