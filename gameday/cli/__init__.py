"""The ``gameday`` command line: thin, one module per command; errors become exit codes.

Exit codes: 0 every SLO held, 1 an SLO was breached, 2 the harness failed or the input was bad
(the message names the file and field), 3 a stop condition aborted a scenario (its fault rolled
back; neither pass nor breach), 130 interrupted before a run folder existed.
"""

from __future__ import annotations

import sys
from importlib import metadata

import typer
from rich.markup import escape
from typer._click import exceptions as typer_click  # typer >= 0.20 vendors click

import gameday
from gameday.cli import (
    architecture,
    compare,
    down,
    forecast,
    gameday_cmd,
    pipeline,
    report,
    run,
    sheet,
    status,
    trend,
    up,
    validate,
)
from gameday.cli import eval as eval_
from gameday.cli.console import err, out
from gameday.errors import ConfigError, GamedayError

__all__ = ["app", "main", "version"]

DISTRIBUTION = "gameday-ai"  # `gameday` on PyPI is an unrelated project

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Chaos and resilience runs for multi-region AI serving.")
for module in (up, down, status, run, gameday_cmd, report, compare, trend, forecast, validate,
               eval_, sheet, architecture, pipeline):
    app.command(name=module.NAME, help=module.__doc__)(module.command)


def version() -> str:
    """The installed distribution's version; the package's own when run from a bare checkout."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return gameday.__version__


def _print_version(requested: bool) -> None:
    if requested:
        out.print(f"gameday {version()}", highlight=False)
        raise typer.Exit(0)


@app.callback()
def _options(
    _version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                  help="print the version and exit"),
) -> None:
    """Chaos and resilience runs for multi-region AI serving."""


def main(argv: list[str] | None = None) -> int:
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="gameday", standalone_mode=False)
    except typer_click.NoArgsIsHelpError:
        return 0  # typer has printed the help
    except typer_click.ClickException as exc:
        exc.show()
        return 2
    except typer.Abort:
        err.print("[red]aborted[/red]")
        return 130
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        return 2
    except GamedayError as exc:
        err.print(f"[red]harness error:[/red] {escape(str(exc))}", highlight=False)
        return 2
    except KeyboardInterrupt:
        err.print("[red]interrupted[/red]")
        return 130
    except Exception:  # a bug in gameday: exit 2 (harness failed), never 1 (SLO breached)
        err.print("[red]internal error[/red] (a bug in gameday; please report it with this "
                  "trace):", highlight=False)
        err.print_exception()
        return 2
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
