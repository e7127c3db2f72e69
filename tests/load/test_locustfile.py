"""``loadtests/tabular.py`` under the plain Locust CLI, recording into a run folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gameday.records import read_requests

if TYPE_CHECKING:
    from conftest import FakeTabular

REPO = Path(__file__).resolve().parents[2]


def test_plain_locust_cli_runs_the_tabular_user_and_records_requests(
        fake_tabular: FakeTabular, tmp_path: Path) -> None:
    locust = Path(sys.executable).parent / "locust"
    command = [str(locust), "-f", "loadtests/tabular.py", "--headless", "-u", "4", "-r", "4",
               "-t", "3s", "-H", f"{fake_tabular.url}/tabular", "--only-summary",
               "--loglevel", "WARNING"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "GAMEDAY_RUN_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    records = read_requests(tmp_path)
    assert len(records) > 4  # more than one each: the 4 users loop (a count is no rate)
    assert all(r.ok and r.region == "region-a" and r.scheduled_s == r.start_s for r in records)
    assert set(fake_tabular.paths) == {"/tabular/predict"}
