"""The serving probes run against a fleet of real loopback servers, not the local platform:
``configuration`` here replaces the package's one, which would stand the platform up."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gameday.platforms import PLATFORMS
from tests.faults.serving.fleet import PLATFORM_NAME, Fleet, FleetPlatform, running_fleet


@pytest.fixture
def fleet(monkeypatch: pytest.MonkeyPatch) -> Iterator[Fleet]:
    with running_fleet() as running:
        monkeypatch.setitem(PLATFORMS, PLATFORM_NAME, lambda home: FleetPlatform(running))
        yield running


@pytest.fixture
def configuration(fleet: Fleet) -> dict[str, Any]:
    """What an experiment passes to its providers."""
    return {"gameday_platform": PLATFORM_NAME, "gameday_region": "region-a"}
