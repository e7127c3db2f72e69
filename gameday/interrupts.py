"""Stopping a run: SIGINT/SIGTERM/SIGHUP, or a stop the harness asks for itself (its load generator
died), noted once and turned into ``KeyboardInterrupt`` only where the code running at that
moment can take one.

Why not Python's default SIGINT handler: a process started with SIGINT ignored (a background
job of a non-interactive shell, some CI runners) never sees it at all — chaoslib then runs the
experiment to the end and its journal says ``completed``; SIGTERM kills the process outright,
fault and all, and so does SIGHUP, which a dropped SSH session sends. And code that must not
be cut short (chaoslib's rollbacks, the clean-up) must not get a ``KeyboardInterrupt`` in the
middle. So a run installs one handler for the three signals and says, phase by phase, where an
interrupt may be raised (``Policy``).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

__all__ = ["ANYWHERE", "NOWHERE", "Policy", "StopRequest", "StopSignals"]

Policy = Callable[[FrameType | None], bool]
"""Given the frame the main thread was in when a stop came: may it raise there?"""


def ANYWHERE(frame: FrameType | None) -> bool:
    return True


def NOWHERE(frame: FrameType | None) -> bool:
    return False


_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_NUDGE_EVERY_S = 0.2


@dataclass(frozen=True, slots=True)
class StopRequest:
    """Why the run stops: ``reason`` in words (``SIGINT``, ``SIGTERM``, ``SIGHUP``, or what
    the harness saw), ``kind`` (``signal``, ``load-stopped``, ``load-failed``) and the phase
    it came in."""

    reason: str
    kind: str
    phase: str
    at_s: float


class StopSignals:
    """The run's SIGINT/SIGTERM/SIGHUP handler and its stop request (the first one wins).

    ``install``/``restore`` from the main thread; ``request`` from any thread. In a phase
    (``enter(name, policy)``) a stop raises ``KeyboardInterrupt`` in the main thread where
    ``policy`` allows it, once; with ``repeat=True`` again every 0.2 s until ``taken()``
    (chaoslib needs a second one to leave an action's pause). ``after_run(callback)``: from
    then on a signal calls ``callback(reason)`` instead.

    ``abort(reason)`` (any thread) aborts the running scenario alone: raised like a stop,
    where the phase's policy allows (so chaoslib plays the scenario's rollbacks), after which
    the main thread takes it back with ``clear_abort()`` and the run goes on. A stop (signal,
    load) outranks an abort; an abort pending when a real SIGINT lands absorbs at most one
    delivery of it (the run's own deliveries are counted, so it is rare).
    """

    def __init__(self) -> None:
        self.requested: StopRequest | None = None
        self.phase_name = "start"
        self._policy: Policy = ANYWHERE
        self._repeat = False
        self._taken = False
        self._after_run: Callable[[str], None] | None = None
        self._on_stop: list[Callable[[], None]] = []
        self._previous: dict[int, object] = {}
        self.aborting: StopRequest | None = None
        self._abort_taken = False
        self._own_deliveries = 0  # SIGINTs this object sent itself for an abort
        self._main_ident = threading.main_thread().ident
        self._lock = threading.RLock()  # the handler may run while the main thread holds it
        self._closed = threading.Event()
        self._nudger: threading.Thread | None = None

    # -- lifecycle (main thread) ----------------------------------------------------------
    def install(self) -> None:
        for signum in _SIGNALS:
            self._previous[signum] = signal.signal(signum, self._on_signal)
        self._nudger = threading.Thread(target=self._nudge, name="stop-nudger", daemon=True)
        self._nudger.start()

    def reinstall(self) -> None:
        """Take SIGTERM back from code that replaced our handler (chaoslib does, per run)."""
        signal.signal(signal.SIGTERM, self._on_signal)

    def restore(self) -> None:
        self._closed.set()
        if self._nudger is not None:
            self._nudger.join()
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)  # type: ignore[arg-type]
        self._previous.clear()

    def enter(self, name: str, policy: Policy = ANYWHERE, *, repeat: bool = False) -> None:
        """Move to phase ``name`` (main thread). Under ``ANYWHERE`` a stop noted while nothing
        could raise is raised here and now."""
        self.phase_name, self._policy, self._repeat = name, policy, repeat
        if policy is ANYWHERE:
            self.check()

    def after_run(self, callback: Callable[[str], None]) -> None:
        self._closed.set()
        self._after_run = callback

    # -- stop requests ----------------------------------------------------------------------
    def request(self, reason: str, kind: str) -> None:
        """Ask the run to stop (any thread); the main thread is woken to act on it."""
        if self._note(reason, kind) and threading.get_ident() != self._main_ident \
                and self._main_ident is not None and not self._closed.is_set():
            signal.pthread_kill(self._main_ident, signal.SIGINT)

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` (quick, non-blocking: it may run inside the signal handler) once,
        when the stop is requested; at once if it already was."""
        self._on_stop.append(callback)
        if self.requested is not None:
            callback()

    def taken(self) -> None:
        """The run has started to stop for the request (or to abort the scenario for the
        abort): raise no more interrupts for it."""
        if self.requested is None and self.aborting is not None:
            self._abort_taken = True
        else:
            self._taken = True

    def abort(self, reason: str) -> bool:
        """Abort the running scenario (any thread); False when a stop or an abort is already
        pending, or the run is past its scenarios."""
        with self._lock:
            if self.requested is not None or self.aborting is not None \
                    or self._closed.is_set():
                return False
            self.aborting = StopRequest(reason, "abort", self.phase_name, time.time())
            self._abort_taken = False
        self._deliver_abort()
        return True

    def clear_abort(self) -> StopRequest | None:
        """The abort of the scenario that just ended, if any; no abort is pending after it."""
        with self._lock:
            aborted, self.aborting, self._abort_taken = self.aborting, None, False
            return aborted

    def check(self) -> None:
        """Raise the pending stop now (main thread, where the caller knows it is safe)."""
        if self.requested is not None and not self._taken:
            self._taken = True
            raise KeyboardInterrupt(self.requested.reason)

    # -- internals ------------------------------------------------------------------------
    def _note(self, reason: str, kind: str) -> bool:
        with self._lock:
            if self.requested is not None:
                return False
            self.requested = StopRequest(reason, kind, self.phase_name, time.time())
        for callback in self._on_stop:
            callback()
        return True

    def _deliver_abort(self) -> None:
        if self._main_ident is None or self._closed.is_set():
            return
        with self._lock:
            self._own_deliveries += 1
        signal.pthread_kill(self._main_ident, signal.SIGINT)

    def _own_abort_delivery(self, signum: int) -> bool:
        with self._lock:
            if signum != signal.SIGINT or self._own_deliveries == 0:
                return False
            self._own_deliveries -= 1
            return self.aborting is not None and self.requested is None

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self._after_run is not None:
            self._after_run(name)
            return
        if self._own_abort_delivery(signum):
            assert self.aborting is not None
            if self._abort_taken or not self._policy(frame):
                return  # the nudger delivers it again where it can be raised
            if not self._repeat:
                self._abort_taken = True
            raise KeyboardInterrupt(self.aborting.reason)
        self._note(name, "signal")
        if self._taken or not self._policy(frame):
            return
        if not self._repeat:
            self._taken = True
        raise KeyboardInterrupt(self.requested.reason if self.requested else name)

    def _nudge(self) -> None:
        """Under a repeating policy, re-deliver the stop until it is taken: the main thread
        may be where it cannot raise (between activities) or have swallowed one (chaoslib
        sleeps out an action's pause after a KeyboardInterrupt in the action)."""
        while not self._closed.wait(_NUDGE_EVERY_S):
            if self.requested is not None and not self._taken and self._repeat \
                    and self._main_ident is not None:
                signal.pthread_kill(self._main_ident, signal.SIGINT)
            elif self.requested is None and self.aborting is not None \
                    and not self._abort_taken and self._repeat:
                self._deliver_abort()
