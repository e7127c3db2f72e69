"""A process identified for good: pid plus start time, so a recycled pid is never mistaken
for the process that owned a fault, a platform or a supervisor."""

from __future__ import annotations

import os

import psutil
from pydantic import BaseModel, ConfigDict

__all__ = ["Owner", "process_start_time"]


def process_start_time(pid: int) -> float | None:
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


class Owner(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pid: int
    create_time: float | None

    @classmethod
    def me(cls) -> Owner:
        return cls(pid=os.getpid(), create_time=process_start_time(os.getpid()))

    @classmethod
    def of(cls, pid: int) -> Owner:
        return cls(pid=pid, create_time=process_start_time(pid))

    def alive(self) -> bool:
        """True while the recorded process runs; a zombie (exited, not reaped) has ended."""
        if self.create_time is None:
            return False
        try:
            process = psutil.Process(self.pid)
            return (abs(process.create_time() - self.create_time) < 0.05
                    and process.status() != psutil.STATUS_ZOMBIE)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return False
