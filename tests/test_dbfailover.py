"""The ``promote`` failover mode against a real primary and its standby: a killed primary
gets the standby promoted (once), a healthy one never does."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gameday.dbfailover import PromoteFailover
from gameday.dbrecords import read_db_samples
from gameday.dbwatch import DbWatch
from gameday.records import EVENTS_FILE, EventKind, EventLog, read_events
from tests.pgcluster import Clusters, PgCluster


@pytest.fixture(scope="module")
def clusters() -> Iterator[Clusters]:
    with Clusters() as held:
        yield held


def _until(condition: Callable[[], bool], timeout_s: float) -> None:
    deadline_s = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline_s, "condition not met in time"
        time.sleep(0.02)


def _in_recovery(cluster: PgCluster) -> bool:
    return bool(cluster.sql(cluster.standby, "SELECT pg_is_in_recovery()")[0][0])


def _running(cluster: PgCluster, run_dir: Path) -> tuple[DbWatch, PromoteFailover]:
    events = EventLog(run_dir / EVENTS_FILE)
    watch = DbWatch(cluster.info, run_dir, events)
    failover = PromoteFailover(cluster.info, watch, events, after_s=0.3)
    watch.start()
    failover.start()
    _until(lambda: watch.writable() == ["pg-a1"] and "pg-b1" in watch.latest(), 15)
    return watch, failover


def test_a_healthy_primary_is_never_promoted_over(clusters: Clusters, tmp_path: Path) -> None:
    cluster = clusters.intact()
    watch, failover = _running(cluster, tmp_path)
    try:
        time.sleep(1.5)  # five times after_s with the primary answering
    finally:
        failover.stop()
        watch.stop()
    assert failover.promoted == [] and _in_recovery(cluster)
    assert not [e for e in read_events(tmp_path) if e.kind == EventKind.DB_PROMOTED]


def test_a_killed_primary_gets_the_standby_promoted_once(clusters: Clusters,
                                                         tmp_path: Path) -> None:
    cluster = clusters.intact()
    watch, failover = _running(cluster, tmp_path)
    try:
        killed_s = cluster.kill(cluster.primary)
        _until(lambda: watch.writable() == ["pg-b1"], 30)
        settled_s = time.time()
        _until(lambda: watch.latest()["pg-b1"].t_s > settled_s + 0.5, 5)  # time to misbehave
    finally:
        failover.stop()
        watch.stop()
    assert not _in_recovery(cluster)
    promoted = [e for e in read_events(tmp_path) if e.kind == EventKind.DB_PROMOTED]
    assert len(promoted) == 1 and failover.promoted == ["pg-b1"]
    assert (promoted[0].detail["node"], promoted[0].detail["region"]) == ("pg-b1", "region-b")
    assert "pg-a1 fails every probe" in promoted[0].detail["reason"]
    writable_s = next(s.t_s for s in read_db_samples(tmp_path)
                      if s.node == "pg-b1" and s.writable)
    assert promoted[0].t_s - killed_s >= failover.after_s
    print(f"kill -> pg-b1 writable (its own sample) {writable_s - killed_s:.3f} s; "
          f"pg_promote took {promoted[0].detail['took_s']:.3f} s")
    assert writable_s - killed_s < 30
