"""The ``promote`` failover mode: the harness itself plays the failover manager. When the
primary has failed every probe for ``after_s`` and no node takes writes, it promotes the
most advanced standby with ``pg_promote()``; it never promotes while any node is writable."""

from __future__ import annotations

import threading
import time

import psycopg

from gameday.dbrecords import DbSample
from gameday.dbwatch import DbWatch, NodeConnection, SocketWatchdog, describe
from gameday.platforms.base import DatabaseInfo
from gameday.records import EventKind, EventLog

__all__ = ["PromoteFailover"]

_PROMOTE_WAIT_S = 10  # pg_promote(wait => true, wait_seconds => 10)
_RETRY_S = 1.0


class PromoteFailover:
    """Watches ``watch``'s samples from ``start()`` to ``stop()``. After a promotion it
    stays quiet until some node has been writable again (one promotion per outage)."""

    def __init__(self, info: DatabaseInfo, watch: DbWatch, events: EventLog, *,
                 after_s: float) -> None:
        self.info = info
        self.after_s = after_s
        self.promoted: list[str] = []  # nodes promoted, in order
        self._watch = watch
        self._events = events
        self._watchdog = SocketWatchdog()
        self._armed = False  # a node was writable since the last promotion (or the start)
        self._writable_s = 0.0  # newest writable sample seen
        self._writable_node = ""
        self._retry_at_s = 0.0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="db-promote", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._watchdog.close()
        if self._thread.is_alive():
            self._thread.join(timeout=1.0)

    def _run(self) -> None:
        tick_s = self._watch.interval_s / 2
        while not self._stopping.wait(tick_s):
            try:
                self._tick()
            except Exception as exc:  # never crash the run; say it once per try
                self._events.emit(EventKind.HARNESS_ERROR, message=f"promote: {describe(exc)}")
                self._stopping.wait(_RETRY_S)

    def _tick(self) -> None:
        latest = self._watch.latest()
        for sample in latest.values():
            if sample.writable and sample.t_s > self._writable_s:
                self._writable_s, self._writable_node = sample.t_s, sample.node
        if self._watch.writable():
            self._armed = True
            return
        now_s = time.time()
        if not self._armed or now_s - self._writable_s < self.after_s or now_s < self._retry_at_s:
            return
        failed = latest.get(self._writable_node)
        if failed is None or failed.up or failed.t_s <= self._writable_s:
            return  # the old primary is not failing its probes: the watch may just lag
        standby = self._candidate(latest, now_s)
        if standby is not None:
            self._promote(standby, failed, now_s - self._writable_s)

    def _candidate(self, latest: dict[str, DbSample], now_s: float) -> DbSample | None:
        """The up standby with the most WAL received (then replayed)."""
        standbys = [s for s in latest.values()
                    if s.up and s.in_recovery and now_s - s.t_s <= self._watch.fresh_s]
        if not standbys:
            return None
        return max(standbys, key=lambda s: (s.receive_lsn or -1, s.lsn or -1))

    def _promote(self, standby: DbSample, failed: DbSample, down_s: float) -> None:
        if self._watch.writable():  # re-checked just before acting
            return
        node = self.info.node(standby.node)
        link = NodeConnection(self.info, node, self._watchdog, timeout_s=_PROMOTE_WAIT_S + 2,
                              application_name="gameday-promote")
        started_s = time.monotonic()
        synchronous = ""
        try:
            (promoted,), = link.execute("SELECT pg_promote(true, %s)", (_PROMOTE_WAIT_S,))
            if promoted:
                synchronous = self._degrade_synchronous(link)
        except (psycopg.Error, TimeoutError, OSError) as exc:
            promoted, error = False, describe(exc)
        else:
            error = "" if promoted else f"pg_promote returned false within {_PROMOTE_WAIT_S} s"
        finally:
            link.close()
        took_s = time.monotonic() - started_s
        if not promoted:
            self._retry_at_s = time.time() + _RETRY_S
            self._events.emit(EventKind.HARNESS_ERROR,
                              message=f"promote {node.name} failed: {error}")
            return
        self._armed = False
        self.promoted.append(node.name)
        self._events.emit(EventKind.DB_PROMOTED, node=node.name, region=node.region,
                          reason=(f"no node writable for {down_s:.3f} s; {failed.node} fails "
                                  f"every probe ({failed.error or 'down'})"),
                          took_s=took_s, receive_lsn=standby.receive_lsn,
                          replay_lsn=standby.lsn, synchronous=synchronous)

    @staticmethod
    def _degrade_synchronous(link: NodeConnection) -> str:
        """A promoted node that waits for a synchronous standby has none (its old primary is
        the one that died): every commit would hang until that node rejoins, and the write RTO
        would measure the rejoin. Degrade to asynchronous, as Patroni's (non-strict)
        synchronous_mode does, and say so."""
        (names,), = link.execute("SELECT current_setting('synchronous_standby_names')")
        if not names:
            return ""
        link.execute("ALTER SYSTEM SET synchronous_standby_names = ''")
        link.execute("SELECT pg_reload_conf()")
        return (f"synchronous_standby_names was {names!r}: set to '' (asynchronous until an "
                "operator restores it)")
