"""Ctrl-C in the middle of a run on a platform someone else stood up: every fault in force is
rolled back (toxic removed, region restored) and the platform stays up for the next run."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.platforms.local.platform import LocalPlatform
from tests.runs.run_helpers import (
    RunFolder,
    all_members_healthy,
    finish,
    interrupt,
    start_gameday,
    wait_for_event,
    write_suite,
)


def _fault_in_force(local_platform: LocalPlatform, experiment: str) -> bool:
    if experiment == "edge-latency":
        return bool(local_platform.link_faults())
    return any(m.state == "held-down" for m in local_platform.members(region="region-a"))


@pytest.mark.parametrize("experiment", ["edge-latency", "region-outage"])
def test_sigint_rolls_back_the_fault_and_keeps_the_platform(local_platform: LocalPlatform,
                                                            tmp_path: Path,
                                                            experiment: str) -> None:
    suite = write_suite(tmp_path / "suite.yaml", experiment=experiment, duration_s=60,
                        offset_s=2, fault_duration_s=30)
    runs = tmp_path / "runs"
    process = start_gameday("run", str(suite), "--runs-dir", str(runs),
                            home=local_platform.home.root)
    try:
        wait_for_event(runs, "fault_start", timeout_s=60)
        assert _fault_in_force(local_platform, experiment)
    finally:
        interrupt(process)
    code, output = finish(process, timeout_s=90)

    assert code == 2, output
    assert "Traceback" not in output
    assert not _fault_in_force(local_platform, experiment)
    assert local_platform.link_faults() == [] and local_platform.faults() == []
    assert local_platform.is_up()
    assert all_members_healthy(local_platform), local_platform.members()
    run = RunFolder.only_one_in(runs)
    assert run.summary["verdict"] == "error"
    assert (run.path / "report.html").is_file()
