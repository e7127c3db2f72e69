"""Show each SLI across many runs (e.g. `gameday trend runs/*`), with its change points.

Per stack and run: p50 and p99 latency of ok requests, availability, the rag stack's p99 time
to first token, over the whole run by default (--scope, as `gameday compare`); runs in start
order (events.jsonl).
Change points: E-divisive with means and a seeded permutation test. Runs of another suite than
the newest run's are skipped (--suite NAME picks one, --any-suite keeps all), and so is a path
that is not a run folder; both are listed. Exit 0, or 2 when no run folder is left.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from gameday.cli.console import out
from gameday.cli.options import scope_option, write_output
from gameday.errors import ConfigError
from gameday.measure.changepoints import FEW_VALUES
from reports.compare_text import print_table
from reports.trend import ChangeSettings, Trend, read_trend, trend_document
from reports.trend_page import render_trend_html, trend_table

NAME = "trend"


def command(
    run_dirs: list[Path] = typer.Argument(..., help="run folders, e.g. runs/*"),
    scope: str = typer.Option("all", "--scope",
                              help="all | outside_faults | during_faults"),
    suite: str | None = typer.Option(None, "--suite", show_default=False,
                                     help="keep the runs of this suite (default: the newest "
                                          "run's)"),
    any_suite: bool = typer.Option(False, "--any-suite", help="keep the runs of every suite"),
    pvalue: float = typer.Option(0.01, "--pvalue", help="of each change point's test"),
    permutations: int = typer.Option(999, "--permutations", help="shuffles per test"),
    seed: int = typer.Option(0, "--seed", help="of the shuffles"),
    json_file: Path | None = typer.Option(None, "--json", show_default=False,
                                          help="also write the series as JSON here"),
    html_file: Path | None = typer.Option(None, "--html", show_default=False,
                                          help="also write a self-contained HTML page here"),
) -> int:
    chosen = scope_option(scope)
    if not 0 < pvalue < 1:
        raise ConfigError(f"must be between 0 and 1, got {pvalue}", source="--pvalue")
    if permutations < 1:
        raise ConfigError(f"must be at least 1, got {permutations}", source="--permutations")
    if suite is not None and any_suite:
        raise ConfigError("--suite and --any-suite exclude each other", source="--any-suite")
    trend = read_trend(run_dirs, scope=chosen, suite=suite, any_suite=any_suite,
                       settings=ChangeSettings(pvalue=pvalue, permutations=permutations,
                                               seed=seed))
    _print(trend)
    if json_file is not None:
        write_output(json_file, json.dumps(trend_document(trend), indent=2, allow_nan=False) + "\n",
               "--json")
    if html_file is not None:
        write_output(html_file, render_trend_html(trend), "--html")
    return 0



def _print(trend: Trend) -> None:
    for path, why in trend.skipped:
        out.print(f"[yellow]skipped[/yellow] {escape(path)}: {escape(why)}", highlight=False)
    print_table(out, trend_table(trend))
    if len(trend.runs) < FEW_VALUES:
        out.print(f"[yellow]note:[/yellow] {len(trend.runs)} runs: with fewer than {FEW_VALUES}"
                  " a change point is seldom significant, however large the step",
                  highlight=False)
