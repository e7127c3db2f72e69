"""The parent's handle on a load generator child process (no Locust, no gevent here).

The orchestrator runs Chaos Toolkit in threads and must never import Locust, so the generator
runs as ``python -m gameday.load`` (a ``LoadPlan``), ``python -m gameday.load.master`` (a
``LoadPlan`` with ``workers > 1``: a Locust master and its workers on this host) or
``python -m gameday.load.writer`` (a ``WritePlan``, the RPO writer) and is driven through
``LoadProcess``; all speak the same protocol (``load_start``/``load_end`` events, SIGTERM,
parent death, exit 2 for a bad plan).
The child runs in a process group of its own: a terminal's Ctrl-C (SIGINT to the foreground
group) reaches the harness only, which stops the child itself once it has decided how the run
ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import gameday
from gameday.errors import LoadError
from gameday.load.plan import LoadPlan
from gameday.records import EventKind, read_events

if TYPE_CHECKING:  # not at run time: ``python -m gameday.load.writer`` must import it first
    from gameday.load.writer import WritePlan

__all__ = ["LoadEnd", "LoadProcess"]

_POLL_S = 0.05
_WATCH_S = 0.1
_LOG_TAIL_CHARS = 2000


@dataclass(frozen=True, slots=True)
class LoadEnd:
    """How a generator ended: its exit code and its ``load_end`` event (None if it logged
    none: it crashed or was killed)."""

    code: int
    detail: dict[str, Any] | None

    @property
    def stopped_by(self) -> str:
        """What stopped it before the end of its schedule ("" when it ran the whole plan)."""
        return str((self.detail or {}).get("stopped_by") or "")

    @property
    def workers_lost(self) -> list[int]:
        """Workers of a several-process generator that were lost before the end."""
        return [int(worker) for worker in (self.detail or {}).get("workers_lost") or []]

    @property
    def completed(self) -> bool:
        return (self.code == 0 and self.detail is not None and not self.stopped_by
                and not self.workers_lost)

    def describe(self) -> str:
        if self.completed:
            return "ran its whole schedule"
        if self.workers_lost:
            return (f"lost worker(s) {self.workers_lost} before the end of its schedule: "
                    + "; ".join((self.detail or {}).get("worker_problems") or []))
        if self.code == 0 and self.stopped_by:
            return f"was stopped by {self.stopped_by} before the end of its schedule"
        return (f"exited with code {self.code} before the end of its schedule"
                + ("" if self.detail else " (no load_end logged)"))


class LoadProcess:
    """A running generator child. Use as a context manager: the child is always stopped.

    The child stops by itself at the end of its plan, on ``stop()`` (SIGTERM), and when this
    process dies (it watches its parent pid, which works whichever thread started it).
    """

    def __init__(self, popen: subprocess.Popen[bytes], plan: LoadPlan | WritePlan,
                 run_dir: Path, name: str, log_path: Path) -> None:
        self._popen = popen
        self.plan = plan
        self.run_dir = run_dir
        self.name = name
        self.log_path = log_path
        self._stop_asked = False

    @classmethod
    def start(cls, plan: LoadPlan | WritePlan, run_dir: Path,
              name: str = "gen0", *, master_port: int = 0) -> LoadProcess:
        """Write the plan into the run folder and start the child on it (the pacer for a
        ``LoadPlan``, its master for one with ``workers > 1``, the writer for a
        ``WritePlan``). ``master_port``: where a master's workers join (0: any free port)."""
        run_dir.mkdir(parents=True, exist_ok=True)
        plan_path = run_dir / f"load-plan-{name}.json"
        plan_path.write_text(plan.to_json())
        log_path = run_dir / f"load-{name}.log"
        command = [sys.executable, "-m", _module_for(plan), "--plan", str(plan_path),
                   "--run-dir", str(run_dir), "--name", name, "--parent-pid", str(os.getpid())]
        if isinstance(plan, LoadPlan) and plan.workers > 1:
            command += ["--master-port", str(master_port)]
        with log_path.open("ab") as log:
            popen = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, env=_child_env(),
                                     process_group=0)
        return cls(popen, plan, run_dir, name, log_path)

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def alive(self) -> bool:
        return self._popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._popen.poll()

    def wait_started(self, timeout_s: float) -> float:
        """Block until the child logged ``load_start``; return its t0 (UNIX epoch seconds)."""
        deadline_s = time.monotonic() + timeout_s
        while True:
            t0_s = self._logged_t0()
            if t0_s is not None:
                return t0_s
            if not self.alive:
                raise LoadError(f"load generator {self.name} exited with code "
                                f"{self.returncode} before it started: {self.log_tail()}")
            if time.monotonic() >= deadline_s:
                raise LoadError(f"load generator {self.name} did not start within "
                                f"{timeout_s:g} s: {self.log_tail()}")
            time.sleep(_POLL_S)

    def _logged_t0(self) -> float | None:
        detail = self._logged(EventKind.LOAD_START)
        return None if detail is None else float(detail["t0_s"])

    def _logged(self, kind: str) -> dict[str, Any] | None:
        for event in read_events(self.run_dir):
            if event.kind == kind and event.detail.get("pid") == self.pid:
                return event.detail
        return None

    def ended(self) -> LoadEnd | None:
        """How the child ended; None while it runs."""
        code = self._popen.poll()
        return None if code is None else LoadEnd(code, self._logged(EventKind.LOAD_END))

    def watch(self, on_early_end: Callable[[LoadEnd], None]) -> None:
        """Call ``on_early_end`` (from a thread) if the child ends other than by running its
        whole schedule, unless ``stop``/``request_stop`` asked it to."""
        def _watch() -> None:
            while (end := self.ended()) is None:
                time.sleep(_WATCH_S)
            if not self._stop_asked and not end.completed:
                on_early_end(end)

        threading.Thread(target=_watch, name=f"watch-{self.name}", daemon=True).start()

    def request_stop(self) -> None:
        """SIGTERM without waiting (safe in a signal handler): the child drains and logs
        ``load_end``; ``stop`` or ``wait`` collects it."""
        self._stop_asked = True
        if self._popen.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._popen.pid, signal.SIGTERM)

    def wait(self, timeout_s: float) -> int:
        """Wait for the child to exit by itself; its exit code. LoadError on timeout."""
        try:
            return self._popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise LoadError(f"load generator {self.name} still running after "
                            f"{timeout_s:g} s") from None

    def wait_end(self, timeout_s: float) -> LoadEnd:
        """Wait for the child to exit by itself; how it ended. LoadError on timeout."""
        code = self.wait(timeout_s)
        return LoadEnd(code, self._logged(EventKind.LOAD_END))

    def stop(self, grace_s: float | None = None) -> int:
        """SIGTERM (drain in-flight, flush, log load_end), then SIGKILL after ``grace_s``."""
        self._stop_asked = True
        if self.alive:
            self._popen.send_signal(signal.SIGTERM)
        if grace_s is None:  # a master also waits for its workers' totals
            grace_s = 2 * self.plan.timeout_s + 3.0 + (6.0 if _workers(self.plan) > 1 else 0.0)
        try:
            return self._popen.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self._popen.kill()
            return self._popen.wait()

    def log_tail(self) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return text[-_LOG_TAIL_CHARS:].strip() or "(empty log)"

    def __enter__(self) -> LoadProcess:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()


def _workers(plan: LoadPlan | WritePlan) -> int:
    return plan.workers if isinstance(plan, LoadPlan) else 1


def _module_for(plan: LoadPlan | WritePlan) -> str:
    if not isinstance(plan, LoadPlan):
        return "gameday.load.writer"
    return "gameday.load.master" if plan.workers > 1 else "gameday.load"


def _child_env() -> dict[str, str]:
    """The child imports the same ``gameday`` as this process, installed or not."""
    env = dict(os.environ)
    source_root = str(Path(gameday.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source_root, env.get("PYTHONPATH")) if p)
    return env
