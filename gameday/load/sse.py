"""Reads a streamed RAG answer (server-sent events) as a client sees it, timing every token.

The stream's shape (``targets/rag/app.py``): one ``meta`` event, ``token`` events carrying
their position ``i`` and text ``t``, one ``done`` event. A stream that ends (or fails) before
``done`` is broken; a token whose position the client already holds is a duplicate.
No Locust and no sockets here: the caller hands over the body's chunks as they arrive.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AnswerParser", "AnswerStream", "read_answer_stream"]


@dataclass(slots=True)
class AnswerStream:
    """What one streamed answer delivered, with the client's clock at each token."""

    meta: dict[str, Any] | None = None
    done: dict[str, Any] | None = None
    token_times_s: list[float] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    duplicates: int = 0
    error: str = ""  # why the body stopped early ("" when it ended by itself)

    @property
    def complete(self) -> bool:
        return self.done is not None

    @property
    def text(self) -> str:
        return "".join(self.texts)

    def gaps_s(self) -> list[float]:
        """Inter-token gaps, in arrival order."""
        times = self.token_times_s
        return [later - earlier for earlier, later in itertools.pairwise(times)]

    def add_token(self, data: dict[str, Any], now_s: float) -> None:
        position = int(data.get("i", len(self.positions)))
        if position in self._held():
            self.duplicates += 1
            return
        self.positions.append(position)
        self.texts.append(str(data.get("t", "")))
        self.token_times_s.append(now_s)

    def _held(self) -> set[int]:
        return set(self.positions)


class AnswerParser:
    """Feeds body chunks into an ``AnswerStream`` as they arrive (events may span chunks)."""

    def __init__(self, stream: AnswerStream | None = None) -> None:
        self.stream = stream if stream is not None else AnswerStream()
        self._buffer = b""

    def feed(self, chunk: bytes, now_s: float) -> None:
        self._buffer += chunk
        self._buffer = self._buffer.replace(b"\r\n", b"\n")
        while b"\n\n" in self._buffer:
            raw, self._buffer = self._buffer.split(b"\n\n", 1)
            _dispatch(self.stream, raw, now_s)

    def end(self, error: str = "") -> AnswerStream:
        """The body ended (``error``: why it stopped early, if it did)."""
        if error:
            self.stream.error = error[:200]
        elif self.stream.done is None:
            self.stream.error = "the stream ended without its done event"
        return self.stream


def read_answer_stream(chunks: Iterable[bytes], into: AnswerStream | None = None, *,
                       clock: Callable[[], float] = time.time) -> AnswerStream:
    """Parse SSE from ``chunks`` into ``into`` (a fresh stream by default). A read error is
    recorded in ``error``, not raised: a broken stream is a measurement, not a crash."""
    parser = AnswerParser(into)
    try:
        for chunk in chunks:
            parser.feed(chunk, clock())
    except Exception as exc:  # the connection broke mid-answer
        return parser.end(f"{type(exc).__name__}: {exc}")
    return parser.end()


def _dispatch(stream: AnswerStream, raw: bytes, now_s: float) -> None:
    name, data = "message", []
    # lines end at LF (CR LF) only: str.splitlines would also cut at U+2028 inside a token
    for line in raw.decode("utf-8", errors="replace").split("\n"):
        line = line.rstrip("\r")
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
    try:
        payload = json.loads("\n".join(data)) if data else {}
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    if name == "token":
        stream.add_token(payload, now_s)
    elif name == "meta":
        stream.meta = payload
    elif name == "done":
        stream.done = payload
