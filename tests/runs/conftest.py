"""A platform stood up by the test module, not by the run: the run must leave it up and clean."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import platform_up
from gameday.platforms.local.platform import LocalPlatform


@pytest.fixture(scope="module")
def platform(trained_artifacts: Path,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with platform_up(tmp_path_factory.mktemp("gameday-home")) as up:
        yield up
