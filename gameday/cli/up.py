"""Stand the stacks of a suite up on its platform (default: suites/smoke.yaml, local)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import typer

from gameday.cli.console import out, progress
from gameday.cli.options import (
    HomeOption,
    PlatformOption,
    load_suite_with_overrides,
    resolve_platform,
)
from gameday.errors import PlatformError
from gameday.platforms.base import MetricsSource, Platform, StackRequest
from gameday.preflight import check_suite
from gameday.stacks import load_stack

NAME = "up"


def command(
    suite: Path = typer.Argument(Path("suites/smoke.yaml"), help="suite whose stacks to stand up"),
    replicas: int | None = typer.Option(None, min=1, max=16, help="replicas per region"),
    platform: PlatformOption = None,
    home: HomeOption = None,
) -> int:
    loaded = load_suite_with_overrides(suite, [])
    target = resolve_platform(platform, home, loaded)
    # the blast-radius guard and every reference, before anything starts (as `gameday run`)
    check_suite(loaded.model_copy(update={"platform": target.name}))
    opened = target.open()
    started = time.monotonic()
    opened.up(StackRequest(stacks=tuple(loaded.stacks), replicas=replicas or loaded.replicas,
                           edge=loaded.edge,
                           settings=loaded.stack_settings()), progress=progress)
    out.print(f"[green]up[/green] in {time.monotonic() - started:.1f} s; edge: "
              + (", ".join(_routed(opened, loaded.stacks)) or "none (no stack is routed)"),
              highlight=False)
    if isinstance(opened, MetricsSource) and (url := opened.prometheus_url()):
        out.print(f"metrics: Prometheus at {url} (every member, 1 s scrapes)", highlight=False)
    return 0


def _routed(platform: Platform, stacks: Sequence[str]) -> list[str]:
    """The edge URLs of the stacks the edge routes (a suite may leave a stack's routed
    component out: the rag store without its service)."""
    urls = []
    for stack in stacks:
        if not load_stack(stack).routes:
            continue
        try:
            urls.append(platform.edge_url(stack))
        except PlatformError:
            continue
    return urls
