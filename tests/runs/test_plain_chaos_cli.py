"""The experiments are plain Chaos Toolkit: valid under ``chaos validate`` and runnable with
``chaos run`` against a platform stood up by ``gameday up``, with no gameday code in between."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gameday.platforms.local.platform import LocalPlatform
from tests.runs.run_helpers import all_members_healthy, toxics

REPO = Path(__file__).resolve().parents[2]
CHAOS = Path(sys.executable).parent / "chaos"
EXPERIMENTS = sorted((REPO / "experiments").glob("*.json"))
# the database and rag experiments run against the rag stack
# (tests/runs/test_plain_chaos_database.py, tests/runs/test_rag_runs.py), the triton ones
# against the triton stack (the faults: tests/platforms/local/test_repository_faults.py), the
# feature-store ones against a tabular stack with its store
# (tests/runs/test_featurestore_platform.py)
OTHER_PLATFORMS = {"database", "rag", "triton", "feature-store"}
SERVED = [p for p in EXPERIMENTS
          if not OTHER_PLATFORMS & set(json.loads(p.read_text())["tags"])]


def chaos_cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
           timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CHAOS), "--no-version-check", *args], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, **(env or {})},
                          timeout=timeout_s)


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=[p.stem for p in EXPERIMENTS])
def test_every_experiment_passes_chaos_validate(experiment: Path, tmp_path: Path) -> None:
    result = chaos_cli("validate", str(experiment), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "experiment looks valid" in (result.stdout + result.stderr).lower()



@pytest.mark.parametrize("experiment", SERVED, ids=[p.stem for p in SERVED])
def test_plain_chaos_run_against_a_stood_up_platform(local_platform: LocalPlatform, tmp_path: Path,
                                                     experiment: Path) -> None:
    plain_chaos_run(local_platform, experiment, tmp_path)


def plain_chaos_run(local_platform: LocalPlatform, experiment: Path, tmp_path: Path) -> None:
    """``chaos run`` of ``experiment`` completes, not deviated, every action and rollback
    succeeded, and leaves nothing injected and every member healthy."""
    journal = tmp_path / "journal.json"
    # no --rollback-strategy: each experiment's runtime block says "always"
    result = chaos_cli("run", "--journal-path", str(journal),
                    str(experiment), cwd=tmp_path,
                    env={"GAMEDAY_HOME": str(local_platform.home.root),
                         "GAMEDAY_FAULT_DURATION_S": "2"})
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(journal.read_text())
    assert document["status"] == "completed" and document["deviated"] is False
    actions = [run for run in document["run"] if run["activity"]["type"] == "action"]
    assert actions and all(run["status"] == "succeeded" for run in actions)
    assert all(run["status"] == "succeeded" for run in document["rollbacks"])
    assert local_platform.faults_in_force() == [] and toxics(local_platform) == []
    assert all_members_healthy(local_platform), local_platform.members()
