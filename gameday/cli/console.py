"""The consoles every command prints to: progress on stderr, results on stdout."""

from __future__ import annotations

from rich.console import Console

__all__ = ["err", "out", "progress"]

# soft_wrap: a long message (a path, a field) stays on one line, so grep and CI logs find it.
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def progress(message: str) -> None:
    err.print(f"[dim]·[/dim] {message}", highlight=False)
