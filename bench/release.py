"""Benchmark: how fast a model release that goes wrong is caught and undone, and how fast a
drift incident is seen, on the local platform under open load (``suites/mlops.yaml``).

    python bench/release.py [--suite suites/mlops.yaml]

One real ``gameday run`` of the suite (about three minutes): a bad canary caught by its error
rate, a good one promoted, a silently wrong one caught by the labelled shadow set, a blue-green
switch, a bad release to every member rolled back, then a shifted client population. Figures
come from the run's own ``summary.json``.

References measured in the same run: a canary's analysis measures every ``interval_s`` (the
experiment's ``analysis_interval_s``), so no failing verdict can come sooner than one interval
after the canary takes traffic: time to detect is shown as a multiple of it. The drift watch
asks every 0.5 s: that is the resolution of the drift time to detect.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SUITE = REPO / "suites" / "mlops.yaml"
CANARY_EXPERIMENT = REPO / "experiments" / "tabular-canary.json"
DRIFT_POLL_S = 0.5  # gameday.driftwatch's interval

__all__ = ["main", "summary_lines"]


def _analysis_interval_s() -> float:
    configuration = json.loads(CANARY_EXPERIMENT.read_text())["configuration"]
    return float(configuration["analysis_interval_s"]["default"])


def _run(suite: Path, runs_dir: Path) -> dict[str, Any]:
    done = subprocess.run([str(REPO / ".venv" / "bin" / "gameday"), "run", str(suite),
                           "--runs-dir", str(runs_dir)], cwd=REPO, capture_output=True,
                          text=True, timeout=900, check=False)
    folders = sorted(p for p in runs_dir.iterdir() if (p / "summary.json").is_file())
    if not folders:
        raise RuntimeError(f"gameday run wrote no summary (exit {done.returncode}):\n"
                           f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    summary: dict[str, Any] = json.loads((folders[-1] / "summary.json").read_text())
    summary["_exit_code"] = done.returncode
    summary["_run_dir"] = str(folders[-1])
    return summary


def _release(release: dict[str, Any], interval_s: float) -> dict[str, Any]:
    detect_s = release["time_to_detect_s"]
    return {
        "scenario": release["scenario"], "kind": release["kind"],
        "version": release["version"], "outcome": release["outcome"],
        "time_to_detect_s": detect_s,
        "detect_vs_interval": None if detect_s is None else detect_s / interval_s,
        "time_to_roll_back_s": release["time_to_roll_back_s"],
        "served_until_decision": release.get("served_until_decision"),
        "served": release["served"], "harmed": release["harmed"],
        "served_share": release["served_share"], "expected_share": release["expected_share"],
        "switch_failed": release["switch_failed"], "mixed": release["mixed"],
    }


def main(suite: Path = SUITE) -> dict[str, Any]:
    interval_s = _analysis_interval_s()
    with tempfile.TemporaryDirectory(prefix="gameday-bench-release-") as tmp:
        summary = _run(suite, Path(tmp))
    releases = [_release(r, interval_s) for r in summary.get("releases", ())]
    drift = summary.get("drift") or {}
    figures: dict[str, Any] = {
        "suite": str(suite), "exit_code": summary["_exit_code"],
        "verdict": summary.get("verdict"), "analysis_interval_s": interval_s,
        "releases": releases,
        "drift_regions": drift.get("regions", []),
        "drift_false_alerts": len(drift.get("false_alerts", [])),
        "drift_poll_s": DRIFT_POLL_S,
        "requests": summary.get("load", {}).get("requests"),
    }
    for release in releases:
        print(json.dumps(release), flush=True)
    return figures


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def summary_lines(figures: dict[str, Any]) -> list[str]:
    lines = []
    for r in figures["releases"]:
        name = f"release {r['scenario']}"
        if r["kind"] == "canary":
            ratio = "" if r["detect_vs_interval"] is None \
                else f" = {r['detect_vs_interval']:.2f}x the analysis interval"
            share = "" if r["served_share"] is None else \
                f"; served {r['served_share']:.1%} of its region vs {r['expected_share']:.1%} " \
                "by its weights"
            rolled = "" if r["time_to_roll_back_s"] is None else \
                f", rolled back {_s(r['time_to_roll_back_s'])}" + \
                (" (its last answer ended before the decision)"
                 if r["served_until_decision"] is False else "")
            detected = "" if r["time_to_detect_s"] is None else \
                f" detected {_s(r['time_to_detect_s'])}{ratio}{rolled};"
            lines.append(f"{name:34}{r['outcome']}:{detected} {r['harmed']} of {r['served']} "
                         f"answers harmed{share}")
        elif r["kind"] == "blue-green":
            lines.append(f"{name:34}{r['outcome']}: {r['switch_failed']} failed, {r['mixed']} "
                         f"mixed-version answers around the switch ({r['served']} answers "
                         "from green)")
        else:
            lines.append(f"{name:34}{r['outcome']}: last bad answer "
                         f"{_s(r['time_to_roll_back_s'])} after the decision; {r['harmed']} "
                         f"of {r['served']} answers harmed")
    for region in figures["drift_regions"]:
        lines.append(f"{'drift ' + region['scenario']:34}{region['region']}: dataset drift "
                     f"after {_s(region['dataset_drift_s'])} (every member "
                     f"{_s(region['dataset_drift_all_s'])}), PSI alert "
                     f"{_s(region['psi_alert_s'])}; watch resolution {figures['drift_poll_s']} "
                     f"s; {figures['drift_false_alerts']} false alerts in the run")
    return lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, default=SUITE)
    result = main(parser.parse_args().suite)
    print("\n".join(summary_lines(result)))
    sys.exit(0)
