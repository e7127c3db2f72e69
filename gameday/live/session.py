"""The dashboard and the operator's keys on a thread of their own, while the run goes on in
the main thread (where its signals are handled): one refresh a second (the run folder read
incrementally, the screen redrawn), and a redraw at once after each key.

The harness's progress lines go to the dashboard's Operator panel (``progress``) instead of
stderr, and are kept for the caller to print once the dashboard is gone. rich ``Live`` is
used without the alternate screen, so the last frame stays in the terminal's scrollback.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from rich.console import Console, RenderableType
from rich.live import Live

from gameday.config import Suite
from gameday.live.dashboard import Screen, render
from gameday.live.figures import LiveFigures, RunView
from gameday.live.keys import KeySource
from gameday.live.operator import OperatorKeys
from gameday.operator_log import OperatorLog
from gameday.triggers import OperatorTrigger

__all__ = ["LiveSession"]

_KEY_POLL_S = 0.25  # how soon a stop is noticed between refreshes
_LOG_LINES = 5


class LiveSession:
    """``with LiveSession(...) as session:`` draws until the block ends (or ``stop``)."""

    def __init__(self, run_dir: Path, suite: Suite, trigger: OperatorTrigger,
                 log: OperatorLog, keys: KeySource, console: Console, *,
                 refresh_s: float = 1.0, clock: Callable[[], float] = time.time) -> None:
        self.run_dir, self.suite, self.trigger = run_dir, suite, trigger
        self.keys, self.console, self.refresh_s, self.clock = keys, console, refresh_s, clock
        self.operator = OperatorKeys(trigger, log)
        self.view = RunView(run_dir, suite)
        self.history: list[str] = []  # every progress line, for the caller to print after
        self._recent: deque[str] = deque(maxlen=_LOG_LINES)
        self.figures: LiveFigures | None = None
        self.failure: BaseException | None = None  # what stopped the dashboard early
        self.refreshes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def progress(self, message: str) -> None:
        self.history.append(message)
        self._recent.append(message)

    # -- one refresh ------------------------------------------------------------------------
    def refresh(self) -> Screen:
        """Read what the run folder gained and build the screen (no drawing)."""
        self.figures = self.view.update(self.clock(), waiting=self.trigger.waiting)
        self.refreshes += 1
        return self.screen()

    def screen(self) -> Screen:
        figures = self.figures or self.view.update(self.clock(), waiting=self.trigger.waiting)
        return Screen(suite=self.suite.name, run_id=self.run_dir.name,
                      hypothesis=self.suite.gameday.hypothesis, figures=figures,
                      next_scenario=self.trigger.next_scenario, note=self.operator.note,
                      message=self.operator.message, log=list(self._recent))

    def _draw(self, screen: Screen) -> RenderableType:
        """The screen for the terminal's size now (it may have been resized; $COLUMNS, which
        rich would otherwise hold to, says only what it was when the shell started)."""
        if self.console.is_terminal:
            with contextlib.suppress(OSError, ValueError):
                self.console.size = os.get_terminal_size(self.console.file.fileno())
        return render(screen, self.console.width)

    # -- the thread -------------------------------------------------------------------------
    def __enter__(self) -> LiveSession:
        self._thread = threading.Thread(target=self._run, name="gameday-live", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        try:
            with Live(self._draw(self.refresh()), console=self.console, auto_refresh=False,
                      transient=False, redirect_stdout=True, redirect_stderr=True) as live:
                self._loop(live)
                live.update(self._draw(self.refresh()), refresh=True)  # the last frame stays
        except BaseException as exc:  # a dead terminal, a bug: the run goes on without us
            self.failure = exc

    def _loop(self, live: Live) -> None:
        due_s = self.clock() + self.refresh_s
        keys_gone = False
        while not self._stop.is_set():
            wait_s = min(_KEY_POLL_S, max(0.0, due_s - self.clock()))
            chunk = ""
            if keys_gone:
                self._stop.wait(wait_s)
            else:
                try:
                    chunk = self.keys.read(wait_s)
                except EOFError:  # the operator's terminal is gone: nobody is driving
                    keys_gone = True
                    self.operator.quit("operator: the terminal closed")
            if chunk:
                self.operator.handle(chunk)
                live.update(self._draw(self.screen()), refresh=True)
            if self.clock() >= due_s:
                live.update(self._draw(self.refresh()), refresh=True)
                due_s = max(due_s + self.refresh_s, self.clock())
