"""The local platform's files under its home, typed: what ``up`` asked for and what runs.

    topology.json   Topology (topology.py): process specs, edge routes, fault-proxy links
    state.json      State (here): the supervisor, each member's pid, process group and state,
                    the faults in force with their owners
    supervisor.sock the supervisor's control socket; logs/ one log per member

Every pid is stored with its process start time, so a sweep after a crash never signals a
recycled pid (or process group) that now belongs to someone else.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path
from typing import Any, Self, TypeVar

import psutil
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gameday.errors import PlatformError
from gameday.platforms.base import MemberState
from gameday.platforms.local.faults import FaultRecord
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.owner import Owner, started_since
from gameday.platforms.local.specs import ProcessSpec

__all__ = [
    "LocalHome",
    "MemberStatus",
    "State",
    "kill_group",
    "load_model",
    "member_family",
    "pid_file_processes",
    "read_json",
    "save_model",
    "signal_processes",
]


M = TypeVar("M", bound=BaseModel)


def save_model(path: Path, model: BaseModel) -> None:
    """Write atomically: a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(model.model_dump_json(indent=2))
    tmp.replace(path)


def load_model(path: Path, model: type[M]) -> M | None:
    """The file as ``model``; None when it does not exist. A file of another shape (an
    older gameday) is a PlatformError that says to sweep it."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        raise PlatformError(f"{path} is not a {model.__name__} this gameday can read "
                            f"({exc.error_count()} problems); remove it after checking "
                            "nothing of it still runs") from None


class MemberStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    spec: ProcessSpec
    pid: int | None = None
    pgid: int | None = None
    create_time: float | None = None  # owner.process_start_time's
    state: MemberState = MemberState.WAITING
    restarts: int = 0
    held: bool = False
    exit_code: int | None = None


class State(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str = "local"
    supervisor: Owner | None = None
    ready: bool = False
    error: str | None = None
    updated_s: float = Field(default_factory=time.time)
    members: list[MemberStatus] = Field(default_factory=list)
    faults: list[FaultRecord] = Field(default_factory=list)

    @classmethod
    def load(cls, home: LocalHome) -> Self | None:
        return load_model(home.state, cls)

    def save(self, home: LocalHome) -> None:
        self.updated_s = time.time()
        save_model(home.state, self)


def _group_members(pgid: int, not_before_s: float) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError):
            if os.getpgid(proc.pid) == pgid and started_since(proc.pid, not_before_s) \
                    and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
    return found


def pid_file_processes(spec: ProcessSpec) -> list[psutil.Process]:
    """The live processes a member's pid files name, with all their descendants; only those
    running as the member's user from the pid file's folder (a stale pid file's reused pid is
    someone else's: a postmaster runs in its data directory, which holds its pid file)."""
    found: list[psutil.Process] = []
    for path in spec.pid_files:
        with contextlib.suppress(OSError, ValueError, IndexError, psutil.Error):
            proc = psutil.Process(int(Path(path).read_text().split()[0]))
            if spec.user and proc.username() != spec.user:
                continue
            if Path(proc.cwd()).resolve() != Path(path).parent.resolve():
                continue
            found.extend([proc, *proc.children(recursive=True)])
    return found


def member_family(spec: ProcessSpec, pid: int | None) -> list[psutil.Process]:
    """Every process of a member outside its process group: the main process's descendants
    (a postmaster's backends each lead their own group) and the pid files' processes."""
    found: list[psutil.Process] = []
    if pid:
        with contextlib.suppress(psutil.Error):
            found.extend(psutil.Process(pid).children(recursive=True))
    found.extend(pid_file_processes(spec))
    return found


def signal_processes(processes: list[psutil.Process], sig: signal.Signals) -> None:
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            proc.send_signal(sig)


def kill_group(pgid: int | None, create_time: float | None, *, grace_s: float = 3.0) -> bool:
    """SIGCONT + SIGTERM every live process of a recorded process group (those started no
    earlier than its leader, so a reused group id is left alone), SIGKILL after ``grace_s``.
    Returns whether any was found."""
    if not pgid or create_time is None:
        return False
    family = _group_members(pgid, create_time)
    if not family:
        return False
    for sig in (signal.SIGCONT, signal.SIGTERM):
        for proc in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.send_signal(sig)
    _, alive = psutil.wait_procs(family, timeout=grace_s)
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(alive, timeout=grace_s)
    return True


def wait_for(predicate: object, timeout_s: float, interval_s: float = 0.05) -> bool:
    assert callable(predicate)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return bool(predicate())


def read_json(path: Path) -> Any:
    """A JSON file of the home as plain data (for tools and tests); None when absent."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
