"""The local platform's files under its home (default ``.gameday/``).

    topology.json   what ``up`` asked for: process specs, edge URLs, fault-proxy links
    state.json      what the supervisor has running: pids, states, faults in force
    supervisor.sock the supervisor's control socket; logs/ one log per process

Every pid is stored with its process start time, so a sweep after a crash never kills a
recycled pid that now belongs to someone else.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

__all__ = [
    "LocalHome",
    "kill_recorded",
    "read_json",
    "write_json_atomic",
]


@dataclass(frozen=True)
class LocalHome:
    root: Path

    @property
    def topology(self) -> Path:
        return self.root / "topology.json"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def socket(self) -> Path:
        return self.root / "supervisor.sock"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def supervisor_log(self) -> Path:
        return self.logs / "supervisor.log"

    @classmethod
    def default(cls) -> LocalHome:
        return cls(Path(os.environ.get("GAMEDAY_HOME", ".gameday")).resolve())


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    tmp.replace(path)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def process_start_time(pid: int) -> float | None:
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def is_same_process(pid: int | None, create_time: float | None) -> bool:
    """True while the recorded process runs; a zombie (exited, not yet reaped) has ended."""
    if not pid or create_time is None:
        return False
    try:
        process = psutil.Process(pid)
        return (abs(process.create_time() - create_time) < 0.05
                and process.status() != psutil.STATUS_ZOMBIE)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def kill_recorded(pid: int | None, create_time: float | None, *, grace_s: float = 3.0) -> bool:
    """SIGCONT then SIGTERM a recorded process (and its children), SIGKILL after ``grace_s``.

    Returns whether a live process was found.
    """
    if not is_same_process(pid, create_time):
        return False
    assert pid is not None
    try:
        proc = psutil.Process(pid)
        family = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return False
    for member in family:
        for sig in (signal.SIGCONT, signal.SIGTERM):
            try:
                member.send_signal(sig)
            except psutil.NoSuchProcess:
                break
    _, alive = psutil.wait_procs(family, timeout=grace_s)
    for member in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.kill()
    psutil.wait_procs(alive, timeout=grace_s)
    return True


def wait_for(predicate: Any, timeout_s: float, interval_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return bool(predicate())
