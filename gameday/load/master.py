"""A generator in several processes: ``python -m gameday.load.master --plan P --run-dir D
--name gen0`` runs a Locust master and ``plan.workers`` workers (``python -m
gameday.load.worker``) on this host; together they send exactly the one-process schedule.

``LoadProcess`` starts this for a plan with ``workers > 1``; it speaks the generator protocol
(``load_start``/``load_end``, SIGTERM, parent death, exit 2 for a bad plan) and exits 1 when a
worker was lost (its ``load_end`` names it in ``workers_lost``).

Workers on other hosts: start the master bound to an address they reach, with fewer local
workers than the plan has, and allow it explicitly (every address but loopback is refused
otherwise)::

    python -m gameday.load.master --plan P --run-dir D --bind-host 10.0.0.5 \\
        --master-port 5557 --local-workers 1 --allow-remote
    # on each other host, with its own run folder (merge the requests-*.w*.csv files after):
    python -m gameday.load.worker --master-host 10.0.0.5 --master-port 5557 \\
        --run-dir D --allow-remote

The hosts' clocks must agree (NTP): every worker paces from the master's t0 by its own clock.
"""

from __future__ import annotations

import argparse
import sys

from gameday.errors import LoadError
from gameday.load.child import note_stops, parse_child_args, read_plan_text
from gameday.load.payloads import endpoint_for
from gameday.load.plan import LoadPlan
from gameday.load.workers import require_loopback_master

__all__ = ["main"]


def _more(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--master-port", type=int, default=0,
                        help="port the workers join on (0: any free port)")
    parser.add_argument("--bind-host", default="127.0.0.1", help="address the workers join on")
    parser.add_argument("--local-workers", type=int, default=None,
                        help="workers to start on this host (default: all the plan has)")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a --bind-host that is not loopback")


def _load(args: argparse.Namespace) -> LoadPlan:
    plan = LoadPlan.from_json(read_plan_text(args), source=str(args.plan))
    endpoint_for(plan.stack, plan.endpoint)
    require_loopback_master(args.bind_host, allow_remote=args.allow_remote)
    if args.local_workers is not None and not 0 <= args.local_workers <= plan.workers:
        raise LoadError(f"--local-workers {args.local_workers}: expected 0..{plan.workers} "
                        "(the plan's workers)")
    return plan


def main(argv: list[str] | None = None) -> int:
    early_stops = note_stops()
    args = parse_child_args(argv, prog="python -m gameday.load.master",
                            description="Run one open-model load plan in several workers.",
                            plan_kind="LoadPlan", default_name="gen0", more=_more)
    try:
        plan = _load(args)
    except LoadError as exc:
        print(f"gameday.load.master: error: {exc}", file=sys.stderr)
        return 2
    from gameday.load.distributed import Master  # imports locust (gevent monkey-patching)

    master = Master(plan, args.run_dir, args.name, args.parent_pid, bind_host=args.bind_host,
                    port=args.master_port, local_workers=args.local_workers)
    code, totals = master.run(early_stops)
    if totals is not None:
        print(f"gameday.load.master {args.name}: {plan.workers} workers sent {totals['sent']}, "
              f"ok {totals['ok']}, late {totals['late']}, lost {totals['workers_lost']}, "
              f"stopped by {totals['stopped_by'] or 'end of plan'}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
