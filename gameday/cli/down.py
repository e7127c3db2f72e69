"""Stop every process, remove every nft rule and toxic the platform created."""

from __future__ import annotations

import typer

from gameday.cli.console import out, progress
from gameday.platforms import open_platform

NAME = "down"


def command(platform: str = typer.Option("local", help="local or kind")) -> int:
    open_platform(platform).down(progress=progress)
    out.print("[green]down[/green]: nothing left running")
    return 0
