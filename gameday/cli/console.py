"""The consoles every command prints to: progress on stderr, results on stdout."""

from __future__ import annotations

from rich.console import Console

__all__ = ["err", "out", "progress"]

out = Console()
err = Console(stderr=True)


def progress(message: str) -> None:
    err.print(f"[dim]·[/dim] {message}", highlight=False)
