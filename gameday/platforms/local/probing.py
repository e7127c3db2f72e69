"""Health checks the supervisor runs: a TCP connect or an HTTP GET that must answer 200."""

from __future__ import annotations

import asyncio

from gameday.platforms.local.specs import ProcessSpec

__all__ = ["check_health", "http_get_status", "http_status"]


async def http_get_status(address: str, port: int, path: str, timeout_s: float) -> int | None:
    """Status code of ``GET path`` (HTTP/1.0, no keep-alive), None when nothing answered."""
    return await http_status(address, port, "GET", path, timeout_s=timeout_s)


async def http_status(address: str, port: int, method: str, path: str, *,
                      body: bytes = b"", timeout_s: float = 1.0) -> int | None:
    """Status code of one HTTP/1.0 request with an optional JSON body; None when none came."""
    head = (f"{method} {path} HTTP/1.0\r\nHost: {address}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(address, port)
            try:
                writer.write(head.encode() + body)
                await writer.drain()
                status_line = await reader.readline()
            finally:
                writer.close()
    except (OSError, TimeoutError):
        return None
    parts = status_line.split()
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None


async def _command_ok(argv: tuple[str, ...], user: str | None, timeout_s: float) -> bool:
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL, user=user)
    except OSError:
        return False
    try:
        async with asyncio.timeout(timeout_s):
            return await proc.wait() == 0
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return False


async def check_health(spec: ProcessSpec) -> bool:
    check = spec.health
    if check is None:
        return True
    port = check.port or spec.port
    if check.kind == "command":
        return await _command_ok(check.argv, spec.user, check.timeout_s)
    if check.kind == "tcp":
        try:
            async with asyncio.timeout(check.timeout_s):
                _, writer = await asyncio.open_connection(spec.address, port)
                writer.close()
            return True
        except (OSError, TimeoutError):
            return False
    return await http_get_status(spec.address, port, check.path, check.timeout_s) == 200
