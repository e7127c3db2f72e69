"""A process identified for good: pid plus start time, so a recycled pid is never mistaken
for the process that owned a fault, a platform or a supervisor.

The start time is the kernel's (``/proc/<pid>/stat``: clock ticks since boot), not psutil's
``create_time``: that adds the boot time as the wall clock has it when asked, and a step of
the clock moves it. Seen here: a VM restored from a snapshot had its clock stepped a few
seconds into a run, the supervisor read the run that owned the platform as dead, and tore the
platform down under it. Where there is no procfs (the kind platform's ledger on macOS),
psutil's ``create_time`` is the best there is. A record an earlier gameday wrote (psutil's
``create_time``, a UNIX time, later than any time since boot) is still matched its own way,
so a platform stood up before an upgrade still goes down whole."""

from __future__ import annotations

import os
import time
from pathlib import Path

import psutil
from pydantic import BaseModel, ConfigDict

__all__ = ["START_SLACK_S", "Owner", "kernel_start_s", "process_start_time", "same_start",
           "started_since"]

START_SLACK_S = 0.05  # a tick is 10 ms: the same process reads the same start
_PROCFS = Path("/proc/self/stat").exists()


def kernel_start_s(pid: int) -> float | None:
    """When ``pid`` started, in seconds since boot, to the clock tick (``/proc/<pid>/stat``),
    or None (no such process, or no procfs)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22; two are before ")"
    except (OSError, IndexError, ValueError):
        return None


def process_start_time(pid: int) -> float | None:
    """When ``pid`` started (seconds since boot where there is a procfs, else a UNIX time),
    or None when there is no such process. Only ever compared with itself."""
    return kernel_start_s(pid) if _PROCFS else _create_time(pid)


def same_start(pid: int, recorded: float | None) -> bool:
    """Whether ``pid`` is still the process that started at ``recorded``."""
    if recorded is None:
        return False
    started = _start_as_recorded(pid, recorded)
    return started is not None and abs(started - recorded) < START_SLACK_S


def started_since(pid: int, not_before: float) -> bool:
    """Whether ``pid`` started no earlier than ``not_before`` (a process group's leader's
    recorded start: a reused group id's older processes are someone else's)."""
    started = _start_as_recorded(pid, not_before)
    return started is not None and started >= not_before - START_SLACK_S


def _start_as_recorded(pid: int, recorded: float) -> float | None:
    if _PROCFS and recorded > time.clock_gettime(time.CLOCK_BOOTTIME):
        return _create_time(pid)  # an earlier gameday's record
    return process_start_time(pid)


def _create_time(pid: int) -> float | None:
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


class Owner(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pid: int
    create_time: float | None  # process_start_time's: seconds since boot on Linux

    @classmethod
    def me(cls) -> Owner:
        return cls(pid=os.getpid(), create_time=process_start_time(os.getpid()))

    @classmethod
    def of(cls, pid: int) -> Owner:
        return cls(pid=pid, create_time=process_start_time(pid))

    def alive(self) -> bool:
        """True while the recorded process runs; a zombie (exited, not reaped) has ended."""
        if not same_start(self.pid, self.create_time):
            return False
        try:
            return psutil.Process(self.pid).status() != psutil.STATUS_ZOMBIE
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return False
