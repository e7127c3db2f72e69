"""The parent's handle on a load generator child process (no Locust, no gevent here).

The orchestrator runs Chaos Toolkit in threads and must never import Locust, so the generator
runs as ``python -m gameday.load`` and is driven through ``LoadProcess``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import gameday
from gameday.errors import LoadError
from gameday.load.plan import LoadPlan
from gameday.records import EventKind, read_events

__all__ = ["LoadProcess"]

_POLL_S = 0.05
_LOG_TAIL_CHARS = 2000


class LoadProcess:
    """A running generator child. Use as a context manager: the child is always stopped.

    The child stops by itself at the end of its plan, on ``stop()`` (SIGTERM), and when this
    process dies (it watches its parent pid, which works whichever thread started it).
    """

    def __init__(self, popen: subprocess.Popen[bytes], plan: LoadPlan, run_dir: Path,
                 name: str, log_path: Path) -> None:
        self._popen = popen
        self.plan = plan
        self.run_dir = run_dir
        self.name = name
        self.log_path = log_path

    @classmethod
    def start(cls, plan: LoadPlan, run_dir: Path, name: str = "gen0") -> LoadProcess:
        """Write the plan into the run folder and start the child on it."""
        run_dir.mkdir(parents=True, exist_ok=True)
        plan_path = run_dir / f"load-plan-{name}.json"
        plan_path.write_text(plan.to_json())
        log_path = run_dir / f"load-{name}.log"
        command = [sys.executable, "-m", "gameday.load", "--plan", str(plan_path),
                   "--run-dir", str(run_dir), "--name", name, "--parent-pid", str(os.getpid())]
        with log_path.open("ab") as log:
            popen = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, env=_child_env())
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
        for event in read_events(self.run_dir):
            detail = event.detail
            if event.kind == EventKind.LOAD_START and detail.get("pid") == self.pid:
                return float(detail["t0_s"])
        return None

    def wait(self, timeout_s: float) -> int:
        """Wait for the child to exit by itself; its exit code. LoadError on timeout."""
        try:
            return self._popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise LoadError(f"load generator {self.name} still running after "
                            f"{timeout_s:g} s") from None

    def stop(self, grace_s: float | None = None) -> int:
        """SIGTERM (drain in-flight, flush, log load_end), then SIGKILL after ``grace_s``."""
        if self.alive:
            self._popen.send_signal(signal.SIGTERM)
        grace_s = 2 * self.plan.timeout_s + 3.0 if grace_s is None else grace_s
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


def _child_env() -> dict[str, str]:
    """The child imports the same ``gameday`` as this process, installed or not."""
    env = dict(os.environ)
    source_root = str(Path(gameday.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source_root, env.get("PYTHONPATH")) if p)
    return env
