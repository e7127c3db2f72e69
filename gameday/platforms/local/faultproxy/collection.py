"""The set of named proxies and every change the API can make to it, one change at a time.

Bodies arrive as decoded JSON and are checked here with Toxiproxy's defaults and status
codes (400 bad body, 404 unknown, 409 duplicate); unknown fields are refused, not ignored.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import cast

from gameday.platforms.local.faultproxy.errors import ApiError
from gameday.platforms.local.faultproxy.proxy import Proxy
from gameday.platforms.local.faultproxy.toxics import ToxicSpec, parse_toxic, update_toxic

__all__ = ["ProxyCollection", "ProxyFields"]

_BAD_REQUEST, _NOT_FOUND, _CONFLICT = 400, 404, 409
_DEFAULT_LISTEN = "127.0.0.1:0"
# "toxics" is what Toxiproxy's Go client echoes back in its bodies; it is ignored, as there.
_PROXY_KEYS = {"name", "listen", "upstream", "enabled", "toxics"}


@dataclass(frozen=True)
class ProxyFields:
    """A proxy as a create, update or populate body describes it."""

    name: str
    listen: str
    upstream: str
    enabled: bool

    @classmethod
    def parse(cls, body: object, *, base: Proxy | None = None,
              where: str = "") -> ProxyFields:
        """Fields from a body; missing ones come from ``base`` (update) or the defaults."""
        if not isinstance(body, dict):
            raise ApiError(_BAD_REQUEST, f"bad request body{where}: expected a JSON object")
        unknown = sorted(set(body) - _PROXY_KEYS)
        if unknown:
            raise ApiError(_BAD_REQUEST, f"bad request body{where}: unknown field(s) {unknown};"
                           f" expected some of {sorted(_PROXY_KEYS - {'toxics'})}")
        fields = cast(dict[str, object], body)
        name = fields.get("name", base.name if base else "")
        listen = fields.get("listen") or (base.listen if base else _DEFAULT_LISTEN)
        upstream = fields.get("upstream", base.upstream if base else "")
        enabled = fields.get("enabled", base.enabled if base else True)
        for key, value in (("name", name), ("upstream", upstream)):
            if not isinstance(value, str) or not value:
                raise ApiError(_BAD_REQUEST, f"missing required field: {key}{where}")
        if not isinstance(listen, str) or not isinstance(enabled, bool):
            raise ApiError(_BAD_REQUEST, f"bad request body{where}: listen must be a string "
                           "and enabled a boolean")
        return cls(str(name), listen, str(upstream), enabled)


class ProxyCollection:
    """Named proxies; every mutation holds one lock so API calls never interleave."""

    def __init__(self) -> None:
        self._proxies: dict[str, Proxy] = {}
        self._lock = asyncio.Lock()

    def all(self) -> list[Proxy]:
        return list(self._proxies.values())

    def get(self, name: str) -> Proxy:
        try:
            return self._proxies[name]
        except KeyError:
            raise ApiError(_NOT_FOUND, "proxy not found") from None

    async def create(self, body: object) -> Proxy:
        fields = ProxyFields.parse(body)
        async with self._lock:
            if fields.name in self._proxies:
                raise ApiError(_CONFLICT, "proxy already exists")
            proxy = Proxy(fields.name, fields.listen, fields.upstream)
            if fields.enabled:
                await proxy.start()
            self._proxies[proxy.name] = proxy
            return proxy

    async def populate(self, body: object) -> tuple[list[Proxy], ApiError | None]:
        """Create or replace each proxy of a list; the proxies done, and the error if any."""
        if not isinstance(body, list):
            raise ApiError(_BAD_REQUEST, "bad request body: expected a JSON list of proxies")
        wanted = [ProxyFields.parse(item, where=f" at proxy {i + 1}")
                  for i, item in enumerate(body)]
        done: list[Proxy] = []
        async with self._lock:
            for fields in wanted:
                try:
                    done.append(await self._add_or_replace(fields))
                except ApiError as exc:
                    return done, exc
        return done, None

    async def _add_or_replace(self, fields: ProxyFields) -> Proxy:
        existing = self._proxies.get(fields.name)
        if existing is not None:
            if existing.same_addresses(fields.listen, fields.upstream):
                return existing
            await existing.stop()
            del self._proxies[fields.name]
        proxy = Proxy(fields.name, fields.listen, fields.upstream)
        if fields.enabled:
            await proxy.start()
        self._proxies[proxy.name] = proxy
        return proxy

    async def update(self, name: str, body: object) -> Proxy:
        """Change listen/upstream (restarts, dropping connections) and/or enabled."""
        async with self._lock:
            proxy = self.get(name)
            fields = ProxyFields.parse(body, base=proxy)
            if fields.name != name:
                raise ApiError(_BAD_REQUEST, "name cannot be changed; delete and re-create")
            if not proxy.same_addresses(fields.listen, fields.upstream):
                await proxy.stop()
                proxy.retarget(fields.listen, fields.upstream)
            if fields.enabled and not proxy.enabled:
                await proxy.start()
            elif not fields.enabled:
                await proxy.stop()
            return proxy

    async def delete(self, name: str) -> None:
        async with self._lock:
            await self.get(name).stop()
            del self._proxies[name]

    async def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        async with self._lock:
            for proxy in self._proxies.values():
                await proxy.start()
                await proxy.remove_all_toxics()

    async def close(self) -> None:
        async with self._lock:
            for proxy in self._proxies.values():
                await proxy.stop()

    async def add_toxic(self, proxy_name: str, body: object) -> ToxicSpec:
        async with self._lock:
            proxy = self.get(proxy_name)
            spec = parse_toxic(body)
            if any(t.name == spec.name for t in proxy.toxics()):
                raise ApiError(_CONFLICT, "toxic already exists")
            await proxy.add_toxic(spec)
            return spec

    async def update_toxic(self, proxy_name: str, toxic_name: str, body: object) -> ToxicSpec:
        async with self._lock:
            proxy = self.get(proxy_name)
            spec = update_toxic(proxy.toxic(toxic_name), body)
            await proxy.update_toxic(spec)
            return spec

    async def remove_toxic(self, proxy_name: str, toxic_name: str) -> None:
        async with self._lock:
            await self.get(proxy_name).remove_toxic(toxic_name)
