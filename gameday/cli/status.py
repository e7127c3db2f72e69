"""Show every member the platform runs, its address and state, and the faults in force."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from gameday.cli.console import out
from gameday.platforms import open_platform

NAME = "status"


def command(platform: str = typer.Option("local", help="local or kind")) -> int:
    opened = open_platform(platform)
    members = opened.members()
    if not members:
        out.print("not up")
        return 0
    table = Table("member", "region", "stack", "address", "pid", "state")
    for m in members:
        colour = "green" if m.state == "healthy" else "red"
        table.add_row(m.name, m.region, m.stack, f"{m.address}:{m.port}", str(m.pid or "-"),
                      f"[{colour}]{m.state}[/{colour}]")
    out.print(table)
    faults: list[object] = getattr(opened, "faults", list)()
    for fault in faults:
        out.print(f"[yellow]fault in force:[/yellow] {escape(str(fault))}")
    return 0
