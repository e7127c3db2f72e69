"""Stand the stacks of a suite up on its platform (default: suites/smoke.yaml, local)."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from gameday.cli.console import out, progress
from gameday.cli.options import load_suite_with_overrides
from gameday.platforms import open_platform
from gameday.platforms.base import StackRequest

NAME = "up"


def command(
    suite: Path = typer.Argument(Path("suites/smoke.yaml"), help="suite whose stacks to stand up"),
    replicas: int | None = typer.Option(None, min=1, max=16, help="replicas per region"),
) -> int:
    loaded = load_suite_with_overrides(suite, [])
    platform = open_platform(loaded.platform)
    started = time.monotonic()
    platform.up(StackRequest(stacks=tuple(loaded.stacks), replicas=replicas or loaded.replicas,
                             edge_health_check=loaded.edge.health_check), progress=progress)
    out.print(f"[green]up[/green] in {time.monotonic() - started:.1f} s; edge: "
              + ", ".join(platform.edge_url(s) for s in loaded.stacks), highlight=False)
    return 0
