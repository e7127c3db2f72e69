"""Platforms: where the stacks run (local processes, kind clusters), behind one interface.

``PLATFORMS`` is the explicit table of platforms; ``open_platform`` returns the one a run or a
fault should talk to. Faults never construct a platform themselves.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from gameday.errors import ConfigError
from gameday.platforms.base import Platform

__all__ = ["PLATFORMS", "open_platform"]


def _local(home: Path | None) -> Platform:
    from gameday.platforms.local.platform import LocalPlatform
    from gameday.platforms.local.state import LocalHome

    return LocalPlatform(LocalHome(home.resolve()) if home else None)


def _kind(home: Path | None) -> Platform:
    raise ConfigError("the kind platform is not built yet (see clusters/README.md); "
                      "use platform: local")


PLATFORMS: dict[str, Callable[[Path | None], Platform]] = {"local": _local, "kind": _kind}


def open_platform(name: str | None = None, home: Path | None = None) -> Platform:
    """The platform ``name`` (default: ``$GAMEDAY_PLATFORM`` or local), rooted at ``home``."""
    name = name or os.environ.get("GAMEDAY_PLATFORM", "local")
    if name not in PLATFORMS:
        raise ConfigError(f"unknown platform {name!r}; expected one of {', '.join(PLATFORMS)}")
    return PLATFORMS[name](home)
