"""Check a suite and everything it names, without starting anything.

Checked: every key of the suite, its stacks, the load's stack and endpoint, and every
scenario's experiment, parsed and validated as a run would. Exit 0 valid; exit 2 not, with
the file, the field and what was expected.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from gameday.cli.console import out
from gameday.cli.options import load_suite_with_overrides
from gameday.preflight import check_suite

NAME = "validate"


def command(
    suite: Path = typer.Argument(..., help="suite file"),
    set_: list[str] = typer.Option([], "--set", help="override a suite value: key.path=value"),
) -> int:
    checked = check_suite(load_suite_with_overrides(suite, set_))
    loaded = checked.suite
    slos = f"{len(loaded.slos)} SLOs" if loaded.slos else "no SLOs (allow_no_slos: true)"
    out.print(f"[green]valid[/green]: {escape(str(suite))} ({len(loaded.scenarios)} scenarios, "
              f"{slos})", highlight=False)
    return 0
