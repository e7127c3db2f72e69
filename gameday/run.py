"""Orchestrates one suite run: stand-up, load, scenarios at their offsets, collection, verdict.

Every step writes into the run folder as it happens (``gameday.records``), so whatever stops the
run — an SLO breach, a harness failure, Ctrl-C — the folder holds what happened, every injected
fault is rolled back, the load is stopped and a (partial) report is written.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from gameday.config import Suite, resolve_experiment
from gameday.errors import GamedayError, PlatformError
from gameday.experiment import FaultWindowRecorder, load_experiment, run_scenario
from gameday.load.plan import LoadPlan
from gameday.load.process import LoadProcess
from gameday.platforms import open_platform
from gameday.platforms.base import Platform, Progress, StackRequest
from gameday.records import EventKind, EventLog

__all__ = ["HarnessCrash", "RunInterrupted", "RunOutcome", "new_run_dir", "run_suite"]

_LOAD_START_LEAD_S = 2.0


class RunInterrupted(GamedayError):
    """Ctrl-C or SIGTERM arrived during the run."""


class HarnessCrash(GamedayError):
    """A bug in the harness stopped the run; the run folder and clean-up still happened."""


@dataclass(frozen=True)
class RunOutcome:
    run_dir: Path
    owned_platform: bool


def new_run_dir(runs_root: Path, suite_name: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = runs_root / f"{stamp}-{suite_name}"
    suffix = 1
    while run_dir.exists():
        suffix += 1
        run_dir = runs_root / f"{stamp}-{suite_name}-{suffix}"
    run_dir.mkdir(parents=True)
    return run_dir


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    def _raise(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _sleep_until(t_s: float) -> None:
    while (left := t_s - time.time()) > 0:
        time.sleep(min(left, 0.2))


def _ensure_up(platform: Platform, suite: Suite, progress: Progress) -> bool:
    """Stand the platform up unless it already is; True when this run owns it."""
    if platform.is_up():
        progress("platform already up: using it (faults reset first)")
        for undone in platform.reset_faults():
            progress(f"  {undone}")
        return False
    progress(f"standing up the {platform.name} platform")
    platform.up(StackRequest(stacks=tuple(suite.stacks), replicas=suite.replicas,
                             edge_health_check=suite.edge.health_check), progress=progress)
    return True


def _run_scenarios(suite: Suite, platform: Platform, events: EventLog, run_dir: Path,
                   warmup_end_s: float, progress: Progress) -> None:
    home = getattr(getattr(platform, "home", None), "root", None)
    for scenario in suite.scenarios:
        experiment = load_experiment(resolve_experiment(suite, scenario))
        start_s = warmup_end_s + scenario.offset_s
        progress(f"scenario {scenario.name}: starts in {max(0.0, start_s - time.time()):.1f} s")
        _sleep_until(start_s)
        events.emit(EventKind.SCENARIO_START, scenario.name, experiment=str(scenario.experiment),
                    target_region=scenario.target_region)
        recorder = FaultWindowRecorder(events, scenario.name, scenario.target_region)
        configuration = {"gameday_region": scenario.target_region,
                         "gameday_platform": platform.name, **scenario.configuration}
        if home is not None:
            configuration["gameday_home"] = str(home)
        journal = run_scenario(experiment, recorder=recorder, configuration=configuration,
                               journal_path=run_dir / f"journal-{scenario.name}.json")
        events.emit(EventKind.SCENARIO_END, scenario.name, status=journal.get("status"),
                    deviated=journal.get("deviated"))
        progress(f"scenario {scenario.name}: {journal.get('status')}"
                 f"{' (deviated)' if journal.get('deviated') else ''}")
        if journal.get("status") == "interrupted":
            raise RunInterrupted(f"scenario {scenario.name} was interrupted")
        if recorder.fault_failed or not recorder.fault_started:
            raise PlatformError(f"scenario {scenario.name}: the fault was not injected: "
                                f"{recorder.fault_failed or 'no method action succeeded'}")


def run_suite(suite: Suite, run_dir: Path, *, progress: Progress) -> RunOutcome:
    """Run ``suite`` into ``run_dir``. Raises GamedayError / RunInterrupted after cleaning up;
    the caller builds the report either way."""
    events = EventLog(run_dir / "events.jsonl")
    (run_dir / "suite.json").write_text(suite.model_dump_json(indent=2))
    events.emit(EventKind.RUN_START, suite=suite.name, platform=suite.platform)
    platform = open_platform(suite.platform)
    owned = False
    load: LoadProcess | None = None
    try:
        with _sigterm_as_interrupt():
            owned = _ensure_up(platform, suite, progress)
            plan = LoadPlan.from_profile(suite.load, platform.edge_url(suite.load.stack),
                                         start_at_s=time.time() + _LOAD_START_LEAD_S)
            load = LoadProcess.start(plan, run_dir)
            t0_s = load.wait_started(timeout_s=60)
            progress(f"load: {suite.load.rate_per_s:g} req/s {suite.load.arrival} for "
                     f"{suite.load.warmup_s:g}+{suite.load.duration_s:g} s")
            _run_scenarios(suite, platform, events, run_dir, t0_s + suite.load.warmup_s,
                           progress)
            code = load.wait(timeout_s=suite.load.warmup_s + suite.load.duration_s + 120)
            if code != 0:
                raise PlatformError(f"the load generator exited with {code}; see {run_dir}")
    except KeyboardInterrupt:
        events.emit(EventKind.INTERRUPTED, reason="Ctrl-C or SIGTERM")
        raise RunInterrupted("interrupted") from None
    except RunInterrupted:
        events.emit(EventKind.INTERRUPTED, reason="interrupted during a scenario")
        raise
    except GamedayError as exc:
        events.emit(EventKind.HARNESS_ERROR, message=str(exc))
        raise
    except Exception as exc:
        events.emit(EventKind.HARNESS_ERROR, message=f"internal error: {type(exc).__name__}: {exc}")
        raise HarnessCrash(f"internal error: {type(exc).__name__}: {exc}") from exc
    finally:
        _clean_up(platform, load, owned, events, progress)
    return RunOutcome(run_dir=run_dir, owned_platform=owned)


def _clean_up(platform: Platform, load: LoadProcess | None, owned: bool, events: EventLog,
              progress: Progress) -> None:
    """Stop the load, undo any fault still in force, tear down what this run stood up."""
    with _ignoring_interrupts():
        if load is not None:
            load.stop()
        try:
            if platform.is_up():
                for undone in platform.reset_faults():
                    progress(f"rollback: {undone}")
            if owned:
                progress("tearing the platform down")
                platform.down(progress=progress)
        except GamedayError as exc:
            events.emit(EventKind.HARNESS_ERROR, message=f"clean-up: {exc}")
            progress(f"clean-up problem: {exc}")
        events.emit(EventKind.RUN_END)


@contextmanager
def _ignoring_interrupts() -> Iterator[None]:
    """A second Ctrl-C must not abort the clean-up half way."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
