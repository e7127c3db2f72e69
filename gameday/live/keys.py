"""Keys from the operator's terminal: stdin in cbreak mode (each key as it is typed, no echo;
Ctrl-C still sends SIGINT, so a stop works as in ``gameday run``), read with a timeout.

Works in any plain terminal, over SSH and inside tmux: no mouse, no alternate screen. The
terminal's settings are put back on every way out: leaving the ``with`` block (an exception,
a KeyboardInterrupt from SIGINT or SIGTERM), and at interpreter exit as a last resort; only a
SIGKILL leaves it in cbreak (``stty sane`` mends it).
"""

from __future__ import annotations

import atexit
import codecs
import contextlib
import os
import select
import sys
import termios
import tty
from typing import Any, Protocol

__all__ = ["KeySource", "TerminalKeys"]


class KeySource(Protocol):
    def read(self, timeout_s: float) -> str:
        """What was typed within ``timeout_s`` ("" when nothing was)."""
        ...


class TerminalKeys:
    """stdin (or ``fd``) in cbreak mode while the block runs."""

    def __init__(self, fd: int | None = None) -> None:
        self.fd = sys.stdin.fileno() if fd is None else fd
        self._saved: list[Any] | None = None
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def __enter__(self) -> TerminalKeys:
        self._saved = termios.tcgetattr(self.fd)
        atexit.register(self.restore)
        tty.setcbreak(self.fd, termios.TCSANOW)
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()
        atexit.unregister(self.restore)

    def restore(self) -> None:
        saved, self._saved = self._saved, None
        if saved is not None:
            with contextlib.suppress(termios.error, OSError):  # the terminal hung up
                termios.tcsetattr(self.fd, termios.TCSADRAIN, saved)

    def read(self, timeout_s: float) -> str:
        try:
            ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout_s))
            if not ready:
                return ""
            data = os.read(self.fd, 256)
        except InterruptedError:
            return ""
        except OSError as exc:  # EIO: the terminal hung up
            raise EOFError(f"the terminal is gone: {exc}") from exc
        if not data:
            raise EOFError("the terminal closed")
        return str(self._decoder.decode(data))
