"""What a reader must know to judge a database run's figures, from the suite's database
section: how long a failover can take in this mode (Patroni's ttl floor) and what a failover
can lose with this replication."""

from __future__ import annotations

from gameday.config import DatabaseOptions

__all__ = ["failover_facts"]


def failover_facts(options: DatabaseOptions | None) -> tuple[str, ...]:
    """Who fails the database over and how it replicates, in sentences for the report."""
    if options is None:
        return ("The suite has no database section: failover mode and replication unknown.",)
    if options.failover == "patroni":
        patroni = options.patroni
        failover = (
            f"Failover by Patroni with etcd: leader lock ttl {patroni.ttl} s, loop_wait "
            f"{patroni.loop_wait} s, retry_timeout {patroni.retry_timeout} s. Patroni 4 "
            f"enforces ttl >= 20 s, so a crash of the leader's host fails over in about ttl "
            f"seconds (~{patroni.ttl} s here); a clean stop of Patroni hands over in a few "
            "seconds.")
    else:
        failover = (
            f"Failover by the harness: once the primary has failed every probe for "
            f"{options.promote_after_s:g} s it calls pg_promote() on the standby. Nothing "
            "fences the old primary: if it is only cut off, it can keep taking writes.")
    if options.replication == "async":
        replication = ("Asynchronous replication: a commit is acknowledged before the standby "
                       "has it, so a failover can lose the writes acknowledged within the "
                       "replication lag.")
    elif options.synchronous_commit in ("local", "off"):
        replication = (f"Synchronous standby, but synchronous_commit = "
                       f"{options.synchronous_commit}: commits do not wait for it, so a "
                       "failover can lose acknowledged writes as with async replication.")
    else:
        replication = (f"Synchronous replication (synchronous_commit = "
                       f"{options.synchronous_commit}): a commit is acknowledged only once "
                       "the standby has it, so a failover to it loses no acknowledged write.")
        if options.failover == "promote":
            replication += (" Once promoted, the new primary has no standby to wait for: the "
                            "harness sets its synchronous_standby_names to '' (as Patroni's "
                            "non-strict synchronous_mode does), so it takes writes at once, "
                            "unprotected until a standby is back.")
    return failover, replication
