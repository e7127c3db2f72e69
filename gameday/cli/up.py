"""Stand the stacks of a suite up on its platform (default: suites/smoke.yaml, local)."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from gameday.cli.console import out, progress
from gameday.cli.options import (
    HomeOption,
    PlatformOption,
    load_suite_with_overrides,
    resolve_platform,
)
from gameday.platforms.base import StackRequest
from gameday.stacks import load_stack

NAME = "up"


def command(
    suite: Path = typer.Argument(Path("suites/smoke.yaml"), help="suite whose stacks to stand up"),
    replicas: int | None = typer.Option(None, min=1, max=16, help="replicas per region"),
    platform: PlatformOption = None,
    home: HomeOption = None,
) -> int:
    loaded = load_suite_with_overrides(suite, [])
    opened = resolve_platform(platform, home, loaded).open()
    started = time.monotonic()
    opened.up(StackRequest(stacks=tuple(loaded.stacks), replicas=replicas or loaded.replicas,
                           edge_health_check=loaded.edge.health_check,
                           settings=loaded.stack_settings()), progress=progress)
    out.print(f"[green]up[/green] in {time.monotonic() - started:.1f} s; edge: "
              + (", ".join(opened.edge_url(s) for s in loaded.stacks if load_stack(s).routes)
                 or "none (no stack is routed)"), highlight=False)
    return 0
