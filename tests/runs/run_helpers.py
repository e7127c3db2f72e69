"""Helpers for tests that run ``gameday run`` as a user would: a suite file, the CLI, the folder."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import yaml

from gameday.platforms.local import nft
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.platform import LocalPlatform
from gameday.platforms.local.state import State
from gameday.records import Event, EventKind, RequestRecord, read_events, read_requests

REPO = Path(__file__).resolve().parents[2]
GAMEDAY = Path(sys.executable).parent / "gameday"


def write_suite(path: Path, *, experiment: str | Path = "region-outage", duration_s: float = 24,
                offset_s: float = 4, fault_duration_s: float = 6, rate_per_s: float = 50,
                warmup_s: float = 2, slos: list[dict[str, Any]] | None = None) -> Path:
    """A short smoke-like suite; the experiment path is absolute, so the suite can live anywhere.

    ``experiment``: the name of one in experiments/, or the path of an experiment file."""
    suite = yaml.safe_load((REPO / "suites" / "smoke.yaml").read_text())
    if isinstance(experiment, Path):
        name, experiment_path = experiment.stem, experiment
    else:
        name, experiment_path = experiment, REPO / "experiments" / f"{experiment}.json"
    suite["name"] = f"test-{name}"
    # a 50 ms lag bound: these runs test the harness and the platform, and on a loaded 2-core CI
    # machine 1 % of sends beyond the default 10 ms made a run inconclusive (seen once)
    suite["load"].update(duration_s=duration_s, warmup_s=warmup_s, rate_per_s=rate_per_s,
                         lag_bound_s=0.05)
    suite["scenarios"] = [{
        "name": name, "experiment": str(experiment_path),
        "offset_s": offset_s, "target_region": "region-a",
        "configuration": {"fault_duration_s": fault_duration_s},
    }]
    if slos is not None:
        suite["slos"] = slos
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return path


def gameday_argv(*args: str) -> list[str]:
    return [str(GAMEDAY), *args]


def run_gameday(*args: str, home: Path, timeout_s: float = 240,
                python_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python_path``: a folder put first on PYTHONPATH (a provider module of the test's)."""
    env = {**os.environ, "GAMEDAY_HOME": str(home)}
    if python_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(python_path),
                                                        env.get("PYTHONPATH")) if p)
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


def wait_for_event(runs_dir: Path, kind: str, timeout_s: float,
                   interval_s: float = 0.2) -> Event:
    """Polls the run folder that ``gameday run`` is writing until ``kind`` is logged."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        folders = [p for p in runs_dir.iterdir() if p.is_dir()] if runs_dir.exists() else []
        for folder in folders:
            for event in read_events(folder):
                if event.kind == kind:
                    return event
        time.sleep(interval_s)
    raise AssertionError(f"no {kind} event within {timeout_s} s in {runs_dir}")


def interrupt(process: subprocess.Popen[str]) -> None:
    """Ctrl-C as a terminal sends it: SIGINT to the whole foreground process group."""
    os.killpg(process.pid, signal.SIGINT)


def send(process: subprocess.Popen[str], how: str) -> float:
    """``how``: ``process`` (SIGINT to gameday alone), ``group`` (Ctrl-C), ``SIGTERM``,
    ``SIGHUP`` or ``SIGKILL`` (to gameday alone). Returns when it was sent (time.monotonic())."""
    sent_s = time.monotonic()
    if how == "group":
        with contextlib.suppress(ProcessLookupError):  # it ended first: nothing to stop
            os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal({"process": signal.SIGINT, "process-sigign": signal.SIGINT,
                             "SIGTERM": signal.SIGTERM, "SIGHUP": signal.SIGHUP,
                             "SIGKILL": signal.SIGKILL}[how])
    return sent_s


def start_gameday(*args: str, home: Path, sigint_ignored: bool = False) -> subprocess.Popen[str]:
    """``gameday`` in its own process group, as a shell runs a foreground job.

    ``sigint_ignored``: started with SIGINT ignored, as a non-interactive shell starts a
    background job (``gameday run ... &`` in a CI script); Python then installs no handler."""
    env = {**os.environ, "GAMEDAY_HOME": str(home)}

    def ignore_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    return subprocess.Popen(gameday_argv(*args), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env, cwd=REPO,
                            start_new_session=True,
                            preexec_fn=ignore_sigint if sigint_ignored else None)


def finish(process: subprocess.Popen[str], timeout_s: float) -> tuple[int, str]:
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        raise AssertionError(f"gameday did not stop within {timeout_s} s:\n{output}") from None
    return process.returncode, output


def stopped_within(process: subprocess.Popen[str], sent_s: float,
                   timeout_s: float = 60) -> tuple[int, str, float]:
    """Exit code, output and seconds from ``sent_s`` (monotonic) to the process's exit."""
    code, output = finish(process, timeout_s)
    return code, output, time.monotonic() - sent_s


