"""A background poll during a run: ``poll_once`` every ``interval_s`` in a daemon thread,
from ``start()`` until ``stop()`` (the edge's and the Triton servers' watches)."""

from __future__ import annotations

import threading
import time

__all__ = ["Poller"]


class Poller:
    """Subclasses give ``poll_once`` (it must not raise) and may give ``_closed`` (after the
    last poll). The interval counts from one poll's start to the next."""

    def __init__(self, *, interval_s: float, name: str) -> None:
        self._interval_s = interval_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._closed()

    def poll_once(self) -> object:
        raise NotImplementedError

    def _closed(self) -> None:
        """What to release once polling has stopped."""

    def _run(self) -> None:
        while not self._stopping.is_set():
            started_s = time.monotonic()
            self.poll_once()
            self._stopping.wait(max(0.0, self._interval_s - (time.monotonic() - started_s)))
