"""How a provider finds its platform, and the capability checks every fault starts with.

The experiment's configuration is the edge for a provider: ``gameday_platform`` (default
``local``) and ``gameday_home`` (default ``.gameday``, which the shipped experiments take from
``GAMEDAY_HOME``). Nothing below reads the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from gameday.errors import FaultError
from gameday.platforms import open_platform
from gameday.platforms.base import Platform

__all__ = ["Configuration", "capability", "platform_for"]

Configuration = dict[str, Any] | None
_C = TypeVar("_C")


def platform_for(configuration: Configuration) -> Platform:
    configuration = configuration or {}
    home = configuration.get("gameday_home")
    return open_platform(str(configuration.get("gameday_platform") or "local"),
                         Path(home) if home else None)


def capability(configuration: Configuration, kind: type[_C]) -> _C:
    platform = platform_for(configuration)
    if not isinstance(platform, kind):
        raise FaultError(f"the {platform.name} platform cannot do {kind.__name__}")
    return platform
