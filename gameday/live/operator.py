"""The operator's keys: what each does, and the note being typed.

``i`` inject the next scenario, ``r`` roll the running one back now, ``n`` add a note (a line:
Enter saves it, Esc cancels, Backspace deletes), ``q`` quit (as a Ctrl-C: every fault rolled
back, the report written). Each action that took effect goes to ``operator.jsonl`` with its
time; a key that did nothing says why on the dashboard and is not an action.
"""

from __future__ import annotations

import unicodedata
from typing import Protocol

from gameday.operator_log import OperatorLog
from gameday.triggers import Refused

__all__ = ["KEYS", "QUIT_REASON", "ROLL_BACK_REASON", "Operated", "OperatorKeys"]

ROLL_BACK_REASON = "operator: roll back now"
QUIT_REASON = "operator: quit"
KEYS = (("i", "inject next"), ("r", "roll back now"), ("n", "note"), ("q", "quit"))
_ENTER, _ESC, _BACKSPACE = ("\r", "\n"), "\x1b", ("\x7f", "\x08")
_MAX_NOTE = 500


class Operated(Protocol):
    """What the keys act on (``gameday.triggers.OperatorTrigger``)."""

    def inject(self) -> str | Refused: ...

    def roll_back(self, reason: str) -> str | Refused: ...

    def quit(self, reason: str) -> None: ...


class OperatorKeys:
    """Takes the keys as the terminal gives them (a chunk at a time: an escape sequence such
    as an arrow key arrives whole and is ignored, a lone Esc cancels a note)."""

    def __init__(self, operated: Operated, log: OperatorLog) -> None:
        self.operated = operated
        self.log = log
        self.note: str | None = None  # the note being typed; None when not typing one
        self.message = ""  # what the last key did, or why it did nothing
        self.quitting = False

    def handle(self, chunk: str) -> None:
        if chunk.startswith(_ESC) and len(chunk) > 1:
            return  # an escape sequence (arrow, function key): no key of ours
        for key in chunk:
            if self.note is not None:
                self._typing(key)
            else:
                self._command(key)

    def _command(self, key: str) -> None:
        if self.quitting and key in ("i", "r", "n"):
            self.message = "stopping: every fault is being rolled back, then the report"
        elif key == "i":
            self._done(self.operated.inject(), "inject", "injecting {}")
        elif key == "r":
            self._done(self.operated.roll_back(ROLL_BACK_REASON), "roll_back",
                       "rolling {} back")
        elif key == "n":
            self.note, self.message = "", "note: Enter saves, Esc cancels"
        elif key == "q":
            self.quit(QUIT_REASON)

    def quit(self, reason: str) -> None:
        """Stop the run (once), as ``q`` does; also when the terminal went away."""
        if self.quitting:
            self.message = "already stopping: rolling back, then the report"
            return
        self.quitting = True
        self.log.record("quit", text=reason)
        self.message = "quitting: rolling every fault back, then the report"
        self.operated.quit(reason)

    def _done(self, outcome: str | Refused, action: str, said: str) -> None:
        if isinstance(outcome, Refused):
            self.message = f"nothing done: {outcome.why}"
            return
        if action == "inject":
            self.log.record("inject", scenario=outcome)
        else:
            self.log.record("roll_back", scenario=outcome, text=ROLL_BACK_REASON)
        self.message = said.format(outcome)

    def _typing(self, key: str) -> None:
        assert self.note is not None
        if key in _ENTER:
            text, self.note = self.note.strip(), None
            if text:
                self.log.record("note", text=text)
                self.message = f"note saved: {text}"
            else:
                self.message = "empty note: not saved"
        elif key == _ESC:
            self.note, self.message = None, "note cancelled"
        elif key in _BACKSPACE:
            self.note = self.note[:-1]
        elif len(self.note) < _MAX_NOTE and unicodedata.category(key)[0] != "C":
            self.note += key  # printable: control characters (Ctrl-A, ...) are dropped
