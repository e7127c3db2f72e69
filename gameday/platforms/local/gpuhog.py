"""The GPU memory hog's side process: takes ``fraction`` of a GPU's free memory through the CUDA
driver API and holds it until SIGTERM or its own deadline, whichever comes first.

    python -m gameday.platforms.local.gpuhog --pidfile P --status S --device 0 \\
        --fraction 0.95 --max-duration-s 300

It allocates in chunks (1 GiB, halved whenever the driver says out of memory, down to 2 MiB)
until it holds ``fraction`` of what was free once its own context existed. ``--status``
(JSON) says ``holding`` with the bytes held and the device's free memory, refreshed every half
second, or ``failed`` with the driver's error. The deadline is kept twice, as the burst's is
(the wait ends at it; ``SIGALRM`` a few seconds later ends the process anyway). Whatever
happens, the driver gives the memory back when the process ends.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from gameday.platforms.local.cuda import CudaError, Driver

__all__ = ["hold", "main"]

_FIRST_CHUNK = 1 << 30
_SMALLEST_CHUNK = 2 << 20
_STATUS_EVERY_S = 0.5
_ALARM_GRACE_S = 5


def _write(path: Path, document: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "t_s": time.time(), **document}))
    tmp.replace(path)


def hold(driver: Driver, target_bytes: int) -> list[tuple[int, int]]:
    """Allocate up to ``target_bytes``: the (pointer, size) of every chunk held."""
    chunks: list[tuple[int, int]] = []
    held, chunk = 0, _FIRST_CHUNK
    while held < target_bytes and chunk >= _SMALLEST_CHUNK:
        size = min(chunk, target_bytes - held)
        pointer = driver.allocate(size)
        if pointer is None:
            chunk //= 2
            continue
        chunks.append((pointer, size))
        held += size
    return chunks


def _run(args: argparse.Namespace, stop: threading.Event) -> None:
    driver = Driver(args.device)
    free_before, total = driver.memory()
    target = int(free_before * args.fraction)
    chunks = hold(driver, target)
    held = sum(size for _, size in chunks)
    deadline_s = time.monotonic() + args.max_duration_s
    while not stop.is_set() and time.monotonic() < deadline_s:
        free_now, _ = driver.memory()
        _write(args.status, {"state": "holding", "device": args.device,
                             "free_before_bytes": free_before, "total_bytes": total,
                             "target_bytes": target, "held_bytes": held,
                             "free_bytes": free_now})
        stop.wait(min(_STATUS_EVERY_S, max(0.0, deadline_s - time.monotonic())))
    for pointer, _ in chunks:
        driver.release(pointer)
    driver.close()
    _write(args.status, {"state": "stopped" if stop.is_set() else "deadline",
                         "device": args.device, "held_bytes": 0})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gameday.platforms.local.gpuhog")
    parser.add_argument("--pidfile", required=True)
    parser.add_argument("--status", required=True, type=Path)
    parser.add_argument("--device", type=int, default=0)
    parser.add_argument("--fraction", type=float, default=0.95)
    parser.add_argument("--max-duration-s", type=float, default=300.0)
    args = parser.parse_args(argv)
    signal.alarm(int(args.max_duration_s) + _ALARM_GRACE_S)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        _run(args, stop)
    except (CudaError, OSError) as exc:
        _write(args.status, {"state": "failed", "device": args.device, "error": str(exc)})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
