"""Ingests while the embedder is down: the document is acknowledged and stored with its
embedding pending, keyword search finds it at once, and a replica whose embedder answers fills
the embedding in (then vector search finds it too). And a write on a pooled connection that
now leads to a read-only node is retried on a fresh one (a switchover demoted the node)."""

from __future__ import annotations

import asyncio
import time

import httpx
import numpy as np
from psycopg_pool import AsyncConnectionPool

from targets.rag.settings import EMBEDDING_DIM
from targets.rag.store import Store
from tests.pgcluster import PgCluster
from tests.targets.rag.rag_testing import RAG_PORT, ask_stream, metric_value, rag_replica

_TEXT = ("Service wombat-12 is run by the Coral Lynx team. "
         "wombat-12 keeps its queue in region-a.")
_NULLS = "SELECT count(*) FROM rag_chunks WHERE doc_id = %s AND embedding IS NULL"


def test_an_ingest_while_the_embedder_is_down_is_stored_pending_then_filled_in(
        cluster: PgCluster, replica: str) -> None:
    backfilled_before = metric_value(replica, "rag_documents_backfilled_total")
    with rag_replica(cluster, "http://127.0.0.1:9", port=RAG_PORT + 3, ready_path="/health",
                     embedder_timeout_s=0.2, ingest_embed_deadline_s=1) as blind:
        response = httpx.post(blind.url + "/documents", timeout=30, json={
            "doc_id": "pending-wombat", "text": _TEXT, "seq": 3, "run_key": "pending"})
        assert response.status_code == 201, response.text
        assert response.headers["x-rag-degraded"] == "embedder"
        assert response.json()["embedding"] == "pending"
        assert metric_value(blind.url, "rag_ingests_total", {"outcome": "pending"}) == 1
        # durable at once: the document row is there for the RPO audit, the chunks without
        # embeddings (unless the other replica has already filled them in)
        assert cluster.sql(cluster.primary, "SELECT seq FROM rag_documents WHERE doc_id = %s",
                           ("pending-wombat",)) == [(3,)]
        # the blind replica answers from its own keyword index, degraded
        _wait(lambda: _answer(blind.url, "hybrid")[1], "the blind replica to answer")
        degraded, text = _answer(blind.url, "hybrid")
        assert degraded == "embedder" and "Coral Lynx" in text
    # the replica with a working embedder embeds it in a backfill round (every 2 s)
    _wait(lambda: cluster.sql(cluster.primary, _NULLS, ("pending-wombat",)) == [(0,)],
          "the backfill")
    assert metric_value(replica, "rag_documents_backfilled_total") == backfilled_before + 1
    _wait(lambda: cluster.sql(cluster.standby, _NULLS, ("pending-wombat",)) == [(0,)]
          and bool(cluster.sql(cluster.standby, "SELECT 1 FROM rag_chunks WHERE doc_id = "
                               "'pending-wombat'")), "the standby to replay the backfill")
    _wait(lambda: "Coral Lynx" in _answer(replica, "vector")[1], "vector search to find it")
    degraded, _ = _answer(replica, "vector")
    assert degraded == ""


def _answer(url: str, variant: str) -> tuple[str, str]:
    response, stream = ask_stream(url, "Which team runs wombat-12?", variant=variant,
                                  user=f"pending-{time.monotonic_ns()}")
    sources = " ".join(s["text"] for s in (stream.meta or {}).get("sources", []))
    return response.headers.get("x-rag-degraded", ""), sources


def _wait(condition: object, what: str, timeout_s: float = 30) -> None:
    assert callable(condition)
    deadline_s = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline_s, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_a_write_on_a_connection_to_a_now_read_only_node_is_retried_on_a_fresh_one(
        cluster: PgCluster) -> None:
    async def scenario() -> tuple[int, set[int], set[int]]:
        dsn = f"{cluster.primary.dsn()} target_session_attrs=read-write"
        store = Store(dsn, dsn, timeout_s=2, ef_search=40)
        await store.open()
        try:
            await store.ensure_schema()
            demoted = await _every_pooled_connection_read_only(store._write)
            vectors = np.zeros((1, EMBEDDING_DIM), np.float32)
            vectors[0, 0] = 1
            result = await store.ingest("read-only-retry", "", None, None, ["a chunk"],
                                        vectors)
            return result.chunks, demoted, await _backends(store._write)
        finally:
            await store.close()

    chunks, demoted, after = asyncio.run(scenario())
    assert chunks == 1 and demoted and not demoted & after
    assert cluster.sql(cluster.primary, "SELECT count(*) FROM rag_chunks "
                       "WHERE doc_id = 'read-only-retry'") == [(1,)]


async def _every_pooled_connection_read_only(pool: AsyncConnectionPool) -> set[int]:
    """Each connection in the pool now behaves as one to a demoted node does; their backends."""
    size = pool.get_stats()["pool_size"]
    connections = [await pool.getconn() for _ in range(size)]
    for connection in connections:
        await connection.execute("SET default_transaction_read_only = on")
        await connection.commit()
    backends = {connection.info.backend_pid for connection in connections}
    for connection in connections:
        await pool.putconn(connection)
    return backends


async def _backends(pool: AsyncConnectionPool) -> set[int]:
    size = pool.get_stats()["pool_size"]
    connections = [await pool.getconn() for _ in range(size)]
    backends = {connection.info.backend_pid for connection in connections}
    for connection in connections:
        await pool.putconn(connection)
    return backends
