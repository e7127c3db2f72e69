"""The RPO writer against a real primary and its streaming standby: every acknowledged seq is
in the table, a frozen primary times writes out instead of hanging them, the child speaks the
pacer's protocol, and a bad plan exits 2 with one line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from gameday.config import LoadProfile
from gameday.errors import LoadError
from gameday.load import LoadProcess
from gameday.load.writer import WritePlan
from gameday.platforms.base import DatabaseInfo, DbNode
from gameday.records import EventKind, RequestRecord, read_events, read_requests
from tests.pgcluster import Clusters, PgCluster


@pytest.fixture(scope="module")
def clusters() -> Iterator[Clusters]:
    with Clusters() as held:
        yield held


def _plan(cluster: PgCluster, table: str, **overrides: object) -> WritePlan:
    settings: dict[str, object] = {
        "arrival": "constant", "rate_per_s": 200.0, "duration_s": 2.0, "warmup_s": 0.0,
        "timeout_s": 1.0, "connections": 4, "lag_bound_s": 0.05}
    settings.update(overrides)
    regions = {f"{n.host}:{n.port}": n.region for n in cluster.info.nodes}
    return WritePlan(dsn=cluster.info.dsn(), regions=regions, table=table,
                     **settings)  # type: ignore[arg-type]


def _table(cluster: PgCluster, table: str) -> set[int]:
    return {seq for seq, in cluster.sql(cluster.primary, f"SELECT seq FROM {table}")}


def _every_seq_once(plan: WritePlan, records: list[RequestRecord]) -> None:
    assert sorted(r.seq for r in records if r.seq is not None) == list(
        range(plan.schedule().size))


def test_every_acknowledged_write_is_in_the_table_and_was_acknowledged_by_region_a(
        clusters: Clusters, tmp_path: Path) -> None:
    cluster = clusters.intact()
    plan = _plan(cluster, "writes_steady")
    with LoadProcess.start(plan, tmp_path, "writes") as writer:
        t0_s = writer.wait_started(timeout_s=30)
        code = writer.wait(timeout_s=plan.total_s + 30)
    assert code == 0, writer.log_tail()
    records = read_requests(tmp_path)
    _every_seq_once(plan, records)
    assert [r for r in records if not r.ok] == []
    assert {(r.endpoint, r.status, r.region, r.stack) for r in records} == {
        ("write", 0, "region-a", "rag")}
    assert {r.seq for r in records} == _table(cluster, "writes_steady")
    assert all(t0_s - 1e-5 <= r.scheduled_s <= r.start_s + 1e-5 <= r.end_s + 2e-5 for r in records)
    events = [e for e in read_events(tmp_path) if e.detail.get("pid") == writer.pid]
    assert [e.kind for e in events] == [EventKind.LOAD_START, EventKind.WARMUP_END,
                                        EventKind.LOAD_END]
    assert events[-1].detail["ok"] == len(records) and not events[-1].detail["stopped_by"]


def test_writes_to_a_frozen_primary_time_out_instead_of_hanging_and_the_writer_ends_on_time(
        clusters: Clusters, tmp_path: Path) -> None:
    cluster = clusters.intact()
    plan = _plan(cluster, "writes_frozen", rate_per_s=100.0, duration_s=4.0, timeout_s=0.5)
    with LoadProcess.start(plan, tmp_path, "writes") as writer:
        t0_s = writer.wait_started(timeout_s=30)
        time.sleep(max(0.0, t0_s + 1.0 - time.time()))
        with cluster.frozen(cluster.primary) as frozen_s:
            time.sleep(1.5)
            thawed_s = time.time()
        code = writer.wait(timeout_s=plan.total_s + 30)
    assert code == 0, writer.log_tail()
    records = read_requests(tmp_path)
    _every_seq_once(plan, records)
    during = [r for r in records if frozen_s + 0.1 < r.scheduled_s < thawed_s - 0.6]
    assert during and not any(r.ok for r in during)
    assert {r.error_kind for r in during} == {"timeout"}
    slack_s = 0.5
    assert max(r.end_s - r.start_s for r in records) <= plan.timeout_s + slack_s
    assert max(r.start_s - r.scheduled_s for r in records) <= plan.timeout_s + slack_s
    assert {r.seq for r in records if r.ok} <= _table(cluster, "writes_frozen")
    assert any(r.ok for r in records if r.scheduled_s > thawed_s + 1.0)  # it came back
    end = next(e for e in read_events(tmp_path) if e.kind == EventKind.LOAD_END)
    assert end.t_s <= t0_s + plan.total_s + plan.timeout_s + 2.0
    print(f"frozen {thawed_s - frozen_s:.2f} s: {len(during)} writes timed out, "
          f"{end.detail['gave_up']} never found a connection")


def test_a_stopped_writer_logs_why_and_exits_0(clusters: Clusters, tmp_path: Path) -> None:
    cluster = clusters.intact()
    plan = _plan(cluster, "writes_stopped", rate_per_s=50.0, duration_s=30.0)
    with LoadProcess.start(plan, tmp_path, "writes") as writer:
        writer.wait_started(timeout_s=30)
        time.sleep(0.5)
        assert writer.stop() == 0, writer.log_tail()
    end = writer.ended()
    assert end is not None and end.stopped_by == "SIGTERM"
    acked = {r.seq for r in read_requests(tmp_path) if r.ok}
    assert acked and acked <= _table(cluster, "writes_stopped")


def test_the_writer_stops_when_its_parent_is_killed(clusters: Clusters, tmp_path: Path) -> None:
    plan = _plan(clusters.intact(), "writes_orphaned", rate_per_s=20.0, duration_s=60.0)
    parent_code = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from gameday.load import LoadProcess
        from gameday.load.writer import WritePlan
        plan = WritePlan.from_json({plan.to_json()!r})
        writer = LoadProcess.start(plan, Path({str(tmp_path)!r}), "writes")
        writer.wait_started(timeout_s=30)
        print(writer.pid, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE,
                              text=True)
    child: psutil.Process | None = None
    try:
        assert parent.stdout is not None
        child = psutil.Process(int(parent.stdout.readline()))
        parent.send_signal(signal.SIGKILL)
        child.wait(timeout=10)  # psutil.TimeoutExpired if it outlived its parent
    finally:
        parent.kill()
        parent.wait()
        if child is not None and child.is_running():  # leave no writer behind on failure
            child.kill()
    (end,) = [e for e in read_events(tmp_path) if e.kind == EventKind.LOAD_END]
    assert end.detail["stopped_by"] == "parent died"


def _valid_plan_dict() -> dict[str, object]:
    return WritePlan(dsn="host=127.0.0.1,127.0.0.2 port=5432,5432 dbname=x user=y",
                     regions={"127.0.0.1:5432": "region-a"}).to_dict()


@pytest.mark.parametrize(("change", "message"), [
    ({"dsn": "host=127.0.0.1,10.1.2.3 port=1,2 dbname=x"}, "host '10.1.2.3' is not loopback"),
    ({"dsn": "postgresql://db.example.com/x"}, "'db.example.com' is not loopback"),
    ({"rate": 5}, "unknown key(s) ['rate']"),
    ({"connections": "8"}, "field 'connections'"),
    ({"table": "Robert'); DROP TABLE students;--"}, "plan.table"),
])
def test_a_bad_plan_exits_2_with_one_line(tmp_path: Path, change: dict[str, object],
                                          message: str) -> None:
    plan_path = tmp_path / "plan.json"
    plan_path.write_text(json.dumps({**_valid_plan_dict(), **change}))
    done = subprocess.run([sys.executable, "-m", "gameday.load.writer", "--plan",
                           str(plan_path), "--run-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    assert done.stderr.startswith("gameday.load.writer: error: ")


def test_a_plan_from_a_database_profile_aims_at_every_node_with_its_region(
        tmp_path: Path) -> None:
    info = DatabaseInfo(stack="rag", failover="promote", dbname="rag", user="rag", nodes=(
        DbNode("rag-pg-a1", "region-a", "127.10.0.1", 15432),
        DbNode("rag-pg-b1", "region-b", "127.20.0.1", 15432)))
    profile = LoadProfile(target="database", rate_per_s=100, connections=3, timeout_s=3)
    plan = WritePlan.from_profile(profile, info, start_at_s=5.0, table="writes_run_7")
    assert plan.regions == {"127.10.0.1:15432": "region-a", "127.20.0.1:15432": "region-b"}
    assert "target_session_attrs=read-write" in plan.dsn and "connect_timeout=3" in plan.dsn
    assert (plan.connections, plan.rate_per_s, plan.start_at_s, plan.table) == (
        3, 100.0, 5.0, "writes_run_7")
    assert WritePlan.from_json(plan.to_json()) == plan
    with pytest.raises(LoadError, match="only a database target"):
        WritePlan.from_profile(LoadProfile(), info)
