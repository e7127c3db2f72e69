"""How a provider finds its platform, and the capability checks every fault starts with."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from gameday.errors import FaultError
from gameday.platforms import open_platform
from gameday.platforms.base import FaultLedger, Platform

__all__ = ["capability", "forget_fault", "platform_for", "remember_fault"]

Configuration = dict[str, Any] | None
_C = TypeVar("_C")


def platform_for(configuration: Configuration) -> Platform:
    configuration = configuration or {}
    home = configuration.get("gameday_home")
    return open_platform(configuration.get("gameday_platform"), Path(home) if home else None)


def capability(configuration: Configuration, kind: type[_C]) -> _C:
    platform = platform_for(configuration)
    if not isinstance(platform, kind):
        raise FaultError(f"the {platform.name} platform cannot do {kind.__name__}")
    return platform


def remember_fault(configuration: Configuration, kind: str, **detail: Any) -> None:
    """Tell the platform a fault is in force, so it can roll it back if this process dies."""
    platform = platform_for(configuration)
    if isinstance(platform, FaultLedger):
        platform.record_fault(kind, **detail)


def forget_fault(configuration: Configuration, kind: str, **match: Any) -> None:
    platform = platform_for(configuration)
    if isinstance(platform, FaultLedger):
        platform.clear_fault(kind, **match)
