"""Client of the supervisor's control socket (one JSON request line, one JSON answer line)."""

from __future__ import annotations

import json
import socket
from typing import Any

from gameday.errors import PlatformError
from gameday.platforms.local.home import LocalHome

__all__ = ["SupervisorUnreachable", "call"]


class SupervisorUnreachable(PlatformError):
    """No supervisor answers on the control socket (not up, or it crashed)."""


def call(home: LocalHome, op: str, *, timeout_s: float = 90.0, **arguments: Any) -> Any:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout_s)
    try:
        try:
            sock.connect(str(home.socket))
        except OSError as exc:
            raise SupervisorUnreachable(f"no supervisor at {home.socket}: {exc}") from None
        sock.sendall(json.dumps({"op": op, **arguments}).encode() + b"\n")
        chunks: list[bytes] = []
        while not chunks or not chunks[-1].endswith(b"\n"):
            chunk = sock.recv(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    except TimeoutError:
        raise PlatformError(f"supervisor did not answer {op!r} within {timeout_s:.0f} s") from None
    finally:
        sock.close()
    if not chunks:
        raise SupervisorUnreachable(f"supervisor closed the socket during {op!r}")
    answer = json.loads(b"".join(chunks))
    if not answer.get("ok"):
        raise PlatformError(f"supervisor refused {op!r}: {answer.get('error')}")
    return answer["result"]
