"""The sample run folder of ``render_sample.py``, for the report tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest


def _load_render_sample() -> ModuleType:
    # loaded by path: this directory is not a package (a tests/reports package would shadow
    # the real ``reports``)
    path = Path(__file__).with_name("render_sample.py")
    spec = importlib.util.spec_from_file_location("gameday_tests_render_sample", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


render_sample = _load_render_sample()


@pytest.fixture(scope="session")
def sample() -> ModuleType:
    return render_sample


@pytest.fixture(scope="module")
def built_sample(tmp_path_factory):
    """The default sample run (outage 10-14 s, failover to region-b), reports built once."""
    from reports import build_reports

    run_dir = render_sample.write_sample_run(tmp_path_factory.mktemp("run") / "sample-run")
    return run_dir, build_reports(run_dir)
