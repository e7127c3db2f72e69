"""Disk full: a member's size-capped data volume filled with a file of ours until
``leave_bytes`` are left; undone by deleting that file."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Literal

from gameday.errors import FaultError
from gameday.platforms.local.faults.base import FaultContext, LocalFault

__all__ = ["DiskFill"]

_FILLER = "gameday-disk-fill"
_CHUNK = 1 << 20


def _free_bytes(path: str) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


class DiskFill(LocalFault):
    kind: Literal["disk_fill"] = "disk_fill"
    member: str
    volume: str  # the mount point of the member's capped volume
    leave_bytes: int = 0

    @property
    def filler(self) -> Path:
        return Path(self.volume) / _FILLER

    def target(self) -> str:
        return f"{self.member}'s volume {self.volume} filled"

    def inject(self, ctx: FaultContext) -> dict[str, Any]:
        if not os.path.ismount(self.volume):
            raise FaultError(f"{self.volume} is not a capped volume (set database.disk_mb): "
                             "filling it would fill the host's disk")
        written = 0
        with self.filler.open("ab") as handle, contextlib.suppress(OSError):  # ENOSPC: full
            while _free_bytes(self.volume) > self.leave_bytes + _CHUNK:
                handle.write(b"\0" * _CHUNK)
                handle.flush()
                written += _CHUNK
            while _free_bytes(self.volume) > self.leave_bytes:
                handle.write(b"\0" * 4096)
                handle.flush()
                written += 4096
        return {"volume": self.volume, "written_bytes": written,
                "free_bytes": _free_bytes(self.volume)}

    def verify(self, ctx: FaultContext) -> dict[str, Any]:
        free = _free_bytes(self.volume)
        if free > self.leave_bytes + 4096:
            raise FaultError(f"fill {self.volume}: {free} bytes still free")
        return {"free_bytes": free}

    def undo(self, ctx: FaultContext) -> str:
        self.filler.unlink(missing_ok=True)
        return f"freed {self.volume} ({self.member})"
