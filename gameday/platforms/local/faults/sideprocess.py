"""A fault's side process (a load burst, a GPU memory hog): started detached, named by a pidfile
under the platform's home, stopped only once the pid is proven to be that process.

The pidfile (``<home>/sideload/<name>.pid``, JSON: pid, start time, module) is written by the
starter right after the spawn; the process gets the pidfile's path on its command line, so a
recycled pid (another start time, or a command line without that path) is never signalled.
Each side process also keeps its own deadline, so it ends even if nobody is left to undo it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import psutil
from pydantic import Field

from gameday.errors import FaultError
from gameday.platforms.local.faults.base import FaultContext, LocalFault
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.owner import process_start_time, same_start

__all__ = ["SideLoadFault", "SideProcess"]

_STOP_WAIT_S = 5.0


@dataclass(frozen=True)
class SideProcess:
    """One side process: ``module`` run as ``python -m module --pidfile P --status S ...``."""

    home: LocalHome
    name: str  # unique to the fault that owns it (its kind and token)
    module: str

    @property
    def folder(self) -> Path:
        return self.home.root / "sideload"

    @property
    def pidfile(self) -> Path:
        return self.folder / f"{self.name}.pid"

    @property
    def status_file(self) -> Path:
        return self.folder / f"{self.name}.status.json"

    @property
    def input_file(self) -> Path:
        """What the process reads that is too long for a command line (``write_input``)."""
        return self.folder / f"{self.name}.input.json"

    @property
    def log(self) -> Path:
        return self.folder / f"{self.name}.log"

    def write_input(self, document: object) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.input_file.write_text(json.dumps(document))
        return self.input_file

    def start(self, arguments: list[str]) -> int:
        """Spawn it in its own session (a Ctrl-C to the harness is the undo's to handle);
        its pid, recorded in the pidfile."""
        if self.process() is not None:
            raise FaultError(f"{self.name} already runs (pidfile {self.pidfile})")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.status_file.unlink(missing_ok=True)
        argv = [sys.executable, "-m", self.module, "--pidfile", str(self.pidfile),
                "--status", str(self.status_file), *arguments]
        with self.log.open("ab") as log:
            spawned = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        # None: gone already; its log says why, and no pid is ever signalled
        record = {"pid": spawned.pid, "create_time": process_start_time(spawned.pid),
                  "module": self.module}
        tmp = self.pidfile.with_name(f".{self.pidfile.name}.tmp")
        tmp.write_text(json.dumps(record))
        tmp.replace(self.pidfile)
        return spawned.pid

    def process(self) -> psutil.Process | None:
        """The running process the pidfile names, or None (no pidfile, ended, or the pid now
        belongs to another process)."""
        try:
            record = json.loads(self.pidfile.read_text())
            process = psutil.Process(int(record["pid"]))
            same = (same_start(process.pid, record["create_time"])
                    and self.module in process.cmdline()
                    and str(self.pidfile) in process.cmdline()
                    and process.status() != psutil.STATUS_ZOMBIE)
        except (OSError, ValueError, KeyError, TypeError, psutil.Error):
            return None
        return process if same else None

    def status(self) -> dict[str, Any] | None:
        """What the process last wrote about itself; None before its first word."""
        try:
            document: dict[str, Any] = json.loads(self.status_file.read_text())
        except (OSError, ValueError):
            return None
        return document

    def stop(self) -> str:
        """SIGTERM, SIGKILL after a grace, the files removed: safe when it never started or
        ended by itself."""
        process = self.process()
        if process is None:
            recorded = self._recorded_pid()
            if recorded is not None:
                _reap(recorded)
            self._forget()
            return f"{self.name} {'ended by itself' if recorded else 'was not running'}"
        pid = process.pid
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(_STOP_WAIT_S)  # reaps it when it is our child
        except psutil.TimeoutExpired:
            process.kill()
            process.wait(_STOP_WAIT_S)
        except psutil.NoSuchProcess:
            pass
        _reap(pid)
        self._forget()
        return f"{self.name} stopped (pid {pid})"

    def wait_status(self, ready: str, timeout_s: float) -> dict[str, Any]:
        """Wait until the process says ``state`` is ``ready``; FaultError when it says
        ``failed``, exits first or stays silent."""
        deadline_s = time.monotonic() + timeout_s
        while time.monotonic() < deadline_s:
            status = self.status() or {}
            if status.get("state") == ready:
                return status
            if status.get("state") == "failed":
                raise FaultError(f"{self.name}: {status.get('error', 'failed')}")
            if self.process() is None:
                raise FaultError(f"{self.name} exited before it was {ready}: "
                                 f"{self.log_tail()}")
            time.sleep(0.1)
        raise FaultError(f"{self.name} not {ready} after {timeout_s:g} s: {self.log_tail()}")

    def log_tail(self, chars: int = 600) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:].strip() or "(empty log)"
        except OSError:
            return "(no log)"

    def _recorded_pid(self) -> int | None:
        try:
            return int(json.loads(self.pidfile.read_text())["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _forget(self) -> None:
        for path in (self.pidfile, self.status_file, self.input_file):
            path.unlink(missing_ok=True)


def _reap(pid: int) -> None:
    """Collect the exit status when the process was our child, so it leaves no zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


class SideLoadFault(LocalFault):
    """What the faults done by a side process share: where (region, stack), a token naming
    their side process for good (kept in the ledger with the fault), its own deadline."""

    region: str
    stack: str
    token: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    max_duration_s: float = Field(300.0, gt=0, le=24 * 3600)
    side_module: ClassVar[str]  # the side process: python -m side_module

    def side(self, ctx: FaultContext) -> SideProcess:
        return SideProcess(home=ctx.home, name=f"{self.kind}-{self.token}", module=self.side_module)
