"""One local platform for every fault test in this package (stand-up costs ~15 s)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import platform_up
from gameday.platforms.local.platform import LocalPlatform


@pytest.fixture(scope="package")
def local_platform(trained_artifacts: Path,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with platform_up(tmp_path_factory.mktemp("gameday-home")) as platform:
        yield platform


@pytest.fixture
def configuration(local_platform: LocalPlatform) -> dict[str, str]:
    """What an experiment passes to its providers."""
    return {"gameday_home": str(local_platform.home.root), "gameday_platform": "local"}
