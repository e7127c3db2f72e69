"""The consoles every command prints to: progress on stderr, results on stdout."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from reports.summary import Summary

__all__ = ["err", "out", "print_summary", "progress"]

# soft_wrap: a long message (a path, a field) stays on one line, so grep and CI logs find it.
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def progress(message: str) -> None:
    err.print(f"[dim]·[/dim] {escape(message)}", highlight=False)


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.3f} s"


def print_summary(summary: Summary, run_dir: Path) -> None:
    """What an SRE reads first: each SLO, each scenario's RTO with its parts, the verdict."""
    for slo in summary.slos:
        mark = "[green]✓[/green]" if slo.passed else "[red]✗[/red]"
        out.print(f"  {mark} {escape(slo.name)}: {escape(slo.message)}", highlight=False)
    for outcome in summary.scenarios:
        rto = outcome.rto
        if rto is None:
            out.print(f"  {escape(outcome.name)}: the fault never started", highlight=False)
            continue
        out.print(f"  {escape(outcome.name)} ({outcome.target_region}): RTO {_seconds(rto.rto_s)} "
                  f"(detect {_seconds(rto.detect_s)}, failover {_seconds(rto.failover_s)}; "
                  f"{rto.bad_requests} bad of {rto.requests} requests)", highlight=False)
    colour = {"pass": "green", "fail": "red"}.get(summary.verdict, "yellow")
    out.print(f"[{colour}]{summary.verdict.upper()}[/{colour}] {escape(summary.reason or '')}",
              highlight=False)
    out.print(f"report: {escape(str(run_dir / 'report.html'))}", highlight=False)
