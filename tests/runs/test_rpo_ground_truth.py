"""RPO against ground truth: ``gameday run`` kills the database primary in the middle of a
numbered write stream, the standby is promoted, and the harness's lost count must equal what an
independent SQL audit finds missing.

The audit here shares no code with the harness: it reads ``requests-writes.csv`` with the csv
module and asks the surviving primary, with its own psycopg connection, for every acknowledged
sequence number. Promote mode (the harness promotes the standby) keeps these runs short;
the Patroni runs are in ``test_patroni_failover_run.py`` (marked e2e).
"""

from __future__ import annotations

import contextlib
import csv
import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from psycopg import sql

from tests.pgcluster import skip_unless_database_users_reach
from tests.runs.run_helpers import REPO, RunFolder, run_gameday

RAG_FAILOVER = REPO / "suites" / "rag-failover.yaml"


def database_suite(path: Path, *, experiment: str, replication: str = "async",
                   failover: str = "promote", configuration: dict[str, Any] | None = None,
                   rate_per_s: float = 200, duration_s: float = 16, offset_s: float = 4,
                   slos: list[dict[str, Any]] | None = None) -> Path:
    """The shipped rag-failover suite, shortened; experiment paths made absolute."""
    suite = yaml.safe_load(RAG_FAILOVER.read_text())
    suite["name"] = f"test-{experiment}-{replication}"
    suite["database"].update(failover=failover, replication=replication)
    suite["load"].update(rate_per_s=rate_per_s, duration_s=duration_s, warmup_s=2)
    suite["scenarios"] = [{
        "name": experiment, "experiment": str(REPO / "experiments" / f"{experiment}.json"),
        "offset_s": offset_s, "target_region": "region-a",
        "configuration": configuration or {},
    }]
    if slos is not None:
        suite["slos"] = slos
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return path


def table_of(run: Path) -> str:
    """The run's write table, as the run folder names it (one table per run)."""
    return str(json.loads((run / "audit.json").read_text())["table"])


def acknowledged_seqs(run: Path) -> set[int]:
    with (run / "requests-writes.csv").open(newline="") as handle:
        return {int(row["seq"]) for row in csv.DictReader(handle)
                if row.get("ok") == "1" and row.get("seq")}


def missing_on_primary(acked: set[int], hosts: list[tuple[str, int]], table: str
                       ) -> tuple[str, set[int]]:
    """Ask each node directly which of ``acked`` it lacks; the writable node answers."""
    for host, port in hosts:
        try:
            with psycopg.connect(host=host, port=port, user="postgres", dbname="postgres",
                                 connect_timeout=3, autocommit=True) as conn:
                if conn.execute("select pg_is_in_recovery()").fetchone() != (False,):
                    continue
                rows = conn.execute(sql.SQL("select seq from {} where seq = any(%s)").format(
                    sql.Identifier(table)), (sorted(acked),), prepare=False).fetchall()
        except psycopg.OperationalError:
            continue
        return f"{host}:{port}", acked - {int(r[0]) for r in rows}
    raise AssertionError(f"no writable node among {hosts}")


def run_database_suite(tmp_path: Path, home: Path, suite: Path
                       ) -> tuple[RunFolder, int, str]:
    """Stood up first (the run then uses it and leaves it up), so the nodes can be audited
    after the run; the ``home`` fixture takes it down."""
    up = run_gameday("up", str(suite), home=home, timeout_s=180)
    assert up.returncode == 0, up.stdout + up.stderr
    result = run_gameday("run", str(suite), "--runs-dir", str(tmp_path / "runs"),
                         home=home, timeout_s=300)
    return RunFolder.only_one_in(tmp_path / "runs"), result.returncode, \
        result.stdout + result.stderr


NODES = [("127.10.3.21", 15432), ("127.20.3.21", 15432)]


