"""Dynamic batching for the embedding server: requests that arrive together share one model
call, as Triton's dynamic batcher and text-embeddings-inference do.

One worker thread owns the model. It takes the oldest request, then whatever else arrives
within ``max_wait_s`` (up to ``max_batch`` texts), embeds them in one call and hands each
request its rows. The event loop never runs the model, so ``/health`` answers while it works.

Questions go before ingests: a ``bulk`` request (an ingest's chunks, sent a few at a time by
the client) is embedded on its own and only when no interactive request waits, so a question
waits behind at most one small bulk call, not behind a whole document (measured: a question
behind a 22-chunk ingest batch waited 1.4 s on one core and the edge's health check timed out).
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from targets.rag.embedder_metrics import EmbedderMetrics
from targets.rag.embedding_model import Encoder

__all__ = ["Batcher"]

_INTERACTIVE, _BULK, _STOP = 0, 1, 2


@dataclass(slots=True)
class _Pending:
    texts: Sequence[str]
    future: asyncio.Future[npt.NDArray[np.float32]]
    loop: asyncio.AbstractEventLoop
    queued_s: float
    bulk: bool = False


class Batcher:
    def __init__(self, encode: Encoder, *, max_batch: int, max_wait_s: float) -> None:
        self._encode = encode
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._queue: queue.PriorityQueue[tuple[int, int, _Pending | None]] = \
            queue.PriorityQueue()
        self._order = itertools.count()
        self._thread = threading.Thread(target=self._work, name="embed-batcher", daemon=True)
        self.metrics = EmbedderMetrics()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put((_STOP, next(self._order), None))
        self._thread.join(timeout=5)

    async def embed(self, texts: Sequence[str], *, bulk: bool = False
                    ) -> npt.NDArray[np.float32]:
        loop = asyncio.get_running_loop()
        pending = _Pending(texts, loop.create_future(), loop, time.perf_counter(), bulk)
        self._queue.put((_BULK if bulk else _INTERACTIVE, next(self._order), pending))
        return await pending.future

    def _work(self) -> None:
        while (first := self._queue.get())[2] is not None:
            pending = first[2]
            self._run([pending] if pending.bulk else self._collect(pending))

    def _collect(self, first: _Pending) -> list[_Pending]:
        """Interactive requests that arrive within max_wait_s, up to max_batch texts."""
        batch, size = [first], len(first.texts)
        deadline_s = time.perf_counter() + self._max_wait_s
        while size < self._max_batch:
            try:
                item = self._queue.get(timeout=max(0.0, deadline_s - time.perf_counter()))
            except queue.Empty:
                break
            if item[0] != _INTERACTIVE:  # bulk waits its turn; a stop ends the loop next
                self._queue.put(item)
                break
            assert item[2] is not None
            batch.append(item[2])
            size += len(item[2].texts)
        return batch

    def _run(self, batch: list[_Pending]) -> None:
        texts = [text for pending in batch for text in pending.texts]
        started_s = time.perf_counter()
        for pending in batch:
            self.metrics.queue_seconds.observe(started_s - pending.queued_s)
        try:
            vectors = self._encode(texts)
        except Exception as exc:  # every waiting request learns of it
            self.metrics.failures.inc()
            for pending in batch:
                pending.loop.call_soon_threadsafe(_fail, pending.future, exc)
            return
        self.metrics.observe_batch(len(texts), time.perf_counter() - started_s)
        offset = 0
        for pending in batch:
            rows = vectors[offset:offset + len(pending.texts)]
            offset += len(pending.texts)
            pending.loop.call_soon_threadsafe(_resolve, pending.future, rows)


def _resolve(future: asyncio.Future[npt.NDArray[np.float32]],
             rows: npt.NDArray[np.float32]) -> None:
    if not future.done():  # its request may have been cancelled (client gone)
        future.set_result(rows)


def _fail(future: asyncio.Future[npt.NDArray[np.float32]], exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)
