"""What every load generator child shares (the HTTP pacer and the numbered writer): its
command line (``--plan --run-dir --name --parent-pid``), its watch on the parent and its
``load_start`` event."""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from gameday.errors import LoadError

__all__ = ["load_start_detail", "note_stops", "parse_child_args", "read_plan_text",
           "watch_parent"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_PARENT_POLL_S = 0.5


def parse_child_args(argv: list[str] | None, *, prog: str, description: str, plan_kind: str,
                     default_name: str,
                     more: Callable[[argparse.ArgumentParser], None] | None = None
                     ) -> argparse.Namespace:
    """The shared command line; ``more`` adds a child's own options (the master's)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--plan", type=Path, required=True, help=f"{plan_kind} JSON file")
    parser.add_argument("--run-dir", type=Path, required=True, help="run folder to write into")
    parser.add_argument("--name", default=default_name,
                        help="generator name (requests-<name>.csv)")
    parser.add_argument("--parent-pid", type=int, default=None,
                        help="stop when this process is no longer our parent")
    if more is not None:
        more(parser)
    return parser.parse_args(argv)


def read_plan_text(args: argparse.Namespace) -> str:
    """The plan file's text, once the generator name and the run folder are checked."""
    if not _NAME.fullmatch(args.name):
        raise LoadError(f"--name {args.name!r}: expected letters, digits, '_', '.', '-'")
    if not args.run_dir.is_dir():
        raise LoadError(f"--run-dir {args.run_dir}: not a directory")
    try:
        return str(args.plan.read_text())
    except OSError as exc:
        raise LoadError(f"--plan {args.plan}: cannot read: {exc.strerror}") from None


def note_stops() -> list[str]:
    """Until the child handles SIGTERM/SIGINT itself (after Locust's import), note them."""
    noted: list[str] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, _frame: noted.append(signal.Signals(number).name))
    return noted


class _Stopping(Protocol):
    def wait(self, timeout: float | None = None) -> bool: ...


def watch_parent(stopping: _Stopping, parent_pid: int, who: str,
                 request_stop: Callable[[str], None]) -> None:
    """Until ``stopping`` is set: stop the generator once its parent is gone (a threading or a
    gevent event alike)."""
    while not stopping.wait(_PARENT_POLL_S):
        if os.getppid() != parent_pid:
            print(f"{who}: parent {parent_pid} is gone, stopping", file=sys.stderr, flush=True)
            request_stop("parent died")


def load_start_detail(who: str, t0_s: float, late_start_s: float, *, rate_per_s: float,
                      arrival: str, sends_scheduled: int, plan: dict[str, Any]
                      ) -> dict[str, Any]:
    """The ``load_start`` event's detail, saying on stderr when the schedule was re-based."""
    if late_start_s:
        print(f"{who}: ready {late_start_s:.3f} s after start_at_s; schedule re-based to now",
              file=sys.stderr, flush=True)
    return {"t0_s": t0_s, "target_rate_per_s": rate_per_s, "arrival": arrival,
            "sends_scheduled": sends_scheduled, "rebased": late_start_s > 0,
            "late_start_s": late_start_s, "plan": plan}
