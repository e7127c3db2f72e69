"""A small ``pg_stat_*`` collector for the resource exporter: each database node's role,
commits, inserted rows, backends and, on a primary, each standby's replay lag in bytes.

A node that a fault froze would hold a connect for its whole timeout, longer than a scrape
may take, so a background thread samples every node once a second over its unix socket (out
of band, as the audit does) and a scrape serves the newest sample of each; a sample older
than ``_STALE_S`` is dropped, so a node that stopped answering has no series rather than old
ones (``gameday_pg_up`` 0).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gameday.errors import PlatformError
from gameday.platforms.base import DatabaseInfo
from gameday.platforms.local.database import database_info
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.topology import Topology

__all__ = ["NodeSample", "PgStatsCollector"]

_INTERVAL_S = 1.0
_STALE_S = 3.0
_NODE_LABELS = ("stack", "region", "replica")

_STATS = """
select pg_is_in_recovery(),
       (select coalesce(sum(xact_commit), 0) from pg_stat_database),
       (select coalesce(sum(tup_inserted), 0) from pg_stat_database),
       (select count(*) from pg_stat_activity where backend_type = 'client backend')
"""
_LAG = """
select application_name, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)
from pg_stat_replication where replay_lsn is not null
"""


@dataclass(frozen=True, slots=True)
class NodeSample:
    at_s: float
    in_recovery: bool
    commits: int
    inserted: int
    backends: int
    lag_bytes: dict[str, float] = field(default_factory=dict)


def _sample(info: DatabaseInfo, node: str) -> NodeSample:
    with psycopg.connect(info.node_dsn(node, connect_timeout_s=1,
                                       application_name="gameday-pgstats"),
                         autocommit=True) as conn:
        conn.execute("set statement_timeout = 800")
        row = conn.execute(_STATS).fetchone()
        assert row is not None
        lag: dict[str, float] = {}
        if not row[0]:
            lag = {name: float(diff) for name, diff in conn.execute(_LAG).fetchall()}
        return NodeSample(at_s=time.time(), in_recovery=bool(row[0]), commits=int(row[1]),
                          inserted=int(row[2]), backends=int(row[3]), lag_bytes=lag)


class PgStatsCollector(Collector):
    def __init__(self, home: LocalHome) -> None:
        self.home = home
        self._lock = threading.Lock()
        self._samples: dict[tuple[str, str, str], NodeSample] = {}
        self._nodes: list[tuple[str, str, str]] = []
        threading.Thread(target=self._sample_forever, name="pgstats", daemon=True).start()

    def _databases(self) -> list[DatabaseInfo]:
        topology = Topology.load(self.home)
        if topology is None:
            return []
        found = []
        for stack in topology.request.stacks:
            with contextlib.suppress(PlatformError, KeyError, ValueError):
                found.append(database_info(topology, self.home.root, stack))
        return found

    def _sample_forever(self) -> None:
        while True:
            started_s = time.monotonic()
            try:
                databases = self._databases()
            except PlatformError:
                databases = []
            nodes = [(info, node) for info in databases for node in info.nodes]
            with self._lock:
                self._nodes = [(info.stack, node.region, node.name) for info, node in nodes]
            for info, node in nodes:
                try:
                    sample = _sample(info, node.name)
                except (psycopg.Error, OSError):
                    continue  # no fresh sample: it goes stale and its series go away
                with self._lock:
                    self._samples[(info.stack, node.region, node.name)] = sample
            time.sleep(max(0.05, _INTERVAL_S - (time.monotonic() - started_s)))

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("gameday_pg_up", "1 when the node answered within the last "
                               f"{_STALE_S:g} s", labels=_NODE_LABELS)
        recovery = GaugeMetricFamily("gameday_pg_in_recovery", "pg_is_in_recovery(): 1 on a "
                                     "standby", labels=_NODE_LABELS)
        commits = CounterMetricFamily("gameday_pg_xact_commit", "Committed transactions "
                                      "(pg_stat_database)", labels=_NODE_LABELS)
        inserted = CounterMetricFamily("gameday_pg_tup_inserted", "Rows inserted "
                                       "(pg_stat_database)", labels=_NODE_LABELS)
        backends = GaugeMetricFamily("gameday_pg_backends", "Client backends "
                                     "(pg_stat_activity)", labels=_NODE_LABELS)
        lag = GaugeMetricFamily("gameday_pg_replication_lag_bytes", "A standby's replay lag "
                                "behind this primary (pg_stat_replication)",
                                labels=(*_NODE_LABELS, "standby"))
        now_s = time.time()
        with self._lock:
            nodes = list(self._nodes)
            samples = dict(self._samples)
        for key in nodes:
            labels = list(key)
            sample = samples.get(key)
            fresh = sample is not None and now_s - sample.at_s <= _STALE_S
            up.add_metric(labels, 1.0 if fresh else 0.0)
            if sample is None or not fresh:
                continue
            recovery.add_metric(labels, 1.0 if sample.in_recovery else 0.0)
            commits.add_metric(labels, sample.commits)
            inserted.add_metric(labels, sample.inserted)
            backends.add_metric(labels, sample.backends)
            for standby, diff in sample.lag_bytes.items():
                lag.add_metric([*labels, standby], diff)
        yield from (up, recovery, commits, inserted, backends, lag)
