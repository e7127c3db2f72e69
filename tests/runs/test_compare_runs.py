"""Run-to-run judgement on real runs of the local platform: two healthy runs of one suite judge
Pass, and a run whose edge→region-a link has 20 ms added by the fault proxy (edge-latency, no
jitter, for the whole load) judges High on latency — through ``gameday run --baseline``, which
then fails the run whose SLOs held, and through ``gameday compare``.

Ground truth: the 20 ms the fault asked for, and the medians of the request records read here
with the csv module (no harness code). The runs are minutes apart on a shared machine, so the
shift is the fault's 20 ms plus the machine's drift (at least half of it is asserted); the
shift itself is checked against a brute-force Hodges–Lehmann over the records (numpy, every
pair).
"""

from __future__ import annotations

import csv
import json
import statistics
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import platform_up
from gameday.platforms.local.platform import LocalPlatform
from tests.runs.run_helpers import RunFolder, run_gameday, toxics, write_suite

pytestmark = pytest.mark.e2e
ADDED_S = 0.020
DURATION_S, WARMUP_S = 20, 2


@pytest.fixture(scope="module")
def platform(trained_artifacts: Path,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with platform_up(tmp_path_factory.mktemp("gameday-home")) as up:
        yield up


def _suite(path: Path, *, latency: bool) -> Path:
    write_suite(path, experiment="edge-latency", duration_s=DURATION_S, warmup_s=WARMUP_S,
                offset_s=0, fault_duration_s=DURATION_S + 5)
    suite = yaml.safe_load(path.read_text())
    suite["name"] = "nightly"
    suite["slos"] = [{"kind": "availability", "objective": 0.99},
                     {"kind": "latency", "percentile": 99, "threshold_s": 0.25}]
    if latency:
        suite["scenarios"][0]["configuration"].update(latency_ms=int(ADDED_S * 1000),
                                                      jitter_ms=0)
    else:
        suite["scenarios"] = []
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return path


def _run(platform: LocalPlatform, work: Path, name: str, *, latency: bool,
         baseline: RunFolder | None = None) -> tuple[int, RunFolder]:
    runs = work / name
    argv = ["run", str(_suite(work / f"{name}.yaml", latency=latency)), "--runs-dir", str(runs)]
    if baseline is not None:
        argv += ["--baseline", str(baseline.path)]
    result = run_gameday(*argv, home=platform.home.root)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return result.returncode, RunFolder.only_one_in(runs)


@pytest.fixture(scope="module")
def runs(platform: LocalPlatform, tmp_path_factory: pytest.TempPathFactory
         ) -> dict[str, tuple[int, RunFolder]]:
    work = tmp_path_factory.mktemp("compare-runs")
    _, base = _run(platform, work, "base", latency=False)
    return {"base": (0, base),
            "healthy": _run(platform, work, "healthy", latency=False, baseline=base),
            "slow": _run(platform, work, "slow", latency=True, baseline=base)}


def _ok_latencies_s(run: RunFolder) -> list[float]:
    """After the warm-up, as the judge takes them; read with csv, nothing of the harness."""
    events = [json.loads(line) for line in (run.path / "events.jsonl").open()]
    warmup_end_s = next(e["t_s"] for e in events if e["kind"] == "warmup_end")
    latencies = []
    for path in run.path.glob("requests*.csv"):
        with path.open() as handle:
            latencies += [float(r["end_s"]) - float(r["scheduled_s"])
                          for r in csv.DictReader(handle)
                          if r["ok"] == "1" and not r.get("label")
                          and float(r["scheduled_s"]) >= warmup_end_s]
    return latencies


def _latency(run: RunFolder) -> dict:
    document = json.loads((run.path / "baseline.json").read_text())
    return next(m for m in document["metrics"] if m["name"] == "latency:tabular")


def test_two_healthy_runs_judge_pass(runs: dict[str, tuple[int, RunFolder]]) -> None:
    code, healthy = runs["healthy"]
    assert code == 0, healthy.summary["reason"]
    assert healthy.summary["baseline"]["verdict"] == "pass"
    assert healthy.summary["baseline"]["regressed"] is False
    print(f"healthy: HL {_latency(healthy)['hodges_lehmann'] * 1000:+.2f} ms")


def test_twenty_ms_on_the_link_judges_high_and_fails_the_run(
        runs: dict[str, tuple[int, RunFolder]], platform: LocalPlatform) -> None:
    code, slow = runs["slow"]
    _, base = runs["base"]
    latency = _latency(slow)
    slow_s, base_s = _ok_latencies_s(slow), _ok_latencies_s(base)
    # the Hodges–Lehmann shift by brute force: the median of all n × m differences
    brute_s = float(np.median(np.subtract.outer(np.array(slow_s), np.array(base_s))))
    medians_s = statistics.median(slow_s) - statistics.median(base_s)
    print(f"slow: HL {latency['hodges_lehmann'] * 1000:+.2f} ms "
          f"[{latency['ci_low'] * 1000:+.2f}, {latency['ci_high'] * 1000:+.2f}], "
          f"p {latency['p_value']:.3g}; brute force over the records {brute_s * 1000:+.2f} ms; "
          f"medians differ by {medians_s * 1000:+.2f} ms; the fault added "
          f"{ADDED_S * 1000:.0f} ms")
    assert latency["class"] == "high" and latency["failed"] is True
    # the runs are minutes apart: the machine's drift (medians of healthy runs in a row here:
    # 8.6, 9.5, 8.0, 11.5 ms) adds to the 20 ms, never takes most of it away
    assert latency["hodges_lehmann"] >= ADDED_S / 2
    assert latency["n_candidate"] == len(slow_s) and latency["n_baseline"] == len(base_s)
    assert latency["hodges_lehmann"] == pytest.approx(brute_s, abs=1e-9)
    assert all(slo["passed"] for slo in slow.summary["slos"])  # the SLOs held: only the judge
    assert code == 1 and slow.summary["verdict"] == "fail"
    assert slow.summary["reason"].startswith("regressed against baseline")
    assert toxics(platform) == []  # the latency was rolled back


def test_gameday_compare_judges_the_same(runs: dict[str, tuple[int, RunFolder]],
                                         tmp_path: Path, platform: LocalPlatform) -> None:
    _, base = runs["base"]
    _, slow = runs["slow"]
    out = tmp_path / "judgement.json"
    result = run_gameday("compare", str(base.path), str(slow.path), "--json", str(out),
                         home=platform.home.root)
    assert result.returncode == 1, result.stdout + result.stderr
    document = json.loads(out.read_text())
    assert document["regressed"] is True
    assert {m["name"]: m["class"] for m in document["metrics"]}["latency:tabular"] == "high"
