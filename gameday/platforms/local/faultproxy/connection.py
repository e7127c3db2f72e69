"""One proxied connection: the client socket, its upstream socket, and a Direction each way.

With no toxic on a direction, bytes go straight from one transport to the other inside
``data_received`` (no task, no copy, no per-chunk toxic check). A toxic added to a live
connection swaps in a Pipeline; when the last one goes, the direction drains it and swaps back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from collections.abc import Callable, Sequence
from typing import Protocol

from gameday.platforms.local.faultproxy.pipeline import Marker, Pipeline
from gameday.platforms.local.faultproxy.toxics import Stream, ToxicSpec

__all__ = ["CONNECT_TIMEOUT_S", "Connection", "Owner"]

_log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 2.0
_LINGER_RESET = struct.pack("ii", 1, 0)


class Owner(Protocol):
    """What a connection needs from its proxy."""

    upstream_address: tuple[str, int]

    def chain(self, stream: Stream) -> Sequence[ToxicSpec]: ...

    def forget(self, connection: Connection) -> None: ...


def _reset(transport: asyncio.Transport) -> None:
    """Close with SO_LINGER 0, so the peer gets a TCP RST instead of a FIN."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    transport.abort()


class _Side(asyncio.Protocol):
    """One socket of the pair. Its data feeds ``outgoing``; ``incoming`` writes into it."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.transport: asyncio.Transport | None = None
        self.outgoing: Direction | None = None
        self.incoming: Direction | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.pause_reading()  # until both sockets and both directions exist
        self.connection.side_made(self)

    def data_received(self, data: bytes) -> None:
        # Replaced on each instance by Direction._route; reading is paused until then.
        raise RuntimeError("data received before the connection was set up")

    def eof_received(self) -> bool:
        if self.outgoing is not None:
            self.outgoing.feed_end()
        return True  # keep the socket open for the other direction: half-close is passed on

    def pause_writing(self) -> None:
        if self.incoming is not None:
            self.incoming.dst_paused()

    def resume_writing(self) -> None:
        if self.incoming is not None:
            self.incoming.dst_resumed()

    def connection_lost(self, exc: Exception | None) -> None:
        self.connection.side_lost(exc)


class Direction:
    """Bytes from one socket to the other: directly, or through a Pipeline of toxics."""

    def __init__(self, stream: Stream, src_side: _Side, dst: asyncio.Transport,
                 connection: Connection, specs: Sequence[ToxicSpec]):
        assert src_side.transport is not None
        self.stream = stream
        self.done = False
        self._src_side = src_side
        self._src = src_side.transport
        self._dst = dst
        self._connection = connection
        self._holds = {"start"}
        self._writable = asyncio.Event()
        self._writable.set()
        self._pipeline: Pipeline | None = None
        self._route(dst.write)
        if specs:
            self._pipeline = Pipeline(specs, self)
            self._route(self._pipeline.feed)

    def _route(self, deliver: Callable[[bytes], None]) -> None:
        # The transport calls protocol.data_received(data); binding that name on the instance
        # to the destination's write makes the no-toxic path a single call, no branch.
        self._src_side.data_received = deliver  # type: ignore[method-assign, assignment]

    def start(self) -> None:
        self._release("start")

    def feed_end(self) -> None:
        if self._pipeline is None:
            self.finish(Marker.END)
        else:
            self._pipeline.feed_end()

    async def add_toxic(self, spec: ToxicSpec) -> None:
        if self._pipeline is None:
            self._pipeline = Pipeline([spec], self)
            self._route(self._pipeline.feed)
        else:
            self._pipeline.append(spec)

    async def update_toxic(self, spec: ToxicSpec) -> None:
        if self._pipeline is not None:
            await self._pipeline.update(spec)

    async def remove_toxic(self, name: str) -> None:
        if self._pipeline is None:
            return
        await self._pipeline.remove(name)
        if self._pipeline.empty:
            self._detach(self._pipeline)

    def _detach(self, pipeline: Pipeline) -> None:
        self._pipeline = None
        self._route(self._dst.write)
        for item in pipeline.detach():
            if isinstance(item, Marker):
                self.finish(item)
                return
            self._dst.write(item.data)

    def cancel(self) -> None:
        if self._pipeline is not None:
            self._pipeline.cancel()

    # Sink, for the pipeline
    def write(self, data: bytes) -> None:
        self._dst.write(data)

    async def writable(self) -> None:
        await self._writable.wait()

    def finish(self, marker: Marker) -> None:
        self._connection.finish(self, marker)

    def throttle(self, on: bool) -> None:
        (self._hold if on else self._release)("pipeline")

    # Flow control from the destination socket
    def dst_paused(self) -> None:
        self._writable.clear()
        self._hold("dst")

    def dst_resumed(self) -> None:
        self._writable.set()
        self._release("dst")

    def _hold(self, reason: str) -> None:
        if not self._holds:
            self._src.pause_reading()
        self._holds.add(reason)

    def _release(self, reason: str) -> None:
        self._holds.discard(reason)
        if not self._holds:
            self._src.resume_reading()


class Connection:
    """A client connection and the upstream connection opened for it."""

    def __init__(self, owner: Owner):
        self._owner = owner
        self.client = _Side(self)
        self._upstream = _Side(self)
        self._directions: dict[Stream, Direction] = {}
        self._closed = False
        self._opening: asyncio.Task[None] | None = None

    def side_made(self, side: _Side) -> None:
        if side is self.client:
            self._opening = asyncio.get_running_loop().create_task(self._open_upstream())

    async def _open_upstream(self) -> None:
        host, port = self._owner.upstream_address
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: self._upstream, host, port), CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            # A RST, not a FIN: to HAProxy a FIN after accept looks like a server that took the
            # connection and sent nothing (retried, slow to mark down); a RST is a layer-4
            # error that `observe layer4` turns into an immediate failover.
            _log.info("upstream %s:%s unreachable (%s); resetting client", host, port, exc)
            self.reset()
            return
        if self._closed:  # the proxy was disabled while we were connecting
            if self._upstream.transport is not None:
                _reset(self._upstream.transport)
            return
        sides: tuple[tuple[Stream, _Side, _Side], ...] = (
            ("upstream", self.client, self._upstream),
            ("downstream", self._upstream, self.client))
        for stream, src_side, dst_side in sides:
            assert dst_side.transport is not None
            direction = Direction(stream, src_side, dst_side.transport, self,
                                  self._owner.chain(stream))
            src_side.outgoing = dst_side.incoming = direction
            self._directions[stream] = direction
        for direction in self._directions.values():
            direction.start()

    async def add_toxic(self, spec: ToxicSpec) -> None:
        if spec.stream in self._directions:
            await self._directions[spec.stream].add_toxic(spec)

    async def update_toxic(self, spec: ToxicSpec) -> None:
        if spec.stream in self._directions:
            await self._directions[spec.stream].update_toxic(spec)

    async def remove_toxic(self, stream: Stream, name: str) -> None:
        if stream in self._directions:
            await self._directions[stream].remove_toxic(name)

    def finish(self, direction: Direction, marker: Marker) -> None:
        if marker is Marker.RESET:
            self.reset()
        elif marker is Marker.CLOSE:
            self.close()
        else:
            direction.done = True
            dst = self.client if direction.stream == "downstream" else self._upstream
            if dst.transport is not None and dst.transport.can_write_eof():
                # the peer may have gone first (ENOTCONN): nothing left to tell it
                with contextlib.suppress(OSError):
                    dst.transport.write_eof()
            if all(d.done for d in self._directions.values()):
                self.close()

    def side_lost(self, exc: Exception | None) -> None:
        if isinstance(exc, ConnectionResetError):
            self.reset()  # a reset on one side is passed on as a reset, not a tidy close
        else:
            self.close()

    def close(self) -> None:
        """Close both sockets once their buffered data has been written."""
        self._end(lambda transport: transport.close())

    def abort(self) -> None:
        self._end(lambda transport: transport.abort())

    def reset(self) -> None:
        self._end(_reset)

    def _end(self, how: Callable[[asyncio.Transport], None]) -> None:
        if self._closed:
            return
        self._closed = True
        if self._opening is not None and self._opening is not asyncio.current_task():
            self._opening.cancel()
        for direction in self._directions.values():
            direction.cancel()
        for side in (self.client, self._upstream):
            if side.transport is not None and not side.transport.is_closing():
                how(side.transport)
        self._owner.forget(self)
