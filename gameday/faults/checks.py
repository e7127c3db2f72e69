"""Small observations a fault makes to prove it took effect (or that a rollback healed it)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import httpx

from gameday.platforms.base import Member

__all__ = ["describe", "eventually", "http_status", "tcp_state"]


def tcp_state(address: str, port: int, timeout_s: float = 0.3) -> str:
    """``open``, ``refused`` or ``timeout`` for a TCP connect."""
    try:
        with socket.create_connection((address, port), timeout=timeout_s):
            return "open"
    except ConnectionRefusedError:
        return "refused"
    except (TimeoutError, OSError):
        return "timeout"


def http_status(url: str, *, method: str = "GET", json: object = None,
                timeout_s: float = 1.0) -> int | None:
    """HTTP status of one request, None when nothing answered in time."""
    try:
        return httpx.request(method, url, json=json, timeout=timeout_s).status_code
    except httpx.HTTPError:
        return None


def eventually(predicate: Callable[[], bool], timeout_s: float, interval_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)


def describe(members: list[Member]) -> list[dict[str, object]]:
    return [{"name": m.name, "address": f"{m.address}:{m.port}", "pid": m.pid, "state": m.state}
            for m in members]
