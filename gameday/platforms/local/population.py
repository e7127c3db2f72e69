"""A client population's side process: requests sent open loop at ``rate_per_s`` to each
target (a loopback ``host:port``), the bodies cycled from a file, until SIGTERM or its own
deadline, whichever comes first (the input-drift fault's shifted population).

    python -m gameday.platforms.local.population --pidfile P --status S --path /predict \\
        --body-file B.json --rate-per-s 100 --max-duration-s 300 127.10.1.1:18100 ...

Open loop: the n-th request to a target is due at start + n / rate whether or not the ones
before it were answered; up to ``connections`` keep-alive connections per target send what is
due. A request still unsent when ``connections`` more came due is dropped and counted (the
population stays bounded when the target stalls). The deadline is kept twice: the loop stops
at it, and ``SIGALRM`` (its default action ends the process) a few seconds later ends it even
if the loop is stuck. Every half second it rewrites ``--status`` (JSON: its state, and per
target sent, answered by HTTP status, errors, dropped); the last write says why it ended
(``stopped`` or ``deadline``). ``--pidfile`` is only carried on the command line: it names
this process for the undo.
"""

from __future__ import annotations

import asyncio
import itertools
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

__all__ = ["PopulationStats", "TargetStats", "main"]

_CONNECT_TIMEOUT_S = 2.0
_ANSWER_TIMEOUT_S = 5.0
_RETRY_PAUSE_S = 0.05  # after a refused or dropped connection
_ALARM_GRACE_S = 5


@dataclass
class TargetStats:
    sent: int = 0
    dropped: int = 0  # came due while every connection was busy and the queue full
    answered: Counter[str] = field(default_factory=Counter)  # HTTP status -> count
    errors: Counter[str] = field(default_factory=Counter)  # exception name -> count

    def document(self) -> dict[str, object]:
        return {"sent": self.sent, "dropped": self.dropped, "answered": dict(self.answered),
                "errors": dict(self.errors)}


@dataclass
class PopulationStats:
    targets: dict[str, TargetStats]  # "host:port" -> its figures
    rate_per_s: float
    state: str = "sending"
    started_s: float = field(default_factory=time.time)

    def document(self) -> dict[str, object]:
        return {"state": self.state, "pid": os.getpid(), "started_s": self.started_s,
                "t_s": time.time(), "rate_per_s": self.rate_per_s,
                "targets": {name: each.document() for name, each in self.targets.items()}}


async def _connection(host: str, port: int, due: asyncio.Queue[bytes],
                      stats: TargetStats) -> None:
    """One keep-alive connection sending what comes due, reconnecting after an error."""
    while True:
        writer = None
        try:
            async with asyncio.timeout(_CONNECT_TIMEOUT_S):
                reader, writer = await asyncio.open_connection(host, port)
            while True:
                request = await due.get()
                writer.write(request)
                stats.sent += 1
                async with asyncio.timeout(_ANSWER_TIMEOUT_S):
                    answer = await read_status(reader)
                stats.answered[answer] += 1
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError,
                IndexError) as exc:
            stats.errors[type(exc).__name__] += 1
            await asyncio.sleep(_RETRY_PAUSE_S)
        finally:
            if writer is not None:
                writer.close()


async def _schedule(requests: list[bytes], rate_per_s: float, due: asyncio.Queue[bytes],
                    stats: TargetStats) -> None:
    """Put the n-th request on ``due`` at start + n / rate (open loop); drop it if full."""
    loop = asyncio.get_running_loop()
    start_s = loop.time()
    for n, request in enumerate(itertools.cycle(requests)):
        await asyncio.sleep(max(0.0, start_s + n / rate_per_s - loop.time()))
        try:
            due.put_nowait(request)
        except asyncio.QueueFull:
            stats.dropped += 1


async def _populate(targets: list[tuple[str, int]], bodies: list[bytes], path: str,
                    rate_per_s: float, connections: int, max_duration_s: float,
                    status: Path) -> PopulationStats:
    stats = PopulationStats(targets={f"{h}:{p}": TargetStats() for h, p in targets},
                            rate_per_s=rate_per_s)
    tasks = []
    for host, port in targets:
        target = stats.targets[f"{host}:{port}"]
        due: asyncio.Queue[bytes] = asyncio.Queue(maxsize=connections)
        requests = [post_request(host, path, body) for body in bodies]
        tasks.append(asyncio.create_task(_schedule(requests, rate_per_s, due, target)))
        tasks += [asyncio.create_task(_connection(host, port, due, target))
                  for _ in range(connections)]
    await run_until_stopped(tasks, stats, max_duration_s, status)
    return stats


def _bodies(path: Path) -> list[bytes]:
    document = json.loads(path.read_text())
    bodies = [json.dumps(body, separators=(",", ":")).encode() for body in document["bodies"]]
    if not bodies:
        raise SystemExit(f"{path}: no bodies to send")
    return bodies


def main(argv: list[str] | None = None) -> int:
    parser = side_parser("python -m gameday.platforms.local.population",
                         'JSON {"bodies": [...]}: the request bodies, cycled')
    parser.add_argument("--rate-per-s", type=float, default=100.0, help="per target")
    parser.add_argument("--connections", type=int, default=16, help="per target")
    args = parser.parse_args(argv)
    if not 0 < args.rate_per_s <= 10_000 or not 1 <= args.connections <= 256:
        parser.error("--rate-per-s must be in (0, 10000], --connections in [1, 256]")
    signal.alarm(int(args.max_duration_s) + _ALARM_GRACE_S)
    asyncio.run(_populate(args.targets, _bodies(args.body_file), args.path, args.rate_per_s,
                          args.connections, args.max_duration_s, args.status))
    return 0


if __name__ == "__main__":
    sys.exit(main())
