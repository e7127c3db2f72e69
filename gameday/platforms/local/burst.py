"""The queue burst's side process: ``concurrency`` inference requests in flight to each target
(a loopback ``host:port``) until SIGTERM or its own deadline, whichever comes first.

    python -m gameday.platforms.local.burst --pidfile P --status S --path /v2/models/m/infer \\
        --body-file B.json --concurrency 64 --max-duration-s 300 127.10.4.1:18300 ...

Each worker keeps one HTTP/1.1 keep-alive connection and sends the next request as soon as the
last one answered (a closed loop: at most ``concurrency`` wait on each server). The
deadline is kept twice: the event loop stops at it, and ``SIGALRM`` (its default action ends
the process) a few seconds later ends it even if the loop is stuck. Every half second it
rewrites ``--status`` (JSON: its state, and per target sent, answered by HTTP status, errors,
in flight) for ``verify``; the last write says why it ended (``stopped`` or ``deadline``).
``--pidfile`` is only carried on the command line: it names this process for the undo.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from gameday.platforms.local.sidetraffic import (
    post_request,
    read_status,
    run_until_stopped,
    side_parser,
)

__all__ = ["BurstStats", "TargetStats", "main"]

_CONNECT_TIMEOUT_S = 2.0
_RETRY_PAUSE_S = 0.05  # after a refused or dropped connection
_ALARM_GRACE_S = 5


@dataclass
class TargetStats:
    sent: int = 0
    in_flight: int = 0
    answered: Counter[str] = field(default_factory=Counter)  # HTTP status -> count
    errors: Counter[str] = field(default_factory=Counter)  # exception name -> count

    def document(self) -> dict[str, object]:
        return {"sent": self.sent, "in_flight": self.in_flight,
                "answered": dict(self.answered), "errors": dict(self.errors)}


@dataclass
class BurstStats:
    targets: dict[str, TargetStats]  # "host:port" -> its figures
    state: str = "bursting"
    started_s: float = field(default_factory=time.time)

    def document(self) -> dict[str, object]:
        return {"state": self.state, "pid": os.getpid(), "started_s": self.started_s,
                "t_s": time.time(),
                "targets": {name: each.document() for name, each in self.targets.items()}}


async def _worker(host: str, port: int, request: bytes, stats: TargetStats) -> None:
    while True:
        writer = None
        try:
            async with asyncio.timeout(_CONNECT_TIMEOUT_S):
                reader, writer = await asyncio.open_connection(host, port)
            while True:
                writer.write(request)
                stats.sent += 1
                stats.in_flight += 1
                try:
                    stats.answered[await read_status(reader)] += 1
                finally:
                    stats.in_flight -= 1
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError,
                IndexError) as exc:
            stats.errors[type(exc).__name__] += 1
            await asyncio.sleep(_RETRY_PAUSE_S)
        finally:
            if writer is not None:
                writer.close()


async def _burst(targets: list[tuple[str, int]], request_for: dict[str, bytes],
                 concurrency: int, max_duration_s: float, status: Path) -> BurstStats:
    stats = BurstStats(targets={f"{host}:{port}": TargetStats() for host, port in targets})
    workers = [asyncio.create_task(_worker(host, port, request_for[host],
                                           stats.targets[f"{host}:{port}"]))
               for host, port in targets for _ in range(concurrency)]
    await run_until_stopped(workers, stats, max_duration_s, status)
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = side_parser("python -m gameday.platforms.local.burst", "the request body (JSON)")
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args(argv)
    signal.alarm(int(args.max_duration_s) + _ALARM_GRACE_S)
    body = json.dumps(json.loads(args.body_file.read_text())).encode()
    requests = {host: post_request(host, args.path, body) for host, _ in args.targets}
    asyncio.run(_burst(args.targets, requests, args.concurrency, args.max_duration_s,
                       args.status))
    return 0


if __name__ == "__main__":
    sys.exit(main())
