"""A Toxiproxy toxic on cross-region links of the kind platform (the proxies of the
``gameday-toxiproxy`` container, through its API published on 127.0.0.1).

The links listen inside kind's Docker network, not on the host, so the harness cannot time a
request through one; a toxic is verified by reading it back from the proxy's API, with the
type, stream and attributes asked for (what Toxiproxy then applies to every connection).
"""

from __future__ import annotations

from typing import Any, Literal

import httpx

from gameday.errors import FaultError
from gameday.platforms.base import ToxicSpec
from gameday.platforms.kind.env import KindEnv
from gameday.platforms.kind.faultbase import KindFault

__all__ = ["LinkToxic", "proxy_names", "toxic_body", "toxiproxy_request"]

_TIMEOUT_S = 5.0


def toxic_body(toxic: ToxicSpec) -> dict[str, Any]:
    """The toxic in Toxiproxy's JSON shape."""
    return {"name": toxic.name, "type": toxic.type, "stream": toxic.stream,
            "toxicity": toxic.toxicity, "attributes": dict(toxic.attributes)}


def _client(env: KindEnv) -> httpx.Client:
    return httpx.Client(base_url=env.toxiproxy_url, timeout=_TIMEOUT_S)


def toxiproxy_request(env: KindEnv, method: str, path: str, **kwargs: Any) -> httpx.Response:
    try:
        with _client(env) as client:
            return client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise FaultError(f"Toxiproxy API at {env.toxiproxy_url}: {method} {path}: "
                         f"{type(exc).__name__}: {exc}") from None


def proxy_names(env: KindEnv) -> list[str]:
    """Every proxy the Toxiproxy API has."""
    answer = toxiproxy_request(env, "GET", "/proxies")
    if answer.status_code != 200:
        raise FaultError(f"Toxiproxy API at {env.toxiproxy_url}: GET /proxies answered "
                         f"{answer.status_code}")
    return sorted(answer.json())


def _same(wanted: dict[str, Any], listed: dict[str, Any]) -> bool:
    attributes = listed.get("attributes") or {}
    return listed.get("type") == wanted["type"] and listed.get("stream") == wanted["stream"] \
        and all(float(attributes.get(k, "nan")) == float(v)
                for k, v in wanted["attributes"].items())


class LinkToxic(KindFault):
    kind: Literal["link_toxic"] = "link_toxic"
    region: str
    toxic: ToxicSpec
    proxies: tuple[str, ...]

    def target(self) -> str:
        return f"toxic {self.toxic.name} ({self.toxic.type}) on {', '.join(self.proxies)}"

    def inject(self, env: KindEnv) -> dict[str, Any]:
        body = toxic_body(self.toxic)
        for proxy in self.proxies:
            toxiproxy_request(env, "DELETE", f"/proxies/{proxy}/toxics/{self.toxic.name}")
            answer = toxiproxy_request(env, "POST", f"/proxies/{proxy}/toxics", json=body)
            if answer.status_code != 200:
                raise FaultError(f"Toxiproxy refused toxic {self.toxic.name} on {proxy}: "
                                 f"{answer.status_code} {answer.text[:200]}")
        return {"toxic": body, "links": list(self.proxies)}

    def verify(self, env: KindEnv) -> dict[str, Any]:
        wanted = toxic_body(self.toxic)
        for proxy in self.proxies:
            listed = toxiproxy_request(env, "GET", f"/proxies/{proxy}/toxics").json()
            mine = [t for t in listed if t.get("name") == self.toxic.name]
            if not mine or not _same(wanted, mine[0]):
                raise FaultError(f"toxic {self.toxic.name} on {proxy}: the API lists "
                                 f"{mine or 'no such toxic'}, not {wanted}")
        return {"read_back_on": list(self.proxies)}

    def undo(self, env: KindEnv) -> str:
        for proxy in self.proxies:
            answer = toxiproxy_request(env, "DELETE", f"/proxies/{proxy}/toxics/{self.toxic.name}")
            if answer.status_code not in (200, 204, 404):
                raise FaultError(f"Toxiproxy kept toxic {self.toxic.name} on {proxy}: "
                                 f"{answer.status_code} {answer.text[:200]}")
        return f"removed toxic {self.toxic.name} from {', '.join(self.proxies)}"
