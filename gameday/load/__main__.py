"""The load generator child: ``python -m gameday.load --plan P --run-dir D --name gen0``.

Exit 0 when the plan ran (to its end, or stopped by SIGTERM/SIGINT or the parent's death),
2 with a one-line message for a bad plan or run folder. Locust (and its gevent
monkey-patching) is imported only after the plan has been checked.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
from pathlib import Path

from gameday.errors import LoadError
from gameday.load.payloads import endpoint_for
from gameday.load.plan import LoadPlan

__all__ = ["main"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gameday.load",
                                     description="Run one open-model load plan.")
    parser.add_argument("--plan", type=Path, required=True, help="LoadPlan JSON file")
    parser.add_argument("--run-dir", type=Path, required=True, help="run folder to write into")
    parser.add_argument("--name", default="gen0", help="generator name (requests-<name>.csv)")
    parser.add_argument("--parent-pid", type=int, default=None,
                        help="stop when this process is no longer our parent")
    return parser.parse_args(argv)


def _load(args: argparse.Namespace) -> LoadPlan:
    if not _NAME.match(args.name):
        raise LoadError(f"--name {args.name!r}: expected letters, digits, '_', '.', '-'")
    if not args.run_dir.is_dir():
        raise LoadError(f"--run-dir {args.run_dir}: not a directory")
    try:
        text = args.plan.read_text()
    except OSError as exc:
        raise LoadError(f"--plan {args.plan}: cannot read: {exc.strerror}") from None
    plan = LoadPlan.from_json(text, source=str(args.plan))
    endpoint_for(plan.stack, plan.endpoint)
    return plan


def _note_stops() -> list[str]:
    """Until the pacer handles SIGTERM/SIGINT itself (after Locust's import), note them."""
    noted: list[str] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, _frame: noted.append(signal.Signals(number).name))
    return noted


def main(argv: list[str] | None = None) -> int:
    early_stops = _note_stops()
    args = _parse(argv)
    try:
        plan = _load(args)
    except LoadError as exc:
        print(f"gameday.load: error: {exc}", file=sys.stderr)
        return 2
    from gameday.load.pacer import Pacer  # imports locust, which monkey-patches with gevent

    totals = Pacer(plan, args.run_dir, args.name, args.parent_pid).run(early_stops)
    print(f"gameday.load {args.name}: sent {totals['sent']}, ok {totals['ok']}, "
          f"late {totals['late']}, stopped by {totals['stopped_by'] or 'end of plan'}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
