"""``make chaos-run`` end to end (opt-in: ``make test-e2e``): the shipped smoke suite on a
platform the run stands up itself, and its report rendered by a real headless browser."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.runs.run_helpers import REPO, RunFolder, run_gameday

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Flags that keep Chromium off the (closed) network; see the machine notes.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")


@pytest.fixture(scope="module")
def smoke_run(trained_artifacts: Path, tmp_path_factory: pytest.TempPathFactory) -> RunFolder:
    work = tmp_path_factory.mktemp("smoke")
    result = run_gameday("run", str(REPO / "suites" / "smoke.yaml"), "--runs-dir",
                         str(work / "runs"), home=work / "home", timeout_s=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return RunFolder.only_one_in(work / "runs")


def test_the_smoke_suite_passes_and_recovers_from_the_outage(smoke_run: RunFolder) -> None:
    summary = smoke_run.summary
    assert summary["verdict"] == "pass"
    (scenario,) = summary["scenarios"]
    assert scenario["rto"]["recovered"] and scenario["rto"]["rto_s"] <= 5
    assert not summary["load"]["saturated"]


def test_the_report_renders_offline_in_a_headless_browser(smoke_run: RunFolder,
                                                          tmp_path: Path) -> None:
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    dom = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=10000", "--dump-dom",
         (smoke_run.path / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120).stdout
    assert dom.count('class="main-svg"') >= 3  # plotly drew the charts (its script is inlined)
    (scenario,) = smoke_run.summary["scenarios"]
    rto_s = scenario["rto"]["rto_s"]
    # the scenario table shows the RTO of summary.json, and plotly drew the fault band's label
    # and the RTO marker (data-unformatted exists only in the SVG, not in the figure's JSON)
    assert f'<td id="rto-{scenario["name"]}">{rto_s:.2f} s</td>' in dom
    assert f'data-unformatted="{scenario["name"]}"' in dom
    assert f'data-unformatted="recovered +{rto_s:.2f}s"' in dom
    assert "<script src=\"http" not in dom
