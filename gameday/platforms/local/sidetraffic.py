"""What the side processes that send their own traffic share (``burst``: a queue burst on
Triton, ``population``: a shifted client population): raw HTTP/1.1 over asyncio streams (one
request's bytes made once, a response read to its end by its Content-Length), their status
file, loopback-only targets, the arguments every one takes, and the loop that runs their tasks
until SIGTERM, SIGINT or the deadline. Standard library only: the child starts fast."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

__all__ = ["STATUS_EVERY_S", "cancel_all", "post_request", "read_status", "run_until_stopped",
           "side_parser", "write_status"]

STATUS_EVERY_S = 0.5
_CANCEL_AGAIN_S = 0.5


class _Stats(Protocol):
    state: str

    def document(self) -> dict[str, object]: ...


def post_request(host: str, path: str, body: bytes) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def read_status(reader: asyncio.StreamReader) -> str:
    """Read one response; its status code (the servers answer with a Content-Length)."""
    status = (await reader.readuntil(b"\r\n")).split(b" ", 2)[1].decode()
    length = 0
    while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


def write_status(path: Path, stats: _Stats) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(stats.document()))
    tmp.replace(path)


def _loopback_target(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise argparse.ArgumentTypeError(f"{text}: only loopback targets (the network rule)")
    return host, int(port)


def side_parser(prog: str, body_help: str) -> argparse.ArgumentParser:
    """The arguments every side process takes: its targets (loopback only), pid and status
    files, the request path and body file, and its own deadline."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("targets", nargs="+", type=_loopback_target, metavar="HOST:PORT")
    parser.add_argument("--pidfile", required=True)
    parser.add_argument("--status", required=True, type=Path)
    parser.add_argument("--path", required=True)
    parser.add_argument("--body-file", required=True, type=Path, help=body_help)
    parser.add_argument("--max-duration-s", type=float, default=300.0)
    return parser


async def cancel_all(tasks: Sequence[asyncio.Task[None]]) -> None:
    """Cancel the tasks and wait until every one has ended, cancelling again what is left
    every ``_CANCEL_AGAIN_S``: a task can lose a cancellation (on Python 3.11 an
    ``asyncio.wait_for`` whose inner call finishes as the cancellation arrives returns its
    result instead, gh-86296) and would otherwise keep the process alive after SIGTERM."""
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=_CANCEL_AGAIN_S)
    await asyncio.gather(*tasks, return_exceptions=True)  # their errors read, not logged


async def run_until_stopped(tasks: Sequence[asyncio.Task[None]], stats: _Stats,
                            max_duration_s: float, status: Path) -> None:
    """Write the status every 0.5 s until SIGTERM / SIGINT or the deadline, then cancel the
    tasks and write it a last time, its state ``stopped`` or ``deadline``."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    deadline_s = loop.time() + max_duration_s
    while not stop.is_set() and loop.time() < deadline_s:
        write_status(status, stats)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), min(STATUS_EVERY_S, deadline_s - loop.time()))
    await cancel_all(tasks)
    stats.state = "stopped" if stop.is_set() else "deadline"
    write_status(status, stats)