def load_generators_alive(run_dir: Path) -> list[int]:
    """Pids of the run's load generators that still run."""
    pids = {e.detail["pid"] for e in read_events(run_dir) if e.kind == EventKind.LOAD_START}
    return [pid for pid in pids if _running(pid)]


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def toxics(platform: LocalPlatform) -> list[str]:
    """'<proxy>: <toxic>' for every toxic (and every disabled link) the fault proxy holds."""
    proxies = httpx.get(f"{platform.proxy_api_url()}/proxies", timeout=5).json()
    found = [f"{name}: disabled" for name, proxy in proxies.items()
             if not proxy.get("enabled", True)]
    return found + [f"{name}: {toxic.get('name')}" for name, proxy in proxies.items()
                    for toxic in proxy.get("toxics", [])]


def left_on_a_shared_platform(platform: LocalPlatform, run_dir: Path) -> list[str]:
    """What a run on someone else's platform must not leave: faults, toxics, nft tables, its
    load generator; every member must be healthy again."""
    left = [f"fault {f}" for f in platform.faults_in_force()]
    left += [f"toxic {t}" for t in toxics(platform)]
    left += [f"nft table {t}" for t in nft.list_tables(prefix="gameday")]
    left += [f"load generator pid {pid}" for pid in load_generators_alive(run_dir)]
    if not all_members_healthy(platform):
        left += [f"member {m.name} {m.state}" for m in platform.members()
                 if m.state != "healthy"]
    return left


def left_of_an_owned_platform(home: LocalHome, state: State | None, run_dir: Path,
                              timeout_s: float = 30) -> list[str]:
    """What a run that stood the platform up must not leave: any process of it (waiting for
    the supervisor to follow its dead owner, at most ``timeout_s``), nft tables, its files."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = _owned_leftovers(home, state, run_dir)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def _owned_leftovers(home: LocalHome, state: State | None, run_dir: Path) -> list[str]:
    latest = State.load(home) or state
    left = [f"nft table {t}" for t in nft.list_tables(prefix="gameday")]
    left += [f"load generator pid {pid}" for pid in load_generators_alive(run_dir)]
    if latest is not None:
        if latest.supervisor is not None and latest.supervisor.alive():
            left.append(f"supervisor pid {latest.supervisor.pid}")
        pgids = {m.pgid for m in latest.members if m.pgid}
        left += [f"member process {p.pid} {p.info['name']}" for p in
                 psutil.process_iter(["name"]) if _in_groups(p, pgids)]
    left += [f"file {path}" for path in (home.state, home.socket) if path.exists()]
    return left


def _in_groups(process: psutil.Process, pgids: set[int | None]) -> bool:
    try:
        return os.getpgid(process.pid) in pgids and process.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, ProcessLookupError):
        return False


def all_members_healthy(platform: LocalPlatform, timeout_s: float = 10) -> bool:
    """The supervisor's view catches up within a health-check round or two (0.5 s apart)."""
    deadline = time.monotonic() + timeout_s
    while {str(m.state) for m in platform.members()} != {"healthy"}:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True
