"""Rebuild summary.json, report.html and junit.xml of a run from its folder alone."""

from __future__ import annotations

from pathlib import Path

import typer

from gameday.cli.console import print_summary
from gameday.errors import ConfigError
from reports import build_reports

NAME = "report"


def command(run_dir: Path = typer.Argument(..., help="a run folder, e.g. runs/<id>")) -> int:
    if not (run_dir / "events.jsonl").is_file():
        raise ConfigError("not a run folder (no events.jsonl)", source=str(run_dir))
    summary = build_reports(run_dir)
    print_summary(summary, run_dir)
    return summary.exit_code
