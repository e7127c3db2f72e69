"""For the plain-Locust user classes in ``loadtests/``: record every request into a run folder
when ``GAMEDAY_RUN_DIR`` is set. Imports Locust: only locustfiles import this module."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from locust import events
from locust.env import Environment
from locust.runners import MasterRunner

from gameday.load.recorder import RequestRecorder
from gameday.records import RecordWriter

__all__ = ["RUN_DIR_ENV", "record_into_run_dir"]

RUN_DIR_ENV = "GAMEDAY_RUN_DIR"


def record_into_run_dir() -> None:
    """Each worker (or a standalone locust) appends its own ``requests-locust-<pid>.csv``."""
    events.init.add_listener(_record_when_asked)  # type: ignore[no-untyped-call]


def _record_when_asked(environment: Environment, **_: Any) -> None:
    run_dir = os.environ.get(RUN_DIR_ENV)
    if not run_dir or isinstance(environment.runner, MasterRunner):
        return  # a master sends nothing; each worker writes its own file
    writer = RecordWriter(Path(run_dir) / f"requests-locust-{os.getpid()}.csv")
    recorder = RequestRecorder(writer)
    environment.events.request.add_listener(recorder.on_request)  # type: ignore[no-untyped-call]
    environment.events.quitting.add_listener(  # type: ignore[no-untyped-call]
        lambda **_: recorder.close())
