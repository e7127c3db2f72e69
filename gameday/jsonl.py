"""Append-only JSON Lines files of a run folder (``triton.jsonl``, ``coldstarts.jsonl``): one
object a line, appended in one write, read back with a crashed writer's torn last line skipped
and any other bad line named."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["append_jsonl", "read_jsonl"]

T = TypeVar("T")


def append_jsonl(path: Path, objects: Iterable[dict[str, Any]]) -> None:
    """Append the objects, one JSON object a line, in one write (nothing when none)."""
    lines = "".join(json.dumps(o, allow_nan=False) + "\n" for o in objects)
    if lines:
        with path.open("a") as handle:
            handle.write(lines)


def read_jsonl(path: Path, parse: Callable[[dict[str, Any]], T], what: str) -> list[T]:
    """Every line of ``path`` through ``parse``, in file order; an absent file: none.

    The torn last line of a crashed writer (no newline at its end) is skipped; any other line
    that does not parse raises ValueError naming the file, the line and ``what`` it should be.
    """
    if not path.exists():
        return []
    text = path.read_text()
    lines = text.splitlines()
    parsed = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            parsed.append(parse(json.loads(line)))
        except (json.JSONDecodeError, TypeError, ValueError, KeyError, AttributeError) as exc:
            if number == len(lines) and not text.endswith("\n"):
                break  # torn by a crash mid-write
            raise ValueError(f"{path}: line {number}: not {what} "
                             f"({type(exc).__name__}: {exc}): {line[:120]!r}") from None
    return parsed
