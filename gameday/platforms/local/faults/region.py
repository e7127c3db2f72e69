"""Region hold: every member of a region SIGKILLed (or SIGSTOPped), held down until undone."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from typing import Any, Literal

import psutil

from gameday.errors import FaultError
from gameday.platforms.local.control import SupervisorUnreachable
from gameday.platforms.local.faults.base import FaultContext, LocalFault, MemberRef

__all__ = ["RegionHold", "check_held"]

_KILL_GRACE_S = 3.0


def _refused(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=0.3):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def _group_stopped(pgid: int) -> bool:
    states = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError):
            if os.getpgid(proc.pid) == pgid:
                states.append(proc.status())
    return bool(states) and all(s == psutil.STATUS_STOPPED for s in states)


def check_held(ctx: FaultContext, members: tuple[MemberRef, ...], *, freeze: bool, what: str,
               names: set[str]) -> dict[str, Any]:
    """Frozen: every process of each group is stopped; killed: no port accepts connections."""
    if freeze:
        groups = {m["spec"]["name"]: m["pgid"] for m in ctx.call("status")["members"]
                  if m["spec"]["name"] in names}
        running = [name for name, pgid in groups.items() if not pgid
                   or not _group_stopped(pgid)]
        if running:
            raise FaultError(f"freeze {what}: still running: {running}")
        return {"frozen": sorted(groups)}
    # the supervisor waits for each member's own process, not for what it forked (gunicorn's
    # worker shares the listening socket): on a busy host those die a moment later
    deadline_s = time.monotonic() + _KILL_GRACE_S
    while True:
        open_ports = [f"{m.name}:{port}" for m in members for port in m.ports.values()
                      if not _refused(m.address, port)]
        if not open_ports:
            return {"refusing": [m.name for m in members]}
        if time.monotonic() > deadline_s:
            raise FaultError(f"kill {what}: still accepting connections "
                             f"{_KILL_GRACE_S:g} s after SIGKILL: {open_ports}")
        time.sleep(0.05)


class RegionHold(LocalFault):
    kind: Literal["region_hold"] = "region_hold"
    region: str
    freeze: bool = False
    members: tuple[MemberRef, ...] = ()

    def target(self) -> str:
        return f"{self.region} ({'frozen' if self.freeze else 'killed'})"

    def inject(self, ctx: FaultContext) -> dict[str, Any]:
        stopped = ctx.call("stop_region", region=self.region, freeze=self.freeze)
        return {"stopped": [m["spec"]["name"] for m in stopped]}

    def verify(self, ctx: FaultContext) -> dict[str, Any]:
        return check_held(ctx, self.members, freeze=self.freeze, what=self.region,
                          names={m["spec"]["name"] for m in ctx.call("status")["members"]
                                 if m["spec"]["region"] == self.region})

    def undo(self, ctx: FaultContext) -> str:
        try:
            ctx.call("restore_region", region=self.region)
        except SupervisorUnreachable:
            return f"{self.region}: no supervisor (nothing runs to restore)"
        return f"restored {self.region}"
