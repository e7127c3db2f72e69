"""The load generator child: ``python -m gameday.load --plan P --run-dir D --name gen0``.

Exit 0 when the plan ran (to its end, or stopped by SIGTERM/SIGINT or the parent's death),
2 with a one-line message for a bad plan or run folder. Locust (and its gevent
monkey-patching) is imported only after the plan has been checked.
"""

from __future__ import annotations

import argparse
import sys

from gameday.errors import LoadError
from gameday.load.child import note_stops, parse_child_args, read_plan_text
from gameday.load.payloads import endpoint_for
from gameday.load.plan import LoadPlan

__all__ = ["main"]

def _parse(argv: list[str] | None) -> argparse.Namespace:
    return parse_child_args(argv, prog="python -m gameday.load",
                            description="Run one open-model load plan.", plan_kind="LoadPlan",
                            default_name="gen0")


def _load(args: argparse.Namespace) -> LoadPlan:
    text = read_plan_text(args)
    plan = LoadPlan.from_json(text, source=str(args.plan))
    endpoint_for(plan.stack, plan.endpoint)
    return plan


def main(argv: list[str] | None = None) -> int:
    early_stops = note_stops()
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
