"""The operator's terminal on a real pseudo-terminal: cbreak while the block runs (each key
as typed, no echo, Ctrl-C still a signal), its settings back on every way out, keys read with
a timeout, and a terminal that hangs up is an EOFError (the session takes it as a quit)."""

from __future__ import annotations

import contextlib
import os
import termios
from collections.abc import Iterator

import pytest

from gameday.live.keys import TerminalKeys


@pytest.fixture
def pty() -> Iterator[tuple[int, int]]:
    controller, terminal = os.openpty()
    yield controller, terminal
    for fd in (controller, terminal):
        with contextlib.suppress(OSError):  # a test closed it
            os.close(fd)


def _lflag(fd: int) -> int:
    return int(termios.tcgetattr(fd)[3])


def test_cbreak_while_the_block_runs_and_restored_after_an_exception(
        pty: tuple[int, int]) -> None:
    _, terminal = pty
    before = termios.tcgetattr(terminal)
    with pytest.raises(RuntimeError), TerminalKeys(terminal):
        lflag = _lflag(terminal)
        assert not lflag & termios.ICANON and not lflag & termios.ECHO
        assert lflag & termios.ISIG  # Ctrl-C still sends SIGINT
        raise RuntimeError("a crash in the run")
    assert termios.tcgetattr(terminal) == before


def test_keys_are_read_as_typed_with_a_timeout(pty: tuple[int, int]) -> None:
    controller, terminal = pty
    with TerminalKeys(terminal) as keys:
        assert keys.read(0.05) == ""
        os.write(controller, b"i")
        assert keys.read(1.0) == "i"
        os.write(controller, "né".encode()[:2])  # a multi-byte character split in two reads
        assert keys.read(1.0) == "n"
        os.write(controller, "né".encode()[2:])
        assert keys.read(1.0) == "é"


def test_a_hung_up_terminal_is_an_eof(pty: tuple[int, int]) -> None:
    controller, terminal = pty
    with TerminalKeys(terminal) as keys:
        os.close(controller)
        with pytest.raises(EOFError):
            keys.read(1.0)
