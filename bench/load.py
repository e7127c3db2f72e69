"""Load-generator benchmark: what recording costs, the pacer's CPU per request against plain
Locust's, send lag, where the pacer saturates, and what a second worker process adds.

Run: ``.venv/bin/python bench/load.py`` (about three minutes). Against HAProxy answering
/predict itself (``http-request return``), so the server is never the bottleneck:

(a) closed model, same users and endpoint: plain Locust FastHttpUser vs ``loadtests.tabular``
    with the answer check and a RequestRecord per request -> throughput ratio (target <= 2x);
(b) CPU per request, same endpoint, same run: plain FastHttpUser in a closed loop (its
    cheapest), plain FastHttpUser paced at 4,000 req/s by Locust's own ``constant_throughput``,
    and the open-model pacer at 4,000 req/s recording every request -> ratios (target: the
    pacer <= 1.5x the closed loop);
(c) open model at 1,000 req/s (Poisson): send lag p50/p99 after warm-up (target p99 <= 5 ms);
(d) open model at 1k, 2k, 4k, 6k, 8k req/s, ~4 s each, up to the first step the generator
    flagged itself saturated at: the highest rate it did not (target >= 4,000 req/s, with lag
    p99 <= 5 ms at 4,000);
(e) the same steps with two local worker processes (Locust master/worker): the highest rate
    two workers reach against one process, same run.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from gameday.load import LoadPlan, LoadProcess
from gameday.records import EventKind, read_events, read_requests

__all__ = ["main"]

HAPROXY = "/usr/sbin/haproxy"
ANSWER = '{"fraud_score":0.1,"is_fraud":false,"model_version":"bench","region":"region-a"}'
CLOSED_USERS, CLOSED_WARMUP_S, CLOSED_MEASURE_S = 16, 1.0, 5.0
PACED_USERS, COMPARE_RATE_PER_S = 50, 4000  # (b): Locust's own pacing, at the pacer's target
OPEN_STEPS_PER_S = (1000, 2000, 4000, 6000, 8000)
OPEN_WARMUP_S, OPEN_DURATION_S = 0.5, 3.5


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start_haproxy(work_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    config = work_dir / "haproxy.cfg"
    config.write_text(f"""
global
    maxconn 4000
    nbthread 1
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend bench
    bind 127.0.0.1:{port}
    http-request return status 200 content-type application/json string '{ANSWER}' \
