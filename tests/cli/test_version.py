"""``gameday --version`` says which gameday is installed."""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata

import pytest

import gameday
import gameday.cli
from tests.cli.conftest import CliResult


def test_the_version_is_the_installed_distributions(cli: Callable[..., CliResult]) -> None:
    result = cli("--version")
    assert result.code == 0
    assert result.stdout.strip() == f"gameday {metadata.version('gameday-ai')}"


def test_without_distribution_metadata_the_package_version_is_printed(
        cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gameday.cli, "DISTRIBUTION", "gameday-ai-never-installed")
    result = cli("--version")
    assert result.code == 0 and result.stdout.strip() == f"gameday {gameday.__version__}"
