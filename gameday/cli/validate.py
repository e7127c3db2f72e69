"""Check a suite and every experiment it names, without running anything."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from gameday.cli.console import out
from gameday.cli.options import load_suite_with_overrides
from gameday.config import resolve_experiment
from gameday.experiment import load_experiment

NAME = "validate"


def command(
    suite: Path = typer.Argument(..., help="suite file"),
    set_: list[str] = typer.Option([], "--set", help="override a suite value: key.path=value"),
) -> int:
    loaded = load_suite_with_overrides(suite, set_)
    for scenario in loaded.scenarios:
        load_experiment(resolve_experiment(loaded, scenario))
    out.print(f"[green]valid[/green]: {escape(str(suite))} ({len(loaded.scenarios)} scenarios, "
              f"{len(loaded.slos)} SLOs)", highlight=False)
    return 0
