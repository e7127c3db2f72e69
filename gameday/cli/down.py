"""Stop every process, remove every nft rule and toxic the platform created."""

from __future__ import annotations

from gameday.cli.console import out, progress
from gameday.cli.options import HomeOption, PlatformOption, resolve_platform

NAME = "down"


def command(platform: PlatformOption = None, home: HomeOption = None) -> int:
    resolve_platform(platform, home).open().down(progress=progress)
    out.print("[green]down[/green]: nothing left running")
    return 0
