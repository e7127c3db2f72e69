"""An asynchronous failover loses what the standby had not received, and the service shows
it: a document acknowledged while the standby could not hear the primary is absent from the
promoted store (audited by SQL, as the harness's RPO audit does) and its question cannot be
answered after promotion, while an older document's still can.

It kills the package's primary, so it runs last in this package (``conftest.py``)."""

from __future__ import annotations

import time

import httpx
import pytest

from gameday.corpus import fresh_document, fresh_question, is_relevant
from gameday.dbaudit import audit_writes
from tests.pgcluster import PgCluster
from tests.targets.rag.rag_testing import RAG_PORT, ask_stream, rag_replica

RUN_KEY = "stale1"

pytestmark = pytest.mark.damages_store


def _ingest(url: str, seq: int) -> float:
    document = fresh_document(seq, RUN_KEY)
    response = httpx.post(url + "/documents", timeout=30, json={
        "doc_id": document.doc_id, "title": document.title, "text": document.text,
        "seq": seq, "run_key": RUN_KEY})
    assert response.status_code == 201, response.text
    return time.time()


def _on_standby(cluster: PgCluster, seq: int) -> bool:
    return bool(cluster.sql(cluster.standby, "SELECT 1 FROM rag_documents WHERE run_key = %s "
                                             "AND seq = %s", (RUN_KEY, seq)))


def _cut_replication(cluster: PgCluster, timeout_s: float = 10) -> None:
    """Stop the standby's WAL receiver (no primary to stream from) and wait until the primary
    has no standby streaming. (A SIGSTOPped standby is no cut: the kernel still takes the WAL
    into its socket buffer, and the receiver writes it once thawed.)"""
    cluster.sql(cluster.standby, "ALTER SYSTEM SET primary_conninfo = ''")
    cluster.sql(cluster.standby, "SELECT pg_reload_conf()")
    deadline_s = time.monotonic() + timeout_s
    while cluster.sql(cluster.primary, "SELECT 1 FROM pg_stat_replication"):
        assert time.monotonic() < deadline_s, "the standby kept streaming"
        time.sleep(0.05)


def _answered(url: str, seq: int) -> tuple[bool, str]:
    question = fresh_question(seq, RUN_KEY)
    _, stream = ask_stream(url, question.text, variant="hybrid", user=f"stale-{seq}")
    assert stream.complete and stream.meta is not None, stream.error
    found = any(is_relevant(question, s["doc_id"], s["text"]) for s in stream.meta["sources"])
    return found and question.answer in stream.text, stream.text


def test_a_document_acknowledged_before_the_cut_is_lost_and_unanswerable(
        replica: str, cluster: PgCluster, embedder: str) -> None:
    _ingest(replica, 1)
    deadline_s = time.monotonic() + 10
    while not _on_standby(cluster, 1):
        assert time.monotonic() < deadline_s, "document 1 never reached the standby"
        time.sleep(0.05)
    _cut_replication(cluster)  # the standby hears nothing from here on
    acked_s = _ingest(replica, 2)  # asynchronous: acknowledged by the primary alone
    killed_s = cluster.kill(cluster.primary)
    assert acked_s < killed_s
    cluster.promote(cluster.standby)

    audit = audit_writes(cluster.info, table="rag_documents", run_key=RUN_KEY)
    assert audit.error == "" and audit.node == "pg-b1"
    assert audit.present == (1,)  # seq 2 was acknowledged and is gone: the RPO's loss

    # a replica started after the promotion knows only what the promoted store holds
    with rag_replica(cluster, embedder, port=RAG_PORT + 1, token_delay_s=0) as after:
        answered, text = _answered(after.url, 1)
        assert answered, text
        answered, text = _answered(after.url, 2)
        assert not answered, f"a lost document was answered: {text}"
