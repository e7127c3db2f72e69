"""Link toxics: one Toxiproxy toxic on a set of fault-proxy links (latency, timeout, ...)."""

from __future__ import annotations

import socket
import time
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict

from gameday.errors import FaultError
from gameday.platforms.local.faults.base import FaultContext, LocalFault

__all__ = ["LinkToxics", "Toxic", "round_trip_s"]


class Toxic(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    type: str
    stream: Literal["upstream", "downstream"] = "downstream"
    attributes: dict[str, Any] = {}
    toxicity: float = 1.0


class ProxyRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    listen: str
    protocol: Literal["http", "postgres"] = "http"


# PostgreSQL's SSLRequest: the server answers it with one byte ('N' or 'S') and no more, a
# protocol round trip that needs no login and leaves nothing in the server's log.
_PG_SSL_REQUEST = (8).to_bytes(4, "big") + (80877103).to_bytes(4, "big")


def round_trip_s(listen: str, timeout_s: float = 2.0,
                 protocol: Literal["http", "postgres"] = "http") -> float | None:
    """Time of one request/answer through a link (HTTP/1.0 GET /health, or PostgreSQL's
    SSLRequest); None when nothing answered in time (any answer counts: the link carries
    bytes, whatever the member behind it says)."""
    host, port = listen.rsplit(":", 1)
    started = time.perf_counter()
    request = _PG_SSL_REQUEST if protocol == "postgres" else \
        f"GET /health HTTP/1.0\r\nHost: {host}\r\n\r\n".encode()
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s) as conn:
            conn.settimeout(timeout_s)
            conn.sendall(request)
            if not conn.recv(64):
                return None
    except OSError:
        return None
    return time.perf_counter() - started


class LinkToxics(LocalFault):
    kind: Literal["link_toxics"] = "link_toxics"
    region: str
    toxic: Toxic
    proxies: tuple[ProxyRef, ...]

    def target(self) -> str:
        return f"toxic {self.toxic.name} ({self.toxic.type}) on {len(self.proxies)} links " \
               f"into {self.region}"

    def inject(self, ctx: FaultContext) -> dict[str, Any]:
        body = self.toxic.model_dump()
        with httpx.Client(base_url=ctx.proxy_api_url, timeout=5) as client:
            for proxy in self.proxies:
                client.delete(f"/proxies/{proxy.name}/toxics/{self.toxic.name}")
                answer = client.post(f"/proxies/{proxy.name}/toxics", json=body)
                if answer.status_code != 200:
                    raise FaultError(f"fault proxy refused toxic on {proxy.name}: "
                                     f"{answer.status_code} {answer.text[:200]}")
        return {"toxic": body, "links": [p.name for p in self.proxies]}

    def verify(self, ctx: FaultContext) -> dict[str, Any]:
        first = self.proxies[0]
        attributes = self.toxic.attributes
        if self.toxic.type == "latency" and self.toxic.toxicity >= 1:
            latency_s = float(attributes.get("latency", 0)) / 1000
            after_s = round_trip_s(first.listen, timeout_s=2 + latency_s,
                                   protocol=first.protocol)
            if after_s is None or after_s < 0.8 * latency_s:
                raise FaultError(f"latency toxic on {first.name}: round trip {after_s} s for "
                                 f"{latency_s * 1000:g} ms; it did not take effect")
            return {"round_trip_after_s": after_s}
        if self.toxic.type == "timeout" and self.toxic.toxicity >= 1:
            if round_trip_s(first.listen, timeout_s=1.0, protocol=first.protocol) is not None:
                raise FaultError(f"timeout toxic on {first.name}: the link still answers")
            return {"link_answers": False}
        listed = httpx.get(f"{ctx.proxy_api_url}/proxies/{first.name}/toxics", timeout=5).json()
        if self.toxic.name not in {t.get("name") for t in listed}:
            raise FaultError(f"toxic {self.toxic.name} is not on {first.name}")
        return {"listed_on": first.name}

    def undo(self, ctx: FaultContext) -> str:
        with httpx.Client(base_url=ctx.proxy_api_url, timeout=5) as client:
            for proxy in self.proxies:
                answer = client.delete(f"/proxies/{proxy.name}/toxics/{self.toxic.name}")
                if answer.status_code not in (200, 204, 404):
                    raise FaultError(f"fault proxy kept toxic {self.toxic.name} on "
                                     f"{proxy.name}: {answer.status_code}")
        return f"removed toxic {self.toxic.name} from {len(self.proxies)} links into {self.region}"
