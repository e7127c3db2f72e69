"""The RPO audit against a real primary and its standby: it reads what a direct SELECT reads,
on the one node out of recovery, and refuses to choose when there is none or two."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from gameday.dbaudit import audit_writes
from tests.pgcluster import Clusters, PgCluster


@pytest.fixture(scope="module")
def clusters() -> Iterator[Clusters]:
    with Clusters() as held:
        yield held


def _ledger(cluster: PgCluster, table: str, seqs: list[int]) -> None:
    cluster.sql(cluster.primary, f"CREATE TABLE {table} (seq bigint PRIMARY KEY, payload text, "
                                 "sent_at double precision, "
                                 "written_at timestamptz DEFAULT clock_timestamp())")
    cluster.sql(cluster.primary, f"INSERT INTO {table} (seq, payload) "
                                 "SELECT s, 'x' FROM unnest(%s::bigint[]) AS s", (seqs,))


def test_the_audit_finds_on_the_primary_exactly_what_a_direct_select_finds(
        clusters: Clusters) -> None:
    cluster = clusters.intact()
    _ledger(cluster, "audited", [seq for seq in range(500) if seq % 7 and seq not in (11, 12)])
    audit = audit_writes(cluster.info, table="audited")
    assert (audit.error, audit.node, audit.region, audit.table) == (
        "", "pg-a1", "region-a", "audited")
    assert list(audit.present) == [
        seq for seq, in cluster.sql(cluster.primary, "SELECT seq FROM audited ORDER BY seq")]
    assert 13 in audit.present and 11 not in audit.present


def test_the_audit_names_a_missing_table_as_its_error(clusters: Clusters) -> None:
    audit = audit_writes(clusters.intact().info, table="never_written")
    assert audit.node == "pg-a1" and audit.present == ()
    assert "never_written" in audit.error and "UndefinedTable" in audit.error


def test_the_audit_refuses_when_no_node_is_out_of_recovery(clusters: Clusters) -> None:
    cluster = clusters.intact()
    standby_only = replace(cluster.info, nodes=(cluster.standby.node,))
    audit = audit_writes(standby_only, table="audited")
    assert audit.present == () and audit.node == ""
    assert "no node is out of recovery" in audit.error and "pg-b1: standby" in audit.error


def test_the_audit_refuses_to_choose_between_two_writable_nodes(clusters: Clusters) -> None:
    cluster = clusters.intact()
    _ledger(cluster, "split", list(range(10)))
    cluster.promote(cluster.standby)
    audit = audit_writes(cluster.info, table="split")
    assert audit.present == () and audit.node == ""
    assert "2 nodes are out of recovery (split brain)" in audit.error
