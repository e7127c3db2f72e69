"""The database watch against a real primary and its streaming standby: who takes writes,
replication as the primary reports it, a frozen node that delays no other, and the two
writable nodes of a promoted standby (the split-brain ground truth)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gameday.dbrecords import DbSample, read_db_samples, read_replication_samples
from gameday.dbwatch import DbWatch
from gameday.records import EVENTS_FILE, EventKind, EventLog, read_events
from tests.pgcluster import Clusters, PgCluster


@pytest.fixture(scope="module")
def clusters() -> Iterator[Clusters]:
    with Clusters() as held:
        yield held


def _until(condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline_s = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline_s, "condition not met in time"
        time.sleep(0.05)


def _watching(cluster: PgCluster, run_dir: Path) -> DbWatch:
    watch = DbWatch(cluster.info, run_dir, EventLog(run_dir / EVENTS_FILE))
    watch.start()
    _until(lambda: set(watch.latest()) == {"pg-a1", "pg-b1"})
    return watch


def _of(samples: list[DbSample], node: str) -> list[DbSample]:
    return [s for s in samples if s.node == node]


def test_the_primary_takes_writes_the_standby_does_not_and_replication_shows_it_streaming(
        clusters: Clusters, tmp_path: Path) -> None:
    cluster = clusters.intact()
    watch = _watching(cluster, tmp_path)
    try:
        _until(lambda: watch.writable() == ["pg-a1"])
        _until(lambda: bool(read_replication_samples(tmp_path)))
    finally:
        watch.stop()
    samples = read_db_samples(tmp_path)
    primary, standby = _of(samples, "pg-a1"), _of(samples, "pg-b1")
    assert primary and all(s.up and s.writable and s.in_recovery is False for s in primary)
    assert standby and all(s.up and not s.writable and s.in_recovery for s in standby)
    assert {(s.region, s.timeline) for s in primary} == {("region-a", 1)}
    assert all(s.lsn is not None and s.receive_lsn is not None for s in standby)
    assert all(s.receive_lsn is None for s in primary)
    replication = read_replication_samples(tmp_path)
    assert {(r.primary, r.standby, r.state, r.sync_state) for r in replication} == {
        ("pg-a1", "pg-b1", "streaming", "async")}
    assert all(r.replay_lag_bytes is not None and r.replay_lag_bytes >= 0 for r in replication)
    assert not [e for e in read_events(tmp_path) if e.kind == EventKind.DB_WATCH_FAILED]


def test_a_frozen_standby_is_sampled_down_while_the_primary_keeps_answering(
        clusters: Clusters, tmp_path: Path) -> None:
    cluster = clusters.intact()
    watch = _watching(cluster, tmp_path)
    try:
        with cluster.frozen(cluster.standby) as frozen_s:
            _until(lambda: not watch.latest()["pg-b1"].up)
            time.sleep(1.0)
            thawed_s = time.time()
        _until(lambda: watch.latest()["pg-b1"].up)
    finally:
        watch.stop()
    samples = read_db_samples(tmp_path)
    standby_down = [s for s in _of(samples, "pg-b1") if not s.up]
    assert standby_down and all(frozen_s < s.t_s for s in standby_down)
    assert all(s.error and not s.writable for s in standby_down)
    assert "no answer within 0.5 s" in standby_down[0].error
    primary_meanwhile = [s for s in _of(samples, "pg-a1") if frozen_s < s.t_s < thawed_s]
    assert len(primary_meanwhile) >= 3 and all(s.writable for s in primary_meanwhile)


class _PatroniApi(BaseHTTPRequestHandler):
    """Patroni's REST API as far as the watch asks it: ``GET /patroni``."""

    def do_GET(self) -> None:
        body = json.dumps({"state": "running", "role": "primary"}).encode()
        self.send_response(200 if self.path == "/patroni" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_patroni_s_role_is_carried_into_the_samples_of_the_members_that_have_an_api(
        clusters: Clusters, tmp_path: Path) -> None:
    cluster = clusters.intact()
    api = ThreadingHTTPServer(("127.0.0.1", 0), _PatroniApi)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    primary = replace(cluster.primary.node,
                      patroni_url=f"http://127.0.0.1:{api.server_address[1]}")
    info = replace(cluster.info, nodes=(primary, cluster.standby.node))
    watch = DbWatch(info, tmp_path, EventLog(tmp_path / EVENTS_FILE))
    watch.start()
    try:
        _until(lambda: watch.latest().get("pg-a1", _NO_SAMPLE).role == "primary")
        _until(lambda: "pg-b1" in watch.latest())
    finally:
        watch.stop()
        api.shutdown()
        api.server_close()
    assert watch.latest()["pg-b1"].role == ""


_NO_SAMPLE = DbSample(t_s=0.0, node="", region="", up=False, writable=False)


def test_a_promoted_standby_and_the_old_primary_both_take_writes_in_the_samples(
        clusters: Clusters, tmp_path: Path) -> None:
    cluster = clusters.intact()
    watch = _watching(cluster, tmp_path)
    try:
        _until(lambda: watch.writable() == ["pg-a1"])
        promoted_s = time.time()
        cluster.promote(cluster.standby)
        _until(lambda: sorted(watch.writable()) == ["pg-a1", "pg-b1"])
        seen_s = watch.latest()["pg-b1"].t_s
        _until(lambda: watch.latest()["pg-a1"].t_s > seen_s)
    finally:
        watch.stop()
    samples = read_db_samples(tmp_path)
    first_b1 = next(s for s in _of(samples, "pg-b1") if s.writable)
    assert first_b1.t_s > promoted_s and first_b1.in_recovery is False
    assert all(s.in_recovery for s in _of(samples, "pg-b1") if s.t_s < promoted_s)
    # both accept writes at the same instant: the old primary's samples around it say so
    assert any(s.writable and s.t_s > first_b1.t_s for s in _of(samples, "pg-a1"))
