"""One worker of a generator: ``python -m gameday.load.worker --master-host H --master-port P
--run-dir D`` joins the master (Locust's worker runner), paces the share of the schedule the
master gives it and records into ``requests-<generator>.w<i>.csv``; ``gameday.load.master``
starts its local workers this way, and says how workers on other hosts join.

Exit 0 when its share ran (or was stopped), 2 for bad arguments or when it got no share.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gameday.errors import LoadError
from gameday.load.child import note_stops
from gameday.load.workers import require_loopback_master

__all__ = ["main"]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gameday.load.worker",
                                     description="Pace a share of a load plan for its master.")
    parser.add_argument("--master-host", default="127.0.0.1")
    parser.add_argument("--master-port", type=int, required=True)
    parser.add_argument("--run-dir", type=Path, required=True, help="run folder to write into")
    parser.add_argument("--parent-pid", type=int, default=None,
                        help="stop when this process is no longer our parent")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a --master-host that is not loopback")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    early_stops = note_stops()
    args = _parse(argv)
    try:
        require_loopback_master(args.master_host, allow_remote=args.allow_remote)
        if not args.run_dir.is_dir():
            raise LoadError(f"--run-dir {args.run_dir}: not a directory")
    except LoadError as exc:
        print(f"gameday.load.worker: error: {exc}", file=sys.stderr)
        return 2
    from gameday.load.distributed import Worker  # imports locust (gevent monkey-patching)

    return Worker(args.master_host, args.master_port, args.run_dir,
                  args.parent_pid).run(early_stops)


if __name__ == "__main__":
    sys.exit(main())
