"""The operator's part of a game-day run folder (see ``gameday.records`` for the rest)::

    operator.jsonl   one OperatorAction per line, appended as it happens: the hypothesis at the
                     start, then every ``inject``, ``roll_back``, ``note`` and ``quit`` with
                     its time (``t_s``, UNIX epoch seconds), the scenario it acted on and its
                     text (the hypothesis, a note, or why a key did nothing)

Each line is written and closed at once, as ``events.jsonl`` is: a crash loses nothing the
operator did before it. A rollback the operator asked for is also in ``events.jsonl``:
``scenario_aborted`` with ``condition`` ``OPERATOR_CONDITION``.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from gameday.jsonl import read_jsonl

__all__ = ["ACTIONS", "OPERATOR_CONDITION", "OPERATOR_FILE", "OPERATOR_TRIGGER", "Action",
           "OperatorAction", "OperatorLog", "read_operator_log"]

OPERATOR_FILE = "operator.jsonl"
OPERATOR_CONDITION = "operator"  # scenario_aborted's condition when the operator rolled back
OPERATOR_TRIGGER = "operator"  # scenario_not_run's trigger when the operator never injected it
Action = Literal["hypothesis", "inject", "roll_back", "note", "quit"]
ACTIONS: tuple[str, ...] = get_args(Action)


@dataclass(frozen=True, slots=True)
class OperatorAction:
    t_s: float
    action: Action
    scenario: str = ""  # inject / roll_back: the scenario acted on
    text: str = ""  # the hypothesis or the note


class OperatorLog:
    """Append-only; thread-safe; every action is on disk when ``record`` returns."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / OPERATOR_FILE
        self._lock = threading.Lock()

    def record(self, action: Action, *, scenario: str = "", text: str = "",
               t_s: float | None = None) -> OperatorAction:
        entry = OperatorAction(time.time() if t_s is None else t_s, action, scenario, text)
        line = json.dumps(asdict(entry), allow_nan=False)  # ASCII: any locale reads it
        with self._lock, self.path.open("a") as handle:
            handle.write(line + "\n")
        return entry


def _parse(raw: dict[str, Any]) -> OperatorAction:
    if raw["action"] not in ACTIONS:
        raise ValueError(f"unknown action {raw['action']!r} (expected one of {ACTIONS})")
    return OperatorAction(float(raw["t_s"]), raw["action"], str(raw.get("scenario", "")),
                          str(raw.get("text", "")))


def read_operator_log(run_dir: Path) -> list[OperatorAction] | None:
    """The operator's actions in the order they were taken; None: not a game-day run."""
    path = run_dir / OPERATOR_FILE
    if not path.exists():
        return None
    return read_jsonl(path, _parse, "an operator action")
