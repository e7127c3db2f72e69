"""Write a stack's reference sheet (Markdown) from a run folder: the run and suite, the SLOs
with objective, measured value and pass/fail, RTO with its parts and RPO per scenario, cost per
1,000 successful requests per region (idle standby apart) and latency percentiles, computed as
`gameday report` computes summary.json. --stack may be left out when the run has one stack.
Starts nothing. Exit 0; 2 when the input is bad.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from gameday.cli.console import out
from gameday.cli.options import write_output
from gameday.errors import ConfigError, MeasurementError
from gameday.records import EVENTS_FILE
from reports.run_folder import read_run_folder
from reports.sheet import reference_sheet
from reports.summary import summarize

NAME = "sheet"


def command(
    run_dir: Path = typer.Argument(..., help="a run folder, e.g. runs/<id>"),
    stack: str | None = typer.Option(None, "--stack", show_default=False,
                                     help="the stack (default: the run's only stack)"),
    output: Path | None = typer.Option(None, "--output", "-o", show_default=False,
                                       help="write the Markdown here (default: stdout)"),
) -> int:
    if not (run_dir / EVENTS_FILE).is_file():
        raise ConfigError(f"not a run folder (no {EVENTS_FILE})", source=str(run_dir))
    try:
        folder = read_run_folder(run_dir)
        summary = summarize(folder)
    except MeasurementError as exc:  # a damaged suite.json or records file, named in it
        raise ConfigError(str(exc)) from None
    chosen = _stack(list(folder.suite.stacks), stack, run_dir)
    regenerate = f"gameday sheet {run_dir.as_posix()} --stack {chosen}" + \
        ("" if output is None else f" --output {output.as_posix()}")
    text = reference_sheet(folder, summary, chosen, regenerate=regenerate)
    if output is None:
        typer.echo(text, nl=False)
        return 0
    write_output(output, text, "--output")
    out.print(f"sheet: {escape(str(output))}", highlight=False)
    return 0


def _stack(stacks: list[str], stack: str | None, run_dir: Path) -> str:
    if stack is None:
        if len(stacks) == 1:
            return stacks[0]
        raise ConfigError(f"the run served {', '.join(stacks)}: name one with --stack",
                          source=str(run_dir))
    if stack not in stacks:
        raise ConfigError(f"unknown stack {stack!r}: the run served {', '.join(stacks)}",
                          source="--stack")
    return stack
