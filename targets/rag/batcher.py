"""Dynamic batching for the embedding server: requests that arrive together share one model
call, as Triton's dynamic batcher and text-embeddings-inference do.

One worker thread owns the model. It takes the oldest request, then whatever else arrives
within ``max_wait_s`` (up to ``max_batch`` texts), embeds them in one call and hands each
request its rows. The event loop never runs the model, so ``/health`` answers while it works.
"""

from __future__ import annotations

import asyncio
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

_STOP = object()


@dataclass(slots=True)
class _Pending:
    texts: Sequence[str]
    future: asyncio.Future[npt.NDArray[np.float32]]
    loop: asyncio.AbstractEventLoop
    queued_s: float


class Batcher:
    def __init__(self, encode: Encoder, *, max_batch: int, max_wait_s: float) -> None:
        self._encode = encode
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._queue: queue.Queue[_Pending | object] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="embed-batcher", daemon=True)
        self.metrics = EmbedderMetrics()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=5)

    async def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        loop = asyncio.get_running_loop()
        pending = _Pending(texts, loop.create_future(), loop, time.perf_counter())
        self._queue.put(pending)
        return await pending.future

    def _work(self) -> None:
        while (first := self._queue.get()) is not _STOP:
            assert isinstance(first, _Pending)
            batch, stop = self._collect(first)
            self._run(batch)
            if stop:
                return

    def _collect(self, first: _Pending) -> tuple[list[_Pending], bool]:
        batch, size = [first], len(first.texts)
        deadline_s = time.perf_counter() + self._max_wait_s
        while size < self._max_batch:
            try:
                item = self._queue.get(timeout=max(0.0, deadline_s - time.perf_counter()))
            except queue.Empty:
                break
            if item is _STOP:
                return batch, True
            assert isinstance(item, _Pending)
            batch.append(item)
            size += len(item.texts)
        return batch, False

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
