"""The toxics (latency, bandwidth, timeout, ...) and the table that names them.

A toxic is one small class whose one job is ``pipe``: read chunks from a Stub, write what
should pass, and pass on the end of the stream, like Toxiproxy's ``Toxic.Pipe``. Its
attributes are plain integer fields; ``TOXICS`` maps the API's type names to classes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, Self, cast

from gameday.platforms.local.faultproxy.errors import ApiError

__all__ = [
    "STREAMS",
    "TOXICS",
    "Bandwidth",
    "Chunk",
    "Latency",
    "LimitData",
    "ResetPeer",
    "Slicer",
    "SlowClose",
    "Stream",
    "Stub",
    "Timeout",
    "Toxic",
    "ToxicSpec",
    "parse_toxic",
    "passthrough",
    "update_toxic",
]

Stream = Literal["upstream", "downstream"]
STREAMS: tuple[Stream, ...] = ("upstream", "downstream")
_BAD_REQUEST = 400


@dataclass(slots=True)
class Chunk:
    """Bytes read from one socket, stamped with time.monotonic() when they were read."""

    data: bytes
    timestamp_s: float


class Stub(Protocol):
    """What a toxic sees of one link (one direction of one connection).

    ``pending`` is data the toxic has read but not yet passed on; if the toxic is removed or
    updated mid-way, the pipeline passes it on so no byte is lost. ``read`` sets it, ``write``
    and ``discard`` clear it; a toxic that splits a chunk sets it to what is left.
    """

    pending: Chunk | None

    @property
    def written_bytes(self) -> int: ...

    async def read(self) -> Chunk | None:
        """The next chunk, or None once the input has ended (then call ``end``)."""

    def write(self, chunk: Chunk) -> None: ...

    def discard(self, chunk: Chunk) -> None:
        """Drop a chunk on purpose (it no longer counts against the link's buffer)."""

    def end(self) -> None:
        """Pass on the end of the input (a half-close, or a close from a toxic before)."""

    def close(self) -> None:
        """Close the whole connection once the data already written has gone out."""

    def reset(self) -> None:
        """Reset the whole connection (TCP RST to both peers)."""


class Toxic:
    """Base of every toxic: integer attributes as dataclass fields, and ``pipe``."""

    async def pipe(self, stub: Stub) -> None:
        raise NotImplementedError

    def on_removed(self, stub: Stub) -> None:
        """Called when the toxic is taken off a live link it applied to."""

    def _check(self) -> None:
        """Cross-field validation; raise ApiError(400) when the attributes make no sense."""

    @classmethod
    def from_attributes(cls, attributes: Mapping[str, object]) -> Self:
        known = [f.name for f in dataclasses.fields(cast(Any, cls))]
        unknown = sorted(set(attributes) - set(known))
        if unknown:
            raise ApiError(_BAD_REQUEST, f"unknown attribute(s) {unknown}; "
                           f"this toxic takes {known}")
        values = {name: _non_negative_int(name, value) for name, value in attributes.items()}
        toxic = cls(**values)
        toxic._check()
        return toxic

    def attributes(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(cast(Any, self))}

    def with_attributes(self, changes: Mapping[str, object]) -> Self:
        return type(self).from_attributes({**self.attributes(), **changes})


def _non_negative_int(name: str, value: object) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ApiError(_BAD_REQUEST, f"attribute {name!r}: expected a non-negative integer, "
                       f"got {value!r}")
    return value


async def passthrough(stub: Stub) -> None:
    """What a link runs instead of a toxic whose toxicity roll said no (Toxiproxy's noop)."""
    while (chunk := await stub.read()) is not None:
        stub.write(chunk)
    stub.end()


@dataclass(frozen=True)
class Latency(Toxic):
    """Delays every chunk by ``latency`` ± ``jitter`` ms, counted from when it was read."""

    latency: int = 0
    jitter: int = 0

    async def pipe(self, stub: Stub) -> None:
        while (chunk := await stub.read()) is not None:
            delay_ms = self.latency + (random.randint(-self.jitter, self.jitter)
                                       if self.jitter else 0)
            wait_s = delay_ms / 1000 - (time.monotonic() - chunk.timestamp_s)
            if wait_s > 0:
                await asyncio.sleep(wait_s)
                # Re-stamped so a latency toxic after this one delays from now, as in Toxiproxy.
                chunk.timestamp_s += wait_s
            stub.write(chunk)
        stub.end()


@dataclass(frozen=True)
class Bandwidth(Toxic):
    """Paces the link to ``rate`` KB/s (1 KB = 1000 bytes), in slices of at most 100 ms."""

    rate: int = 0

    async def pipe(self, stub: Stub) -> None:
        next_send_s = time.monotonic()
        while (chunk := await stub.read()) is not None:
            if self.rate <= 0:
                stub.write(chunk)
                continue
            # An idle link earns no credit: pacing restarts from now, not from the last send.
            next_send_s = max(next_send_s, time.monotonic())
            slice_bytes = self.rate * 100
            data = chunk.data
            while data:
                piece, data = data[:slice_bytes], data[slice_bytes:]
                next_send_s += len(piece) / (self.rate * 1000)
                await asyncio.sleep(max(0.0, next_send_s - time.monotonic()))
                stub.write(Chunk(piece, chunk.timestamp_s))
                if data:
                    stub.pending = Chunk(data, chunk.timestamp_s)
        stub.end()


@dataclass(frozen=True)
class SlowClose(Toxic):
    """Passes data untouched but holds the end of the stream back for ``delay`` ms."""

    delay: int = 0

    async def pipe(self, stub: Stub) -> None:
        while (chunk := await stub.read()) is not None:
            stub.write(chunk)
        await asyncio.sleep(self.delay / 1000)
        stub.end()


@dataclass(frozen=True)
class Timeout(Toxic):
    """Drops all data; closes the connection after ``timeout`` ms, or never if 0.

    The clock starts when the toxic takes hold of the link (Toxiproxy's README; its code
    restarts the clock on every dropped chunk, which lets a chatty link live forever).
    """

    timeout: int = 0

    async def pipe(self, stub: Stub) -> None:
        if self.timeout == 0:
            await _drop_until_end(stub)
            return
        try:
            async with asyncio.timeout(self.timeout / 1000):
                await _drop_until_end(stub)
        except TimeoutError:
            stub.close()

    def on_removed(self, stub: Stub) -> None:
        # Data was dropped, so the stream has a hole: closing beats delivering corrupt data
        # (Toxiproxy's Cleanup does the same).
        stub.close()


async def _drop_until_end(stub: Stub) -> None:
    while (chunk := await stub.read()) is not None:
        stub.discard(chunk)
    stub.end()


@dataclass(frozen=True)
class ResetPeer(Toxic):
    """On the first data (or end) on the link, waits ``timeout`` ms, then resets (RST)."""

    timeout: int = 0

    async def pipe(self, stub: Stub) -> None:
        await stub.read()  # the chunk stays pending: if we are removed meanwhile, it goes on
        await asyncio.sleep(self.timeout / 1000)
        stub.reset()


@dataclass(frozen=True)
class LimitData(Toxic):
    """Passes the first ``bytes`` bytes of the link, then closes the connection."""

    bytes: int = 0

    async def pipe(self, stub: Stub) -> None:
        while (chunk := await stub.read()) is not None:
            room = self.bytes - stub.written_bytes
            if len(chunk.data) <= room:
                stub.write(chunk)
            else:
                if room > 0:
                    stub.write(Chunk(chunk.data[:room], chunk.timestamp_s))
                stub.discard(Chunk(chunk.data[max(room, 0):], chunk.timestamp_s))
            if stub.written_bytes >= self.bytes:
                stub.close()
                return
        stub.end()


@dataclass(frozen=True)
class Slicer(Toxic):
    """Cuts chunks into ``average_size`` ± ``size_variation`` byte pieces, ``delay`` µs apart."""

    average_size: int = 0
    size_variation: int = 0
    delay: int = 0

    def _check(self) -> None:
        if self.average_size < 1 or self.size_variation >= self.average_size:
            raise ApiError(_BAD_REQUEST, "slicer: need average_size >= 1 and "
                           "size_variation < average_size")

    async def pipe(self, stub: Stub) -> None:
        while (chunk := await stub.read()) is not None:
            data = chunk.data
            while data:
                size = self.average_size + random.randint(-self.size_variation,
                                                          self.size_variation)
                piece, data = data[:size], data[size:]
                stub.write(Chunk(piece, chunk.timestamp_s))
                if data:
                    stub.pending = Chunk(data, chunk.timestamp_s)
                if self.delay:
                    await asyncio.sleep(self.delay / 1_000_000)
        stub.end()


TOXICS: dict[str, type[Toxic]] = {
    "latency": Latency,
    "bandwidth": Bandwidth,
    "slow_close": SlowClose,
    "timeout": Timeout,
    "reset_peer": ResetPeer,
    "limit_data": LimitData,
    "slicer": Slicer,
}


@dataclass(frozen=True)
class ToxicSpec:
    """One toxic as the API knows it: Toxiproxy's name, type, stream, toxicity, attributes."""

    name: str
    type: str
    stream: Stream
    toxicity: float
    toxic: Toxic

    def to_json(self) -> dict[str, object]:
        return {"attributes": self.toxic.attributes(), "name": self.name, "type": self.type,
                "stream": self.stream, "toxicity": self.toxicity}


_TOXIC_KEYS = {"name", "type", "stream", "toxicity", "attributes"}


def parse_toxic(body: object) -> ToxicSpec:
    """A new toxic from a POST body, with Toxiproxy's defaults; ApiError(400) if invalid."""
    fields = _json_object(body, allowed=_TOXIC_KEYS)
    stream = fields.get("stream", "downstream")
    if stream not in STREAMS:
        raise ApiError(_BAD_REQUEST, "stream was invalid, can be either upstream or downstream")
    toxic_type = fields.get("type")
    if not isinstance(toxic_type, str) or toxic_type not in TOXICS:
        raise ApiError(_BAD_REQUEST, f"invalid toxic type {toxic_type!r}; "
                       f"known types: {sorted(TOXICS)}")
    name = fields.get("name") or f"{toxic_type}_{stream}"
    if not isinstance(name, str):
        raise ApiError(_BAD_REQUEST, f"name: expected a string, got {name!r}")
    toxic = TOXICS[toxic_type].from_attributes(_attributes(fields))
    return ToxicSpec(name=name, type=toxic_type, stream=stream,
                     toxicity=_toxicity(fields.get("toxicity", 1.0)), toxic=toxic)


def update_toxic(spec: ToxicSpec, body: object) -> ToxicSpec:
    """The toxic after an update body (attributes merged, toxicity kept unless given)."""
    fields = _json_object(body, allowed=_TOXIC_KEYS)
    for key in ("name", "type", "stream"):
        if key in fields and fields[key] != getattr(spec, key):
            raise ApiError(_BAD_REQUEST, f"{key} cannot be changed; delete and re-create "
                           "the toxic instead")
    toxicity = _toxicity(fields["toxicity"]) if "toxicity" in fields else spec.toxicity
    return dataclasses.replace(spec, toxicity=toxicity,
                               toxic=spec.toxic.with_attributes(_attributes(fields)))


def _json_object(body: object, *, allowed: set[str]) -> dict[str, object]:
    if not isinstance(body, dict):
        raise ApiError(_BAD_REQUEST, "bad request body: expected a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError(_BAD_REQUEST, f"bad request body: unknown field(s) {unknown}; "
                       f"expected some of {sorted(allowed)}")
    return cast(dict[str, object], body)


def _attributes(fields: Mapping[str, object]) -> Mapping[str, object]:
    attributes = fields.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise ApiError(_BAD_REQUEST, "attributes: expected a JSON object")
    return cast(Mapping[str, object], attributes)


def _toxicity(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ApiError(_BAD_REQUEST, f"toxicity: expected a number from 0 to 1, got {value!r}")
    return float(value)
