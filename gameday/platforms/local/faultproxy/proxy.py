"""One named proxy: a listener, its live connections and its toxics, as Toxiproxy's Proxy."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from gameday.platforms.local.faultproxy.connection import Connection
from gameday.platforms.local.faultproxy.errors import ApiError
from gameday.platforms.local.faultproxy.loopback import format_address, parse_loopback
from gameday.platforms.local.faultproxy.toxics import STREAMS, Stream, ToxicSpec

__all__ = ["Proxy"]

_NOT_FOUND = 404
_SERVER_ERROR = 500

_Change = Callable[[Connection], Awaitable[None]]


class Proxy:
    """Listens on ``listen`` and pipes each accepted connection to ``upstream``."""

    def __init__(self, name: str, listen: str, upstream: str):
        parse_loopback(listen, field="listen", allow_port_zero=True)
        self.upstream_address = parse_loopback(upstream, field="upstream",
                                               allow_port_zero=False)
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = False
        self._toxics: dict[Stream, list[ToxicSpec]] = {stream: [] for stream in STREAMS}
        self._server: asyncio.Server | None = None
        self._connections: set[Connection] = set()

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "listen": self.listen, "upstream": self.upstream,
                "enabled": self.enabled, "toxics": [t.to_json() for t in self.toxics()]}

    def same_addresses(self, listen: str, upstream: str) -> bool:
        """False when changing to these addresses needs a restart (Toxiproxy's Differs)."""
        wanted = parse_loopback(listen, field="listen", allow_port_zero=True)
        current = parse_loopback(self.listen, field="listen", allow_port_zero=True)
        return wanted == current and upstream == self.upstream

    def retarget(self, listen: str, upstream: str) -> None:
        """New addresses for a stopped proxy."""
        assert not self.enabled
        parse_loopback(listen, field="listen", allow_port_zero=True)
        self.upstream_address = parse_loopback(upstream, field="upstream",
                                               allow_port_zero=False)
        self.listen, self.upstream = listen, upstream

    async def start(self) -> None:
        if self.enabled:
            return
        host, port = parse_loopback(self.listen, field="listen", allow_port_zero=True)
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(
                self._accept, host, port, reuse_address=True, backlog=1024)
        except OSError as exc:
            raise ApiError(_SERVER_ERROR, f"listen tcp {self.listen}: {exc.strerror}") from exc
        bound_host, bound_port = self._server.sockets[0].getsockname()[:2]
        self.listen = format_address(bound_host, bound_port)
        self.enabled = True

    async def stop(self) -> None:
        """Close the listener and drop every live connection."""
        if not self.enabled or self._server is None:
            return
        self.enabled = False
        server, self._server = self._server, None
        server.close()
        for connection in list(self._connections):
            connection.abort()
        await server.wait_closed()

    def _accept(self) -> asyncio.Protocol:
        connection = Connection(self)
        self._connections.add(connection)
        return connection.client

    # Owner, for the connections
    def chain(self, stream: Stream) -> Sequence[ToxicSpec]:
        return tuple(self._toxics[stream])

    def forget(self, connection: Connection) -> None:
        self._connections.discard(connection)

    # Toxics
    def toxics(self) -> list[ToxicSpec]:
        """Upstream toxics first, then downstream, each in the order added (as Toxiproxy)."""
        return [spec for stream in STREAMS for spec in self._toxics[stream]]

    def toxic(self, name: str) -> ToxicSpec:
        for spec in self.toxics():
            if spec.name == name:
                return spec
        raise ApiError(_NOT_FOUND, "toxic not found")

    async def add_toxic(self, spec: ToxicSpec) -> None:
        self._toxics[spec.stream].append(spec)
        await self._on_connections(lambda c: c.add_toxic(spec))

    async def update_toxic(self, spec: ToxicSpec) -> None:
        chain = self._toxics[spec.stream]
        chain[[t.name for t in chain].index(spec.name)] = spec
        await self._on_connections(lambda c: c.update_toxic(spec))

    async def remove_toxic(self, name: str) -> None:
        spec = self.toxic(name)
        self._toxics[spec.stream].remove(spec)
        await self._on_connections(lambda c: c.remove_toxic(spec.stream, name))

    async def remove_all_toxics(self) -> None:
        for spec in self.toxics():
            await self.remove_toxic(spec.name)

    async def _on_connections(self, change: _Change) -> None:
        # Connections accepted from now on read the chain already updated above.
        await asyncio.gather(*(change(c) for c in list(self._connections)))
