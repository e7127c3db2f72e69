"""Moves one direction of one connection through its chain of toxics, in order.

Each toxic runs as its own task (a stage) between two channels, as in Toxiproxy's link;
a sink task writes what comes out. Stages can be added, updated and removed while data
flows: a stage taken out passes on what it held, so no byte is lost or reordered.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import time
from collections import deque
from collections.abc import Sequence
from typing import Protocol

from gameday.platforms.local.faultproxy.toxics import Chunk, ToxicSpec, passthrough

__all__ = ["Marker", "Pipeline", "Sink"]

_log = logging.getLogger(__name__)

# Reading from the source pauses while this much is inside the pipeline, resumes below low.
_HIGH_WATER_BYTES = 1 << 20
_LOW_WATER_BYTES = 1 << 18


class Marker(enum.Enum):
    """How a stream ends: a half-close, a close, or a reset of the whole connection."""

    END = "end"
    CLOSE = "close"
    RESET = "reset"


Item = Chunk | Marker


class Sink(Protocol):
    """Where a pipeline's output goes (the direction's destination socket)."""

    def write(self, data: bytes) -> None: ...

    async def writable(self) -> None: ...

    def finish(self, marker: Marker) -> None: ...

    def throttle(self, on: bool) -> None:
        """Pause (True) or resume (False) reading from the source."""


class _Channel:
    """A FIFO with one consumer; ``put`` never blocks (backpressure is counted in bytes)."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: deque[Item] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def put(self, item: Item) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def wait(self) -> None:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def pop(self) -> Item:
        return self._items.popleft()

    def take_all(self) -> list[Item]:
        items = list(self._items)
        self._items.clear()
        return items


class _Stage:
    """One toxic on one link; implements the Stub the toxic is written against."""

    def __init__(self, spec: ToxicSpec, inbox: _Channel, outbox: _Channel,
                 pipeline: Pipeline):
        self.spec = spec
        self.inbox = inbox
        self.outbox = outbox
        self.pending: Chunk | None = None
        self.applies = False
        self._written_bytes = 0
        self._ended_by = Marker.END
        self._pipeline = pipeline
        self._task: asyncio.Task[None] | None = None

    @property
    def written_bytes(self) -> int:
        return self._written_bytes

    async def read(self) -> Chunk | None:
        self.pending = None
        await self.inbox.wait()
        item = self.inbox.pop()  # popped only after the wait, so a cancelled read loses nothing
        if isinstance(item, Marker):
            self._ended_by = item
            return None
        self.pending = item
        return item

    def write(self, chunk: Chunk) -> None:
        self.pending = None
        self._written_bytes += len(chunk.data)
        self.outbox.put(chunk)

    def discard(self, chunk: Chunk) -> None:
        self.pending = None
        self._pipeline.release(len(chunk.data))

    def end(self) -> None:
        self.outbox.put(self._ended_by)

    def close(self) -> None:
        self.outbox.put(Marker.CLOSE)

    def reset(self) -> None:
        self.outbox.put(Marker.RESET)

    def start(self) -> None:
        # Toxicity is rolled per link each time the toxic (re)starts on it, as in Toxiproxy.
        self.applies = random.random() < self.spec.toxicity
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            if self.applies:
                await self.spec.toxic.pipe(self)
            else:
                await passthrough(self)
        except Exception:
            _log.exception("toxic %s failed; resetting its connection", self.spec.name)
            self.reset()

    async def interrupt(self) -> None:
        """Stop the toxic and pass on what it held (like Toxiproxy's InterruptToxic)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task})
            self._task = None
        if self.pending is not None:
            self.outbox.put(self.pending)
            self.pending = None

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()


class Pipeline:
    """The toxics on one direction of one connection, between its source and its sink."""

    def __init__(self, specs: Sequence[ToxicSpec], sink: Sink):
        self._sink = sink
        self._out = _Channel()
        self._stages: list[_Stage] = []
        self._buffered_bytes = 0
        self._throttled = False
        for spec in specs:
            self.append(spec)
        self._sink_task = asyncio.get_running_loop().create_task(self._drain())

    @property
    def empty(self) -> bool:
        """True once no toxic is left; the owner then detaches and goes back to direct writes."""
        return not self._stages

    def feed(self, data: bytes) -> None:
        self._head().put(Chunk(data, time.monotonic()))
        self._buffered_bytes += len(data)
        if not self._throttled and self._buffered_bytes > _HIGH_WATER_BYTES:
            self._throttled = True
            self._sink.throttle(True)

    def feed_end(self) -> None:
        self._head().put(Marker.END)

    def release(self, size_bytes: int) -> None:
        self._buffered_bytes -= size_bytes
        if self._throttled and self._buffered_bytes < _LOW_WATER_BYTES:
            self._throttled = False
            self._sink.throttle(False)

    def append(self, spec: ToxicSpec) -> None:
        """Add a toxic at the end of the chain (nearest the sink), as Toxiproxy does."""
        inbox = _Channel()
        if self._stages:
            self._stages[-1].outbox = inbox
        stage = _Stage(spec, inbox, self._out, self)
        self._stages.append(stage)
        stage.start()

    async def update(self, spec: ToxicSpec) -> None:
        stage = self._stage(spec.name)
        await stage.interrupt()
        stage.spec = spec
        stage.start()

    async def remove(self, name: str) -> None:
        stage = self._stage(name)
        await stage.interrupt()
        if stage.applies:
            stage.spec.toxic.on_removed(stage)
        # Order on the wire: outbox (oldest), then what the stage held, then its inbox.
        for item in stage.inbox.take_all():
            stage.outbox.put(item)
        index = self._stages.index(stage)
        if index > 0:
            self._stages[index - 1].outbox = stage.outbox
        del self._stages[index]

    def detach(self) -> list[Item]:
        """Stop every task and hand back what was still waiting for the sink."""
        self.cancel()
        if self._throttled:
            self._throttled = False
            self._sink.throttle(False)
        return self._out.take_all()

    def cancel(self) -> None:
        self._sink_task.cancel()
        for stage in self._stages:
            stage.cancel()

    def _head(self) -> _Channel:
        return self._stages[0].inbox if self._stages else self._out

    def _stage(self, name: str) -> _Stage:
        for stage in self._stages:
            if stage.spec.name == name:
                return stage
        raise KeyError(name)

    async def _drain(self) -> None:
        while True:
            await self._out.wait()
            await self._sink.writable()
            item = self._out.pop()
            if isinstance(item, Marker):
                self._sink.finish(item)
                return
            self._sink.write(item.data)
            self.release(len(item.data))
