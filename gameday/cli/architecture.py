"""Draw the local platform's layout as Markdown with a Mermaid flowchart (the edge, the fault
proxy's links, both regions' members with their addresses and ports, witnesses, Prometheus),
generated from the topology `gameday up` builds, not drawn by hand. Without --suite: every
reference stack with its default settings, as docs/architecture.md shows it
(`gameday architecture --output docs/architecture.md` regenerates that file). Starts nothing.
Exit 0; 2 when the input is bad.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from gameday.architecture import architecture_markdown, default_suite, layout_topology
from gameday.cli.console import out
from gameday.cli.options import write_output
from gameday.config import load_suite

NAME = "architecture"


def command(
    suite_file: Path | None = typer.Option(
        None, "--suite", show_default=False,
        help="draw this suite's stacks, replicas and settings (default: every stack, defaults)"),
    replicas: int | None = typer.Option(
        None, "--replicas", min=1, max=16, show_default=False,
        help="replicas per region (default: the suite's, else 2)"),
    output: Path | None = typer.Option(None, "--output", "-o", show_default=False,
                                       help="write the Markdown here (default: stdout)"),
) -> int:
    if suite_file is None:
        suite = default_suite(replicas or 2)
        drawn_for = "every reference stack with each setting at its default"
    else:
        suite = load_suite(suite_file)
        if replicas is not None:
            suite = suite.model_copy(update={"replicas": replicas})
        drawn_for = f"the suite `{suite_file.as_posix()}`"
    text = architecture_markdown(suite, layout_topology(suite), drawn_for=drawn_for)
    if output is None:
        typer.echo(text, nl=False)
        return 0
    write_output(output, text, "--output")
    out.print(f"architecture: {escape(str(output))}", highlight=False)
    return 0
