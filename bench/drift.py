"""Benchmark: how long the tabular service's own drift monitor takes to see an input shift.

    python bench/drift.py [--rounds 5] [--quick]

One replica, started with ``targets/tabular/stack.yaml``'s argv and environment (the repo's
trained champion, the default 1,000-input window) on 127.0.0.1:28460, and kept for every
round. Each round:

1. baseline: its window is filled with 1,000 fresh training-like transactions (a seed per
   round), then the ordinary users go on sending them at 25 requests/s (what each of region-a's
   two members gets of the smoke suite's 50 requests/s);
2. shift: the drift fault's own side process (``gameday.platforms.local.population``) sends
   the member's reference rows with the experiment's shift (amounts x100, hours +6, merchant
   risk +0.3, 90 % foreign) at 100 requests/s; ``/drift`` is asked every 0.1 s;
3. the shifted population is stopped and the window flushed with training-like inputs.

Per round: seconds and shifted inputs from the population's own start to the first answer
with dataset drift, with a PSI >= 0.25 and with any feature drifted; inputs after the stop
until the alarm cleared. The reference, measured in the same run: offline windows
(``DriftWindow`` in this process, the same profile) with the newest k of 1,000 inputs shifted,
the least k at which 99 % of 100 windows call the dataset drifted: what the service cannot
beat at a 0.1 s poll. Also the cost of one ``/drift`` over a full window (its p50).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # targets/: the service's own data

from gameday.platforms.local.faults.sideprocess import SideProcess
from gameday.platforms.local.home import LocalHome
from gameday.platforms.shift import parse_shift, shifted
from targets.tabular.data import make_transactions
from targets.tabular.drift import DriftWindow, TrainingProfile
from targets.tabular.features import FEATURE_NAMES, row_payload
from targets.tabular.replica import replica

__all__ = ["least_detected_inputs", "main", "summary_lines"]

REPO = Path(__file__).resolve().parents[1]
HOST, PORT = "127.0.0.1", 28460
WINDOW = 1000
BASELINE_PER_S = 25.0
SHIFTED_PER_S = 100.0
POLL_S = 0.1
SHIFT = {"amount": {"scale": 100}, "hour": {"add": 6, "modulo": 24},
         "merchant_risk": {"add": 0.3, "low": 0, "high": 1}, "foreign": {"share_true": 0.9}}
_DETECT_TIMEOUT_S = 30.0


def _payload(row: np.ndarray) -> dict[str, Any]:
    return row_payload(row.tolist())


class _Baseline(threading.Thread):
    """The ordinary users: training-like transactions at ``rate_per_s`` until stopped."""

    def __init__(self, url: str, seed: int, rate_per_s: float) -> None:
        super().__init__(daemon=True)
        self._url, self._rows = url, make_transactions(20_000, seed).features
        self._interval_s, self._done = 1.0 / rate_per_s, threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=2) as client:
            for row in self._rows:
                if self._done.wait(self._interval_s):
                    return
                with contextlib.suppress(httpx.HTTPError):
                    client.post(f"{self._url}/predict", json=_payload(row))

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=5)


def _fill(client: httpx.Client, url: str, seed: int, rows: int = WINDOW) -> None:
    for row in make_transactions(rows, seed).features:
        client.post(f"{url}/predict", json=_payload(row)).raise_for_status()


def _first(polls: list[dict[str, Any]], sign: str) -> dict[str, Any] | None:
    def shows(report: dict[str, Any]) -> bool:
        features = report["features"]
        if sign == "dataset":
            return bool(report["dataset_drift"])
        if sign == "psi":
            return any(f["psi"] >= 0.25 for f in features)
        return any(f["drifted"] for f in features)

    return next((p for p in polls if shows(p["report"])), None)


def _round(client: httpx.Client, url: str, home: LocalHome, bodies: Path,
           seed: int) -> dict[str, Any]:
    _fill(client, url, seed)
    steady = client.get(f"{url}/drift").json()
    baseline = _Baseline(url, seed + 10_000, BASELINE_PER_S)
    baseline.start()
    side = SideProcess(home=home, name=f"bench-drift-{seed}",
                       module="gameday.platforms.local.population")
    side.start(["--path", "/predict", "--body-file", str(bodies), "--rate-per-s",
                str(SHIFTED_PER_S), "--max-duration-s", "60", f"{HOST}:{PORT}"])
    started_s = float(side.wait_status("sending", 10)["started_s"])
    polls: list[dict[str, Any]] = []
    try:
        while time.time() - started_s < _DETECT_TIMEOUT_S:
            asked_s = time.time()
            polls.append({"t_s": asked_s, "report": client.get(f"{url}/drift").json()})
            if polls[-1]["report"]["dataset_drift"]:
                break
            time.sleep(max(0.0, POLL_S - (time.time() - asked_s)))
    finally:
        sent = sum(t["sent"] for t in (side.status() or {}).get("targets", {}).values())
        side.stop()
        baseline.stop()
    stopped_at = int(client.get(f"{url}/drift").json()["inputs_total"])
    cleared_after = _flush(client, url, seed + 20_000, stopped_at)
    signs = {sign: _first(polls, sign) for sign in ("dataset", "psi", "feature")}
    start_inputs = int(steady["inputs_total"])
    return {"seed": seed, "steady_dataset_drift": steady["dataset_drift"],
            "shifted_sent": sent, "cleared_after_inputs": cleared_after,
            **{f"{sign}_s": None if hit is None else hit["t_s"] - started_s
               for sign, hit in signs.items()},
            **{f"{sign}_inputs": None if hit is None
               else int(hit["report"]["inputs_total"]) - start_inputs
               for sign, hit in signs.items()}}


def _flush(client: httpx.Client, url: str, seed: int, stopped_at: int) -> int | None:
    """Training-like inputs until the alarm clears: how many it took (None: not in two
    windows' worth)."""
    rows = make_transactions(2 * WINDOW, seed).features
    for start in range(0, len(rows), 50):
        for row in rows[start:start + 50]:
            client.post(f"{url}/predict", json=_payload(row)).raise_for_status()
        report = client.get(f"{url}/drift").json()
        if not report["dataset_drift"] and all(f["psi"] < 0.25 for f in report["features"]):
            return int(report["inputs_total"]) - stopped_at
    return None


def least_detected_inputs(profile: TrainingProfile, *, windows: int = 100,
                          share: float = 0.99, step: int = 25) -> int | None:
    """The least k (in steps of ``step``) at which ``share`` of ``windows`` offline windows,
    the newest k of 1,000 inputs shifted, call the dataset drifted."""
    shift = parse_shift(SHIFT)
    for k in range(step, WINDOW + 1, step):
        called = 0
        for seed in range(windows):
            rows = make_transactions(WINDOW, 50_000 + seed).features
            moved = shifted([_payload(r) for r in rows[WINDOW - k:]], shift, seed)
            rows[WINDOW - k:] = [[float(m[name]) for name in FEATURE_NAMES] for m in moved]
            window = DriftWindow(WINDOW)
            for row in rows:
                window.record(row)
            called += bool(window.report(profile).dataset_drift)
        if called >= share * windows:
            return k
    return None


def _drift_cost_ms(client: httpx.Client, url: str, calls: int = 40) -> float:
    """p50 of one /drift with a new input before each (no cached answer)."""
    rows = make_transactions(calls, 3).features
    times = []
    for row in rows:
        client.post(f"{url}/predict", json=_payload(row)).raise_for_status()
        started = time.perf_counter()
        client.get(f"{url}/drift").raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _summary(values: list[float | None]) -> dict[str, float | None]:
    seen = [v for v in values if v is not None]
    return {"p50": statistics.median(seen) if seen else None,
            "max": max(seen) if seen else None, "missed": len(values) - len(seen)}


def main(rounds: int = 5) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gameday-bench-drift-") as tmp, \
            replica(Path(tmp) / "replica.log", port=PORT) as url, \
            httpx.Client(timeout=10) as client:
        reference = client.get(f"{url}/drift/reference").json()["transactions"]
        bodies = Path(tmp) / "bodies.json"
        bodies.write_text(json.dumps({"bodies": shifted(reference, parse_shift(SHIFT), 7)}))
        results = []
        for number in range(rounds):
            results.append(_round(client, url, LocalHome(Path(tmp) / "home"), bodies,
                                  seed=100 + number))
            print(f"round {number + 1}: {json.dumps(results[-1])}", flush=True)
        cost_ms = _drift_cost_ms(client, url)
    profile = _profile()
    least = least_detected_inputs(profile)
    figures: dict[str, Any] = {
        "rounds": results, "window": WINDOW, "baseline_per_s": BASELINE_PER_S,
        "shifted_per_s": SHIFTED_PER_S, "poll_s": POLL_S, "drift_call_p50_ms": cost_ms,
        "offline_least_inputs_99": least,
        **{f"{sign}_{unit}": _summary([r[f"{sign}_{unit}"] for r in results])
           for sign in ("dataset", "psi", "feature") for unit in ("s", "inputs")},
        "false_alarms_before_shift": sum(bool(r["steady_dataset_drift"]) for r in results)}
    dataset_inputs = figures["dataset_inputs"]["p50"]
    figures["inputs_vs_offline"] = None if not least or dataset_inputs is None \
        else dataset_inputs / least
    return figures


def _profile() -> TrainingProfile:
    """The profile train.py saves (the same rows, the same seed)."""
    from sklearn.model_selection import train_test_split

    data = make_transactions(60_000, 7)
    x_train, *_ = train_test_split(data.features, data.fraud, test_size=0.25, random_state=7,
                                   stratify=data.fraud)
    return TrainingProfile.from_matrix(x_train, seed=7)


def _fmt(value: float | None, unit: str) -> str:
    return "—" if value is None else f"{value:.2f} {unit}" if unit == "s" else f"{value:.0f}"


def summary_lines(figures: dict[str, Any]) -> list[str]:
    dataset_s, dataset_in = figures["dataset_s"], figures["dataset_inputs"]
    psi_s, feature_s = figures["psi_s"], figures["feature_s"]
    rounds = len(figures["rounds"])
    ratio = figures["inputs_vs_offline"]
    return [
        f"drift time to detect              dataset drift p50 {_fmt(dataset_s['p50'], 's')} "
        f"(max {_fmt(dataset_s['max'], 's')}, {dataset_s['missed']} of {rounds} missed), "
        f"{_fmt(dataset_in['p50'], 'n')} inputs since the shift = "
        f"{'—' if ratio is None else f'{ratio:.2f}x'} the offline least "
        f"({figures['offline_least_inputs_99'] or '—'} of {figures['window']} shifted, 99 %); "
        f"PSI >= 0.25 {_fmt(psi_s['p50'], 's')}, first feature {_fmt(feature_s['p50'], 's')}",
        f"drift monitor cost                GET /drift {figures['drift_call_p50_ms']:.1f} ms p50 "
        f"over a full {figures['window']}-input window; "
        f"{figures['false_alarms_before_shift']} false alarms on the baseline in {rounds} rounds",
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="three rounds")
    options = parser.parse_args()
    result = main(rounds=3 if options.quick else options.rounds)
    print(json.dumps({k: v for k, v in result.items() if k != "rounds"}, indent=2))
    print("\n".join(summary_lines(result)))
