"""Platforms: where the stacks run (local processes, kind clusters), behind one interface.

``PLATFORMS`` is the explicit table of platforms; ``open_platform`` returns the one a run or a
fault should talk to, rooted at a home the caller resolved at its edge (the CLI's ``--home`` /
``GAMEDAY_HOME``, or an experiment's ``gameday_home``). Faults never construct a platform.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gameday.errors import ConfigError
from gameday.platforms.base import Platform

__all__ = ["DEFAULT_HOME", "PLATFORMS", "open_platform"]

DEFAULT_HOME = Path(".gameday")


def _local(home: Path) -> Platform:
    from gameday.platforms.local.home import LocalHome
    from gameday.platforms.local.platform import LocalPlatform

    return LocalPlatform(LocalHome(home.resolve()))


def _kind(home: Path) -> Platform:
    from gameday.platforms.kind.platform import open_kind

    return open_kind(home)


PLATFORMS: dict[str, Callable[[Path], Platform]] = {"local": _local, "kind": _kind}


def open_platform(name: str, home: Path | None = None) -> Platform:
    """The platform ``name`` rooted at ``home`` (``DEFAULT_HOME`` when None: the documented
    default, never read from the environment here)."""
    if name not in PLATFORMS:
        raise ConfigError(f"unknown platform {name!r}; expected one of {', '.join(PLATFORMS)}")
    return PLATFORMS[name](home or DEFAULT_HOME)
