"""Stand the stacks of a suite up on its platform (default: suites/smoke.yaml, local).

``--dry-run`` (kind platform) prints every command the stand-up would run, each after a
``# why`` line, and exits 0: nothing runs, no binary is needed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from gameday.blast_radius import check_kube_context
from gameday.cli.console import out, progress
from gameday.cli.options import (
    HomeOption,
    PlatformOption,
    PlatformTarget,
    load_suite_with_overrides,
    resolve_platform,
)
from gameday.config import Suite
from gameday.errors import ConfigError, PlatformError
from gameday.platforms.base import MetricsSource, Platform, StackRequest
from gameday.preflight import check_suite
from gameday.stacks import load_stack

if TYPE_CHECKING:
    from gameday.platforms.kind.commands import CommandRunner
    from gameday.platforms.kind.platform import KindPlatform

NAME = "up"


def command(
    suite: Path = typer.Argument(Path("suites/smoke.yaml"), help="suite whose stacks to stand up"),
    replicas: int | None = typer.Option(None, min=1, max=16, help="replicas per region"),
    platform: PlatformOption = None,
    home: HomeOption = None,
    dry_run: bool = typer.Option(False, "--dry-run", help="kind platform: print the commands "
                                 "the stand-up would run, then exit; nothing runs"),
) -> int:
    loaded = load_suite_with_overrides(suite, [])
    target = resolve_platform(platform, home, loaded)
    # the blast-radius guard and every reference, before anything starts (as `gameday run`)
    check_suite(loaded.model_copy(update={"platform": target.name}))
    request = StackRequest(stacks=tuple(loaded.stacks), replicas=replicas or loaded.replicas,
                           edge=loaded.edge, settings=loaded.stack_settings())
    if dry_run:
        return _dry_run(target, loaded, request)
    opened = _open_kind(target, loaded) if target.name == "kind" else target.open()
    started = time.monotonic()
    opened.up(request, progress=progress)
    out.print(f"[green]up[/green] in {time.monotonic() - started:.1f} s; edge: "
              + (", ".join(_routed(opened, loaded.stacks)) or "none (no stack is routed)"),
              highlight=False)
    if isinstance(opened, MetricsSource) and (url := opened.prometheus_url()):
        out.print(f"metrics: Prometheus at {url} (every member, 1 s scrapes)", highlight=False)
    return 0


def _dry_run(target: PlatformTarget, suite: Suite, request: StackRequest) -> int:
    if target.name != "kind":
        raise ConfigError("`gameday up --dry-run` prints the kind platform's commands; the "
                          "local platform's layout is in `gameday run SUITE --dry-run`",
                          source=target.name_from)

    from gameday.platforms.kind.commands import PrintingRunner

    def line(text: str) -> None:
        out.print(escape(text), highlight=False)

    _open_kind(target, suite, runner=PrintingRunner(line)).dry_run(request, line)
    return 0


def _open_kind(target: PlatformTarget, suite: Suite,
               runner: CommandRunner | None = None) -> KindPlatform:
    """The kind platform with the suite's blast radius as its kube-context guard (imported
    here: the other commands need none of it)."""
    from gameday.platforms.kind.platform import open_kind

    return open_kind(target.home, runner=runner,
                     check_context=partial(check_kube_context, suite))


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