@contextlib.contextmanager
def reachable_home() -> Iterator[Path]:
    """A platform home the database users can reach (pytest's tmp folders are mode 700),
    taken down and removed afterwards."""
    skip_unless_database_users_reach(REPO / "targets" / "rag" / "db" / "start.sh")
    folder = Path(tempfile.mkdtemp(prefix="gameday-db-test-"))
    folder.chmod(0o755)
    try:
        yield folder / "home"
    finally:
        run_gameday("down", home=folder / "home", timeout_s=120)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def home() -> Iterator[Path]:
    with reachable_home() as root:
        yield root


def test_async_replication_behind_a_slow_link_loses_exactly_the_writes_sql_finds_missing(
        tmp_path: Path, home: Path) -> None:
    suite = database_suite(tmp_path / "suite.yaml", experiment="db-lagging-primary-kill",
                           configuration={"latency_ms": 300, "lag_build_s": 2,
                                          "kill_how": "node", "fault_duration_s": 4},
                           slos=[{"kind": "rpo", "max_lost": 0, "max_seconds": 0},
                                 {"kind": "split_brain"}])
    run, code, output = run_database_suite(tmp_path, home, suite)
    database = run.summary["scenarios"][0]["database"]
    acked = acknowledged_seqs(run.path)
    where, missing = missing_on_primary(acked, NODES, table_of(run.path))
    assert database["rpo"]["measured"], database["rpo"]["error"]
    assert database["rpo"]["lost"] == len(missing) > 0, (where, sorted(missing)[:20], output)
    assert database["rpo"]["lost_seqs"] == sorted(missing)[:100]
    assert database["rpo"]["rpo_s"] > 0
    assert code == 1  # this suite's rpo SLO allows no loss: the verdict fails, as it must
    assert database["split_brain"]["happened"] is False


def test_sync_replication_behind_the_same_slow_link_loses_nothing(
        tmp_path: Path, home: Path) -> None:
    suite = database_suite(tmp_path / "suite.yaml", experiment="db-lagging-primary-kill",
                           replication="sync",
                           configuration={"latency_ms": 300, "lag_build_s": 2,
                                          "kill_how": "node", "fault_duration_s": 4})
    run, code, output = run_database_suite(tmp_path, home, suite)
    database = run.summary["scenarios"][0]["database"]
    acked = acknowledged_seqs(run.path)
    _, missing = missing_on_primary(acked, NODES, table_of(run.path))
    assert len(acked) > 500
    assert missing == set() and database["rpo"]["lost"] == 0, output
    assert database["write_rto"]["write_rto_s"] is not None, output
    assert code == 0, output


@pytest.mark.e2e  # a Patroni failover and a rejoin, ~35 s; the plain chaos tests rejoin too
def test_the_old_primary_rejoins_as_a_standby_and_catches_up(tmp_path: Path,
                                                             home: Path) -> None:
    suite = database_suite(tmp_path / "suite.yaml", experiment="db-primary-kill",
                           configuration={"kill_how": "node", "fault_duration_s": 3})
    run, code, output = run_database_suite(tmp_path, home, suite)
    assert code == 0, output
    table = sql.Identifier(table_of(run.path))
    with psycopg.connect(host="127.20.3.21", port=15432, user="postgres", dbname="postgres",
                         connect_timeout=3, autocommit=True) as new:
        assert new.execute("select pg_is_in_recovery()").fetchone() == (False,)
        written = new.execute(sql.SQL("select count(*), max(seq) from {}").format(table)
                              ).fetchone()
        streaming = new.execute("select application_name from pg_stat_replication "
                                "where state = 'streaming'").fetchall()
        assert streaming == [("rag-db-a1",)]
        # a marker written now must reach the rejoined old primary: it replays the new timeline
        new.execute(sql.SQL("insert into {} (seq, payload) values (-1, 'catch-up marker')"
                            ).format(table))
    with psycopg.connect(host="127.10.3.21", port=15432, user="postgres", dbname="postgres",
                         connect_timeout=3, autocommit=True) as old:
        assert old.execute("select pg_is_in_recovery()").fetchone() == (True,)
        for _ in range(100):
            replayed = old.execute(sql.SQL("select count(*) - 1, max(seq) from {}").format(
                table)).fetchone()
            if replayed == written:
                break
            time.sleep(0.1)
    assert replayed == written, (replayed, written)
