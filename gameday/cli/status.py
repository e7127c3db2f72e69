"""Show every member the platform runs and the faults in force; exit 0 only when all is well.

Exit 0: the platform is up, every member is healthy and no fault is in force. Exit 1: it is
down, a member is not healthy, or a fault is in force (each reason is printed). Exit 2: the
platform could not be asked. --json prints one object: platform, home, up, members (name,
region, stack, address, port, pid, state), faults, problems.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import typer
from rich.markup import escape
from rich.table import Table

from gameday.cli.console import out
from gameday.cli.options import HomeOption, PlatformOption, PlatformTarget, resolve_platform
from gameday.platforms.base import Member, Platform

NAME = "status"

_HEALTHY = "healthy"
# ledger bookkeeping, not what the fault is
_FAULT_BOOKKEEPING = frozenset({"id", "kind", "owner_pid", "owner_create_time"})


@runtime_checkable
class _ListsFaults(Protocol):
    """The faults a platform holds in force (the local platform's ledger).

    Not (yet) a declared capability in ``gameday.platforms.base``; a platform without it gets
    its faults read off the members' states instead.
    """

    def faults(self) -> list[Any]: ...


@dataclasses.dataclass(frozen=True)
class _Status:
    target: PlatformTarget
    up: bool
    members: list[Member]
    faults: list[dict[str, Any]]

    @property
    def problems(self) -> list[str]:
        found = [] if self.up else [f"the {self.target.name} platform is not up "
                                    f"(home {self.target.home})"]
        found += [f"{m.name} is {m.state}" for m in self.members if m.state != _HEALTHY]
        found += [f"fault in force: {_describe(f)}" for f in self.faults]
        return found


def _fault_fields(fault: object) -> dict[str, Any]:
    if isinstance(fault, Mapping):
        return dict(fault)
    if dataclasses.is_dataclass(fault) and not isinstance(fault, type):
        return dataclasses.asdict(fault)
    return {"kind": type(fault).__name__, "description": str(fault)}


def _held_regions(members: list[Member]) -> list[dict[str, Any]]:
    """Without a fault ledger: a region whose members are held down or frozen is under a fault."""
    held = sorted({(m.region, str(m.state)) for m in members
                   if m.state in ("held-down", "frozen")})
    return [{"kind": "region_hold", "region": region, "state": state} for region, state in held]


def _faults(platform: Platform, members: list[Member]) -> list[dict[str, Any]]:
    if isinstance(platform, _ListsFaults):
        return [_fault_fields(fault) for fault in platform.faults()]
    return _held_regions(members)


def _describe(fault: dict[str, Any]) -> str:
    detail = ", ".join(f"{key}={value}" for key, value in fault.items()
                       if key not in _FAULT_BOOKKEEPING)
    return f"{fault.get('kind', 'fault')} ({detail})" if detail else str(fault.get("kind"))


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
        "members": [{"name": m.name, "region": m.region, "stack": m.stack, "address": m.address,
                     "port": m.port, "pid": m.pid, "state": str(m.state)}
                    for m in status.members],
        "faults": status.faults,
        "problems": status.problems,
    }, indent=2, default=str)


def _print_table(status: _Status) -> None:
    if status.members:
        table = Table("member", "region", "stack", "address", "pid", "state")
        for m in status.members:
            colour = "green" if m.state == _HEALTHY else "red"
            table.add_row(escape(m.name), m.region, m.stack, f"{m.address}:{m.port}",
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
