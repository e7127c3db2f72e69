"""Game-day mode: run a suite with an operator at the terminal, who injects each scenario
(i), rolls it back (r), adds notes (n) and ends the day (q), watching a live dashboard.

The suite's load.duration_s is the game day's length: the load runs that long after its
warm-up, and a scenario not injected by then is not run. The hypothesis comes from the
suite (gameday.hypothesis) or is asked for at the start. The operator's actions go to
operator.jsonl and the report's Game day section. q stops the run as Ctrl-C does: every
fault rolled back, the report written, exit 2 (exit codes as gameday run). Needs a terminal
on stdin; works over SSH and in tmux.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import typer
from rich.console import Console
from rich.markup import escape

from gameday.cli.console import err, out, print_summary, progress
from gameday.cli.options import (
    HomeOption,
    PlatformOption,
    load_suite_with_overrides,
    resolve_platform,
)
from gameday.config import GameDayOptions, Suite
from gameday.errors import ConfigError, GamedayError
from gameday.interrupts import StopSignals
from gameday.live.keys import TerminalKeys
from gameday.live.session import LiveSession
from gameday.operator_log import OperatorLog
from gameday.preflight import check_suite
from gameday.run import HarnessCrash, RunInterrupted, new_run_dir, run_suite
from gameday.triggers import OperatorTrigger
from reports import build_reports

NAME = "gameday"

NOT_A_TERMINAL = ("game-day mode needs an operator at a terminal, and stdin is not one; "
                  "for a run without an operator use `gameday run`")


def command(
    suite: Path = typer.Argument(..., help="suite file; its load.duration_s is the game "
                                 "day's length"),
    runs_dir: Path = typer.Option(Path("runs"), help="where run folders are written"),
    set_: list[str] = typer.Option([], "--set", help="override a suite value: key.path=value"),
    platform: PlatformOption = None,
    home: HomeOption = None,
) -> int:
    if not sys.stdin.isatty():
        raise ConfigError(NOT_A_TERMINAL)
    loaded = load_suite_with_overrides(suite, set_)
    target = resolve_platform(platform, home, loaded)
    checked = check_suite(loaded.model_copy(update={"platform": target.name}))
    day = _with_hypothesis(checked.suite)
    # what the host lacks (kind, docker, haproxy) is said before a run folder is made
    target.open().check_prerequisites()
    run_dir = new_run_dir(runs_dir, day.name)
    progress(f"run folder {run_dir}")
    log = OperatorLog(run_dir)
    log.record("hypothesis", text=day.gameday.hypothesis)
    stops = StopSignals()
    trigger = OperatorTrigger(stops, [scenario.name for scenario in day.scenarios])
    failure: GamedayError | None = None
    with _signals_kept_from_the_terminal(), TerminalKeys() as keys, \
            LiveSession(run_dir, day, trigger, log, keys, Console(highlight=False)) as session:
        try:
            run_suite(day, run_dir, progress=session.progress, home=target.home,
                      trigger=trigger, stops=stops)
        except GamedayError as exc:
            failure = exc
    summary = build_reports(run_dir)  # first: the terminal may be gone (a dropped SSH link)
    with contextlib.suppress(OSError):
        for line in session.history:
            progress(line)
        if session.failure is not None:
            err.print(f"[yellow]the dashboard stopped early:[/yellow] "
                      f"{escape(repr(session.failure))}", highlight=False)
        _say(failure)
        print_summary(summary, run_dir)
    return 2 if failure is not None and summary.exit_code == 0 else summary.exit_code


def _with_hypothesis(suite: Suite) -> Suite:
    """The suite with the operator's hypothesis in it (asked for when the suite has none),
    so suite.json holds it too."""
    if suite.gameday.hypothesis:
        return suite
    typed = out.input("[bold]Hypothesis[/bold] for this game day (what should hold, "
                      "Enter for none): ").strip()
    return suite.model_copy(update={"gameday": GameDayOptions(hypothesis=typed)})


def _say(failure: GamedayError | None) -> None:
    if isinstance(failure, RunInterrupted):
        err.print("[red]interrupted[/red]: every fault rolled back; writing a partial report")
    elif failure is not None:
        err.print(f"[red]harness error:[/red] {escape(str(failure))}", highlight=False)
        if isinstance(failure, HarnessCrash):
            err.print_exception()


@contextlib.contextmanager
def _signals_kept_from_the_terminal() -> Iterator[None]:
    """The terminal's settings must come back however the command ends. Until the run puts
    its own handler in, SIGTERM unwinds (a KeyboardInterrupt) instead of killing the process
    in cbreak mode; the run's handler, once in, stays for the report. An SSH session that
    drops sends SIGHUP, which would kill the run with its fault in force: until the run's
    handler (which takes SIGHUP as it takes SIGTERM) is in, it is taken as SIGTERM."""

    def hangup(signum: int, frame: FrameType | None) -> None:
        signal.raise_signal(signal.SIGTERM)

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt("SIGTERM")

    previous_hangup = signal.signal(signal.SIGHUP, hangup)
    previous_terminate = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, previous_hangup)
        if signal.getsignal(signal.SIGTERM) is terminate:  # the run never started
            signal.signal(signal.SIGTERM, previous_terminate)
