"""Show every member the platform runs and the faults in force; exit 0 only when all is well.

Exit 0: the platform is up, every member is healthy and no fault is in force. Exit 1: it is
down, a member is not healthy, or a fault is in force (each reason is printed). Exit 2: the
platform could not be asked. --json prints one object: platform, home, up, members (name,
region, stack, component, address, port, pid, state), faults, problems.
"""

from __future__ import annotations

import dataclasses
import json

import typer
from rich.markup import escape
from rich.table import Table

from gameday.cli.console import out
from gameday.cli.options import HomeOption, PlatformOption, PlatformTarget, resolve_platform
from gameday.platforms.base import FaultView, Member, Platform

NAME = "status"

_HEALTHY = "healthy"


@dataclasses.dataclass(frozen=True)
class _Status:
    target: PlatformTarget
    up: bool
    members: list[Member]
    faults: list[str]

    @property
    def problems(self) -> list[str]:
        found = [] if self.up else [f"the {self.target.name} platform is not up "
                                    f"(home {self.target.home})"]
        found += [f"{m.name} is {m.state}" for m in self.members if m.state != _HEALTHY]
        found += [f"fault in force: {fault}" for fault in self.faults]
        return found


def _held_regions(members: list[Member]) -> list[str]:
    """Without a fault ledger: a region whose members are held down or frozen is under a fault."""
    held = sorted({(m.region, str(m.state)) for m in members
                   if m.state in ("held-down", "frozen")})
    return [f"region_hold: {region} ({state})" for region, state in held]


def _faults(platform: Platform, members: list[Member]) -> list[str]:
    if isinstance(platform, FaultView):
        return platform.faults_in_force()
    return _held_regions(members)


def _read(target: PlatformTarget) -> _Status:
    platform = target.open()
    up = platform.is_up()
    members = platform.members()
    return _Status(target=target, up=up, members=members, faults=_faults(platform, members))


def _as_json(status: _Status) -> str:
    return json.dumps({
        "platform": status.target.name,
        "home": str(status.target.home),
        "up": status.up,
        "members": [{"name": m.name, "region": m.region, "stack": m.stack,
                     "component": m.component, "address": m.address,
                     "port": m.port, "pid": m.pid, "state": str(m.state)}
                    for m in status.members],
        "faults": status.faults,
        "problems": status.problems,
    }, indent=2, default=str)


def _print_table(status: _Status) -> None:
    if status.members:
        table = Table("member", "region", "stack", "component", "address", "pid", "state")
        for m in status.members:
            colour = "green" if m.state == _HEALTHY else "red"
            table.add_row(escape(m.name), m.region, m.stack, m.component, f"{m.address}:{m.port}",
                          str(m.pid or "-"), f"[{colour}]{escape(str(m.state))}[/{colour}]")
        out.print(table)
    for problem in status.problems:
        out.print(f"[red]✗[/red] {escape(problem)}", highlight=False)
    if not status.problems:
        out.print(f"[green]up[/green]: {len(status.members)} members healthy, no fault in force",
                  highlight=False)


def command(
    platform: PlatformOption = None,
    home: HomeOption = None,
    as_json: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
) -> int:
    status = _read(resolve_platform(platform, home))
    if as_json:
        print(_as_json(status))  # plain print: rich would re-wrap or colour the JSON
    else:
        _print_table(status)
    return 1 if status.problems else 0
