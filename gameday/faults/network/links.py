"""Toxics on the fault-proxy links into a region, through the real toxiproxy-python client."""

from __future__ import annotations

import socket
import time
from typing import Any
from urllib.parse import urlsplit

from toxiproxy import Toxiproxy
from toxiproxy.exceptions import NotFound
from toxiproxy.proxy import Proxy

from gameday.errors import FaultError
from gameday.platforms.base import LinkControl

__all__ = ["add_toxic", "link_round_trip_s", "region_links", "remove_toxic"]


def region_links(platform: LinkControl, region: str, stack: str | None = None) -> list[Proxy]:
    api = urlsplit(platform.proxy_api_url())
    client = Toxiproxy()
    client.update_api_consumer(api.hostname, api.port)
    names = platform.link_proxies(region, stack)
    if not names:
        raise FaultError(f"no fault-proxy link into {region}")
    proxies = []
    for name in names:
        proxy = client.get_proxy(name)
        if proxy is None:
            raise FaultError(f"fault proxy has no link {name!r}; was the platform restarted?")
        proxies.append(proxy)
    return proxies


def add_toxic(proxies: list[Proxy], *, name: str, toxic_type: str, stream: str,
              attributes: dict[str, Any], toxicity: float = 1.0) -> None:
    for proxy in proxies:
        remove_toxic([proxy], name)
        proxy.add_toxic(name=name, type=toxic_type, stream=stream, toxicity=toxicity,
                        attributes=attributes)


def remove_toxic(proxies: list[Proxy], name: str) -> int:
    removed = 0
    for proxy in proxies:
        try:
            if proxy.get_toxic(name) is not None:
                proxy.destroy_toxic(name)
                removed += 1
        except NotFound:
            pass
    return removed


def link_round_trip_s(proxy: Proxy, path: str = "/health", timeout_s: float = 2.0) -> float | None:
    """Time of one HTTP GET through the link, None when it did not answer in time."""
    host, port = proxy.listen.rsplit(":", 1)
    started = time.perf_counter()
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s) as conn:
            conn.settimeout(timeout_s)
            conn.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
            if not conn.recv(64):
                return None
    except OSError:
        return None
    return time.perf_counter() - started
