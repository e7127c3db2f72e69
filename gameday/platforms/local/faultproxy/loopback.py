"""Parses ``host:port`` addresses and refuses any that is not on the loopback interface.

The fault proxy runs on shared machines: it must never listen on, or connect to, anything
a neighbour could reach, so only 127.0.0.0/8, ::1 and ``localhost`` are accepted.
"""

from __future__ import annotations

import ipaddress

from gameday.platforms.local.faultproxy.errors import ApiError

__all__ = ["format_address", "parse_loopback"]

_BAD_REQUEST = 400


def parse_loopback(address: str, *, field: str, allow_port_zero: bool) -> tuple[str, int]:
    """``"127.0.0.1:8080"`` -> ``("127.0.0.1", 8080)``; ApiError(400) if not loopback."""
    host, sep, port_text = address.rpartition(":")
    if not sep or not port_text.isdigit():
        raise ApiError(_BAD_REQUEST, f"{field}: expected host:port, got {address!r}")
    port = int(port_text)
    lowest = 0 if allow_port_zero else 1
    if not lowest <= port <= 65535:
        raise ApiError(_BAD_REQUEST, f"{field}: port {port} out of range in {address!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "localhost":
        return "127.0.0.1", port
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ApiError(
            _BAD_REQUEST, f"{field}: {address!r} is not a loopback address "
            "(use 127.0.0.0/8, [::1] or localhost)") from None
    if not ip.is_loopback:
        raise ApiError(
            _BAD_REQUEST, f"{field}: {address!r} is not a loopback address; "
            "the fault proxy only listens on and connects to loopback")
    return str(ip), port


def format_address(host: str, port: int) -> str:
    """The inverse of parse_loopback: brackets around IPv6 hosts."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
