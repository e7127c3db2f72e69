"""Helpers for tests that run ``gameday run`` as a user would: a suite file, the CLI, the folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gameday.platforms.local.platform import LocalPlatform
from gameday.records import Event, RequestRecord, read_events, read_requests

REPO = Path(__file__).resolve().parents[2]
GAMEDAY = Path(sys.executable).parent / "gameday"


def write_suite(path: Path, *, experiment: str = "region-outage", duration_s: float = 24,
                offset_s: float = 4, fault_duration_s: float = 6, rate_per_s: float = 50,
                slos: list[dict[str, Any]] | None = None) -> Path:
    """A short smoke-like suite; the experiment path is absolute, so the suite can live anywhere."""
    suite = yaml.safe_load((REPO / "suites" / "smoke.yaml").read_text())
    suite["name"] = f"test-{experiment}"
    suite["load"].update(duration_s=duration_s, warmup_s=2, rate_per_s=rate_per_s)
    suite["scenarios"] = [{
        "name": experiment, "experiment": str(REPO / "experiments" / f"{experiment}.json"),
        "offset_s": offset_s, "target_region": "region-a",
        "configuration": {"fault_duration_s": fault_duration_s},
    }]
    if slos is not None:
        suite["slos"] = slos
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return path


def gameday_argv(*args: str) -> list[str]:
    return [str(GAMEDAY), *args]


def run_gameday(*args: str, home: Path, timeout_s: float = 240) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GAMEDAY_HOME": str(home)}
    return subprocess.run(gameday_argv(*args), capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=timeout_s)


@dataclass
class RunFolder:
    path: Path

    @classmethod
    def only_one_in(cls, runs_dir: Path) -> RunFolder:
        (folder,) = [p for p in runs_dir.iterdir() if p.is_dir()]
        return cls(folder)

    @property
    def summary(self) -> dict[str, Any]:
        return json.loads((self.path / "summary.json").read_text())

    @property
    def events(self) -> list[Event]:
        return read_events(self.path)

    @property
    def requests(self) -> list[RequestRecord]:
        return read_requests(self.path)

    def event(self, kind: str) -> Event:
        (found,) = [e for e in self.events if e.kind == kind]
        return found


def wait_for_event(runs_dir: Path, kind: str, timeout_s: float) -> Event:
    """Polls the run folder that ``gameday run`` is writing until ``kind`` is logged."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        folders = [p for p in runs_dir.iterdir() if p.is_dir()] if runs_dir.exists() else []
        for folder in folders:
            for event in read_events(folder):
                if event.kind == kind:
                    return event
        time.sleep(0.2)
    raise AssertionError(f"no {kind} event within {timeout_s} s in {runs_dir}")


def interrupt(process: subprocess.Popen[str]) -> None:
    """Ctrl-C as a terminal sends it: SIGINT to the whole foreground process group."""
    os.killpg(process.pid, signal.SIGINT)


def start_gameday(*args: str, home: Path) -> subprocess.Popen[str]:
    """``gameday`` in its own process group, as a shell runs a foreground job."""
    env = {**os.environ, "GAMEDAY_HOME": str(home)}
    return subprocess.Popen(gameday_argv(*args), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env, cwd=REPO,
                            start_new_session=True)


def finish(process: subprocess.Popen[str], timeout_s: float) -> tuple[int, str]:
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        raise AssertionError(f"gameday did not stop within {timeout_s} s:\n{output}") from None
    return process.returncode, output


def all_members_healthy(platform: LocalPlatform, timeout_s: float = 10) -> bool:
    """The supervisor's view catches up within a health-check round or two (0.5 s apart)."""
    deadline = time.monotonic() + timeout_s
    while {m.state for m in platform.members()} != {"healthy"}:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True