hdr X-Served-By-Region region-a
""")
    process = subprocess.Popen([HAPROXY, "-f", str(config), "-db"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/tabular"
    deadline_s = time.monotonic() + 5
    while time.monotonic() < deadline_s:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, url
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("haproxy did not start")


def _closed_worker(variant: str, url: str, run_dir: Path) -> None:
    """Runs in a child (Locust monkey-patches): print closed-model requests/s as JSON."""
    import gevent
    from locust import FastHttpUser, constant, constant_throughput, task
    from locust.env import Environment

    from gameday.load.payloads import endpoint_for, make_bodies
    from gameday.load.recorder import RequestRecorder
    from gameday.records import RecordWriter
    from loadtests.tabular import TabularUser

    body = make_bodies(endpoint_for("tabular", "predict"), 1, seed=7)[0]

    class PlainUser(FastHttpUser):
        wait_time = constant(0) if variant != "paced" else \
            constant_throughput(COMPARE_RATE_PER_S / PACED_USERS)

        @task
        def predict(self) -> None:
            self.client.post("/predict", data=body, headers={"Content-Type": "application/json"})

    user_class = TabularUser if variant == "recorded" else PlainUser
    environment = Environment(user_classes=[user_class], host=url)
    if variant == "recorded":
        recorder = RequestRecorder(RecordWriter(run_dir / "requests-closed.csv"))
        environment.events.request.add_listener(recorder.on_request)
    runner = environment.create_local_runner()
    users = PACED_USERS if variant == "paced" else CLOSED_USERS
    runner.start(users, spawn_rate=users)
    gevent.sleep(CLOSED_WARMUP_S)
    before, cpu_before_s = environment.stats.total.num_requests, time.process_time()
    gevent.sleep(CLOSED_MEASURE_S)
    done = environment.stats.total.num_requests - before
    cpu_us_per_req = 1e6 * (time.process_time() - cpu_before_s) / max(1, done)
    failures = environment.stats.total.num_failures
    runner.quit()
    print(json.dumps({"req_per_s": done / CLOSED_MEASURE_S, "cpu_us_per_req": cpu_us_per_req,
                      "failures": failures}))


def _closed(variant: str, url: str, work_dir: Path) -> dict[str, Any]:
    run_dir = work_dir / f"closed-{variant}"
    run_dir.mkdir()
    done = subprocess.run([sys.executable, __file__, "--closed", variant, "--url", url,
                           "--run-dir", str(run_dir)], capture_output=True, text=True,
                          timeout=60, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _open_step(rate_per_s: int, url: str, work_dir: Path, workers: int = 1) -> dict[str, Any]:
    run_dir = work_dir / f"open-{rate_per_s}-w{workers}"
    run_dir.mkdir(parents=True)
    plan = LoadPlan(base_url=url, arrival="poisson", rate_per_s=rate_per_s,
                    duration_s=OPEN_DURATION_S, warmup_s=OPEN_WARMUP_S, timeout_s=2.0,
                    concurrency=300, lag_bound_s=0.010, workers=workers)
    with LoadProcess.start(plan, run_dir) as generator:
        t0_s = generator.wait_started(timeout_s=30)
        generator.wait(timeout_s=plan.total_s + 30)
    records = [r for r in read_requests(run_dir) if r.scheduled_s >= t0_s + plan.warmup_s]
    events = read_events(run_dir)
    lags_ms = np.array([r.send_lag_s for r in records]) * 1e3
    (end,) = [e for e in events if e.kind == EventKind.LOAD_END
              and e.detail.get("worker") is None]  # the generator's, not each worker's
    return {
        "target_per_s": rate_per_s,
        "achieved_per_s": len(records) / plan.duration_s,
        "ok_fraction": sum(r.ok for r in records) / max(1, len(records)),
        "lag_p50_ms": float(np.percentile(lags_ms, 50)),
        "lag_p99_ms": float(np.percentile(lags_ms, 99)),
        "late_fraction": end.detail["late"] / max(1, end.detail["sent"] + end.detail["gave_up"]),
        "cpu_us_per_req": 1e6 * end.detail["cpu_s"] / max(1, end.detail["recorded"]),
        "saturated": any(e.kind == EventKind.GENERATOR_SATURATED for e in events),
    }


def _open_step_best_of_two(rate_per_s: int, url: str, work_dir: Path,
                           workers: int = 1) -> dict[str, Any]:
    """A shared 2-core machine has bursts of other work: a flagged step gets one retry."""
    first = _open_step(rate_per_s, url, work_dir / "try1", workers)
    if not first["saturated"]:
        return {**first, "attempts": 1}
    return {**_open_step(rate_per_s, url, work_dir / "try2", workers), "attempts": 2}


def _saturation_steps(url: str, work_dir: Path, workers: int) -> list[dict[str, Any]]:
    """The rate steps in order, up to and with the first one flagged saturated."""
    steps = []
    for rate in OPEN_STEPS_PER_S:
        steps.append(_open_step_best_of_two(rate, url, work_dir / f"w{workers}", workers))
        if steps[-1]["saturated"]:
            break
    return steps


def _highest_unsaturated(steps: list[dict[str, Any]]) -> int:
    unsaturated = 0
    for step in steps:
        if step["saturated"]:
            break
        unsaturated = step["target_per_s"]
    return unsaturated


def _print_steps(steps: list[dict[str, Any]]) -> None:
    print(f"    {'target/s':>9} {'achieved/s':>11} {'ok':>6} {'lag p50 ms':>11} "
          f"{'lag p99 ms':>11} {'late':>7} {'CPU us/req':>11} saturated (attempts)")
    for step in steps:
        print(f"    {step['target_per_s']:>9,} {step['achieved_per_s']:>11,.0f} "
              f"{step['ok_fraction']:>6.1%} {step['lag_p50_ms']:>11.2f} {step['lag_p99_ms']:>11.2f}"
              f" {step['late_fraction']:>7.2%} {step['cpu_us_per_req']:>11.0f} "
              f"{'YES' if step['saturated'] else 'no'} ({step['attempts']})")


def _print_table(result: dict[str, Any]) -> None:
    plain, recorded = result["closed"]["plain"], result["closed"]["recorded"]
    cpu = result["cpu_per_request"]
    print(f"(a) closed model, {CLOSED_USERS} users, {CLOSED_MEASURE_S:g} s, same endpoint:")
    print(f"    plain Locust FastHttpUser  {plain['req_per_s']:>7,.0f} req/s "
          f"{plain['cpu_us_per_req']:>6.0f} CPU us/req")
    print(f"    checked + recorded         {recorded['req_per_s']:>7,.0f} req/s "
          f"{recorded['cpu_us_per_req']:>6.0f} CPU us/req")
    print(f"    recording cost: throughput {result['closed']['throughput_ratio']:.2f}x, "
          f"CPU per request {result['closed']['cpu_ratio']:.2f}x (target <= 2x)")
    print(f"(b) CPU per request, same endpoint ({COMPARE_RATE_PER_S:,} req/s where paced):")
    print(f"    plain FastHttpUser, closed loop           {cpu['plain_closed_us']:>6.0f} us")
    print(f"    plain FastHttpUser, constant_throughput   {cpu['plain_paced_us']:>6.0f} us "
          f"({cpu['plain_paced_per_s']:,.0f} req/s, {PACED_USERS} users)")
    print(f"    open-model pacer, every request recorded  {cpu['pacer_us']:>6.0f} us "
          f"= {cpu['pacer_vs_plain_closed']:.2f}x the closed loop (target <= 1.5x), "
          f"{cpu['pacer_vs_plain_paced']:.2f}x Locust's own pacing")
    at_4k = cpu["pacer_at_4k"]
    print(f"    the pacer at {COMPARE_RATE_PER_S:,} req/s: send lag p50 "
          f"{at_4k['lag_p50_ms']:.2f} ms, p99 {at_4k['lag_p99_ms']:.2f} ms (target <= 5 ms), "
          f"late {at_4k['late_fraction']:.2%}, "
          f"{'flagged itself saturated' if at_4k['saturated'] else 'not saturated'} "
          f"({at_4k['attempts']} attempt(s))")
    print(f"(c) open model 1,000 req/s: send lag p50 {result['lag_1k']['p50_ms']:.2f} ms, "
          f"p99 {result['lag_1k']['p99_ms']:.2f} ms (target p99 <= 5 ms)")
    print("(d) open model steps, one process (Poisson, 300 connections, lag bound 10 ms):")
    _print_steps(result["steps"])
    print(f"    highest rate not flagged saturated: {result['max_unsaturated_per_s']:,} req/s "
          f"(target >= 4,000); load average before the run {result['load_average_1m']:.2f} "
          f"on {os.cpu_count()} cores")
    print(f"    pacer CPU per request at its cheapest -> one free core would pace about "
          f"{result['one_core_capacity_per_s']:,.0f} req/s")
    print("(e) the same steps with two local workers (Locust master/worker):")
    _print_steps(result["two_workers"]["steps"])
    print(f"    highest rate not flagged saturated: two workers "
          f"{result['two_workers']['max_unsaturated_per_s']:,} req/s, one process "
          f"{result['max_unsaturated_per_s']:,} req/s")


def main() -> dict[str, Any]:
    load_average_1m = os.getloadavg()[0]  # other work on this machine skews the figures
    with tempfile.TemporaryDirectory(prefix="gameday-bench-load-") as tmp:
        work_dir = Path(tmp)
        haproxy, url = _start_haproxy(work_dir)
        try:
            plain, recorded = _closed("plain", url, work_dir), _closed("recorded", url, work_dir)
            paced = _closed("paced", url, work_dir)
            at_4k = _open_step_best_of_two(COMPARE_RATE_PER_S, url, work_dir / "compare")
            steps = _saturation_steps(url, work_dir, workers=1)
            two_workers = _saturation_steps(url, work_dir, workers=2)
        finally:
            haproxy.terminate()
            haproxy.wait(timeout=10)
    result = {
        "closed": {"plain": plain, "recorded": recorded,
                   "throughput_ratio": plain["req_per_s"] / recorded["req_per_s"],
                   "cpu_ratio": recorded["cpu_us_per_req"] / plain["cpu_us_per_req"]},
        "cpu_per_request": {
            "plain_closed_us": plain["cpu_us_per_req"], "plain_paced_us": paced["cpu_us_per_req"],
            "plain_paced_per_s": paced["req_per_s"], "pacer_us": at_4k["cpu_us_per_req"],
            "pacer_at_4k": at_4k,
            "pacer_vs_plain_closed": at_4k["cpu_us_per_req"] / plain["cpu_us_per_req"],
            "pacer_vs_plain_paced": at_4k["cpu_us_per_req"] / paced["cpu_us_per_req"]},
        "pacer_cpu_ratio_at_1k": steps[0]["cpu_us_per_req"] / plain["cpu_us_per_req"],
        "lag_1k": {"p50_ms": steps[0]["lag_p50_ms"], "p99_ms": steps[0]["lag_p99_ms"]},
        "steps": steps,
        "max_unsaturated_per_s": _highest_unsaturated(steps),
        "lag_p99_ms_at_4k": at_4k["lag_p99_ms"],
        "two_workers": {"steps": two_workers,
                        "max_unsaturated_per_s": _highest_unsaturated(two_workers)},
        # what one free core would pace at the cheapest CPU per request measured (other work
        # here raises CPU per request too, but less than it cuts throughput)
        "one_core_capacity_per_s": 1e6 / min(step["cpu_us_per_req"] for step in steps),
        "load_average_1m": load_average_1m,
    }
    _print_table(result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--closed", choices=("plain", "recorded", "paced"))
    parser.add_argument("--url")
    parser.add_argument("--run-dir", type=Path)
    args = parser.parse_args()
    if args.closed:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for loadtests
        _closed_worker(args.closed, args.url, args.run_dir)
    else:
        main()
