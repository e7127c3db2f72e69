"""Run a suite: stand up, load, inject each scenario's fault, measure, report, verdict."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from gameday.cli.console import err, print_summary, progress
from gameday.cli.options import (
    HomeOption,
    PlatformOption,
    load_suite_with_overrides,
    resolve_platform,
)
from gameday.errors import GamedayError
from gameday.preflight import check_suite
from gameday.run import HarnessCrash, RunInterrupted, new_run_dir, run_suite
from reports import build_reports

NAME = "run"


def command(
    suite: Path = typer.Argument(..., help="suite file, e.g. suites/smoke.yaml"),
    runs_dir: Path = typer.Option(Path("runs"), help="where run folders are written"),
    set_: list[str] = typer.Option([], "--set", help="override a suite value: key.path=value"),
    platform: PlatformOption = None,
    home: HomeOption = None,
) -> int:
    loaded = load_suite_with_overrides(suite, set_)
    target = resolve_platform(platform, home, loaded)
    # Everything the suite names resolves before anything starts: no run folder, no platform.
    checked = check_suite(loaded.model_copy(update={"platform": target.name}))
    run_dir = new_run_dir(runs_dir, checked.suite.name)
    progress(f"run folder {run_dir}")
    failure: GamedayError | None = None
    try:
        run_suite(checked.suite, run_dir, progress=progress, home=target.home)
    except RunInterrupted as exc:
        failure = exc
        err.print("[red]interrupted[/red]: every fault rolled back; writing a partial report")
    except GamedayError as exc:
        failure = exc
        err.print(f"[red]harness error:[/red] {escape(str(exc))}", highlight=False)
        if isinstance(exc, HarnessCrash):
            err.print_exception()  # a bug in gameday: the trace is what a report needs
    summary = build_reports(run_dir)
    print_summary(summary, run_dir)
    return 2 if failure is not None and summary.exit_code == 0 else summary.exit_code
