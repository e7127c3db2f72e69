"""The RAG replica's view of PostgreSQL + pgvector: schema, ingest, vector and keyword search,
and the feed of new chunks each replica follows.

Reads go to the first reachable node of ``read_dsn`` (the region's own node first: a standby
serves them, as read replicas do), writes to the primary (``target_session_attrs=read-write``),
so after a failover a region reads what its node holds — and an acknowledged document the
promoted standby never received is visibly gone.

Tables: ``rag_documents`` (one row per document; ``seq`` and ``run_key`` carry the numbered
ingests the RPO audit counts) and ``rag_chunks`` (text, a 384-dim embedding under an HNSW index
with cosine distance, a ``simple`` full-text vector under a GIN index).

A chunk's embedding is NULL while it is pending (the document was stored while the embedder was
down or slow): keyword search finds it at once, vector search once the backfill has embedded it
(``fill_embeddings`` writes the document's chunks again, so every replica's feed sees them).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg_pool import AsyncConnectionPool

from targets.rag.generation import Passage
from targets.rag.settings import EMBEDDING_DIM
from targets.rag.store_pool import AdvisoryLock, Borrow, StoreUnavailable, within
from targets.rag.text import content_words

__all__ = ["ChunkRow", "IngestResult", "Store", "StoreUnavailable", "keyword_query", "to_vector"]

_SCHEMA = f"""
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE IF NOT EXISTS rag_documents (
    doc_id text PRIMARY KEY,
    title text NOT NULL DEFAULT '',
    seq bigint,
    run_key text,
    chunks integer NOT NULL,
    ingested_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS rag_documents_run ON rag_documents (run_key, seq);
CREATE TABLE IF NOT EXISTS rag_chunks (
    id bigserial PRIMARY KEY,
    doc_id text NOT NULL REFERENCES rag_documents ON DELETE CASCADE,
    chunk integer NOT NULL,
    text text NOT NULL,
    embedding vector({EMBEDDING_DIM}),  -- NULL: pending (see above)
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED
);
ALTER TABLE rag_chunks ALTER COLUMN embedding DROP NOT NULL;  -- a store made before pending
CREATE INDEX IF NOT EXISTS rag_chunks_doc ON rag_chunks (doc_id);
CREATE INDEX IF NOT EXISTS rag_chunks_pending ON rag_chunks (doc_id) WHERE embedding IS NULL;
CREATE INDEX IF NOT EXISTS rag_chunks_hnsw ON rag_chunks
    USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);
CREATE INDEX IF NOT EXISTS rag_chunks_tsv ON rag_chunks USING gin (tsv);
"""
_SCHEMA_LOCK = 7_424_001  # pg_advisory_xact_lock key: replicas starting together make it once
_T = TypeVar("_T")
_WRITE_DEADLINES = 5  # an ingest may take this many read deadlines (a commit waits on WAL)
_CANDIDATES = 20  # each side of a hybrid query offers this many to the fusion


@dataclass(frozen=True, slots=True)
class ChunkRow:
    id: int
    doc_id: str
    chunk: int
    text: str
    embedding: npt.NDArray[np.float32] | None  # None: pending


@dataclass(frozen=True, slots=True)
class IngestResult:
    doc_id: str
    chunks: int
    last_chunk_id: int
    replaced: bool  # the document existed and its chunks were replaced
    pending: bool = False  # stored without embeddings (the backfill adds them)


class Store:
    def __init__(self, read_dsn: str, write_dsn: str, *, timeout_s: float,
                 ef_search: int) -> None:
        self._timeout_s = timeout_s
        self._ef_search = ef_search
        self._read = self._pool(read_dsn, "rag-read")
        self._write = self._pool(write_dsn, "rag-write")

    def _pool(self, dsn: str, name: str) -> AsyncConnectionPool:
        # no `check` on borrowing: on a frozen node the check itself hangs, and a check
        # cancelled by the deadline would leak its connection from the pool for good
        return AsyncConnectionPool(dsn, min_size=1, max_size=4, open=False, name=name,
                                   timeout=self._timeout_s, configure=self._configure,
                                   reconnect_timeout=0)

    async def _configure(self, connection: psycopg.AsyncConnection) -> None:
        await connection.execute(
            "SELECT set_config('statement_timeout', %s, false), "
            "set_config('hnsw.ef_search', %s, false)",
            (f"{int(self._timeout_s * 1000)}ms", str(self._ef_search)))
        await connection.commit()

    async def open(self) -> None:
        await self._read.open(wait=False)
        await self._write.open(wait=False)

    async def close(self) -> None:
        await self._read.close()
        await self._write.close()

    async def ensure_schema(self) -> None:
        async with self._writing() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            await connection.execute(_SCHEMA)

    def advisory_lock(self, key: int) -> AdvisoryLock:
        """``async with store.advisory_lock(k) as held``: held is False when another session
        holds it (the caller skips the work, someone else is doing it)."""
        return AdvisoryLock(self._write, key)

    async def document_ids(self) -> set[str]:
        async with self._writing() as connection:
            rows = await (await connection.execute("SELECT doc_id FROM rag_documents")).fetchall()
        return {row[0] for row in rows}

    async def search_vector(self, vector: npt.NDArray[np.float32], k: int) -> list[Passage]:
        text = to_vector(vector)
        # a pending chunk (NULL) is not in the HNSW index; an exact scan sorts it last, with
        # no score: it is left out
        passages = await self._passages(
            "SELECT doc_id, chunk, text, 1 - (embedding <=> %s::vector) FROM rag_chunks "
            "ORDER BY embedding <=> %s::vector LIMIT %s", (text, text, k))
        return [p for p in passages if not math.isnan(p.score)]

    async def search_keyword(self, question: str, k: int) -> list[Passage]:
        query = keyword_query(question)
        if not query:
            return []
        return await self._passages(
            "SELECT doc_id, chunk, text, ts_rank_cd(tsv, q) FROM rag_chunks, "
            "to_tsquery('simple', %s) AS q WHERE tsv @@ q ORDER BY 4 DESC, id LIMIT %s",
            (query, k))

    async def search_hybrid(self, question: str, vector: npt.NDArray[np.float32],
                            k: int) -> tuple[list[Passage], list[Passage]]:
        """The two candidate lists the fusion ranks (vector first)."""
        return (await self.search_vector(vector, max(k, _CANDIDATES)),
                await self.search_keyword(question, max(k, _CANDIDATES)))

    async def _passages(self, sql: str, params: Sequence[object]) -> list[Passage]:
        return await within(self._timeout_s, self._read_passages(sql, params), "retrieval")

    async def _read_passages(self, sql: str, params: Sequence[object]) -> list[Passage]:
        """A retrieval; once more on a fresh connection when the pooled one had died (a node
        that restarted or failed over since it was opened)."""
        for attempt in (1, 2):
            async with self._reading() as connection:
                try:
                    rows = await (await connection.execute(sql, params)).fetchall()
                    break
                except psycopg.OperationalError as exc:
                    if attempt == 2 or not connection.closed:
                        raise StoreUnavailable(f"retrieval failed: {exc}".strip()) from exc
                except psycopg.Error as exc:
                    raise StoreUnavailable(f"retrieval failed: {exc}".strip()) from exc
        return [Passage(doc_id=r[0], chunk=r[1], text=r[2],
                        score=math.nan if r[3] is None else float(r[3])) for r in rows]

    async def ingest(self, doc_id: str, title: str, seq: int | None, run_key: str | None,
                     chunks: Sequence[str],
                     vectors: npt.NDArray[np.float32] | None) -> IngestResult:
        """One transaction: the document row and all its chunks, replacing any before.
        ``vectors`` None: the chunks are stored pending."""
        async def work(connection: psycopg.AsyncConnection) -> IngestResult:
            return await _ingest(connection, doc_id, title, seq, run_key, chunks, vectors)
        return await self._write_deadline(work, "ingest")

    async def pending_documents(self, limit: int) -> list[str]:
        """Documents with chunks whose embedding is pending, oldest first."""
        async def work(connection: psycopg.AsyncConnection) -> list[str]:
            rows = await (await connection.execute(
                "SELECT doc_id FROM rag_chunks WHERE embedding IS NULL GROUP BY doc_id "
                "ORDER BY min(id) LIMIT %s", (limit,))).fetchall()
            return [row[0] for row in rows]
        return await self._write_deadline(work, "finding pending chunks")

    async def document_chunks(self, doc_id: str) -> list[str]:
        async def work(connection: psycopg.AsyncConnection) -> list[str]:
            rows = await (await connection.execute(
                "SELECT text FROM rag_chunks WHERE doc_id = %s ORDER BY chunk",
                (doc_id,))).fetchall()
            return [row[0] for row in rows]
        return await self._write_deadline(work, "reading a document's chunks")

    async def fill_embeddings(self, doc_id: str, chunks: Sequence[str],
                              vectors: npt.NDArray[np.float32]) -> IngestResult | None:
        """The document's chunks written again with their embeddings (new ids: every replica's
        feed sees them and drops what its cache held). None when the document changed since
        ``chunks`` were read (re-ingested or deleted): nothing is written."""
        async def work(connection: psycopg.AsyncConnection) -> IngestResult | None:
            row = await (await connection.execute(
                "SELECT 1 FROM rag_documents WHERE doc_id = %s FOR UPDATE",
                (doc_id,))).fetchone()
            rows = await (await connection.execute(
                "SELECT text, embedding IS NULL FROM rag_chunks WHERE doc_id = %s "
                "ORDER BY chunk", (doc_id,))).fetchall()
            if row is None or [r[0] for r in rows] != list(chunks) \
                    or not any(r[1] for r in rows):
                return None
            await connection.execute("DELETE FROM rag_chunks WHERE doc_id = %s", (doc_id,))
            last_id = await _insert_chunks(connection, doc_id, chunks, vectors)
            return IngestResult(doc_id=doc_id, chunks=len(chunks), last_chunk_id=last_id,
                                replaced=True)
        return await self._write_deadline(work, "filling in embeddings")

    async def _write_deadline(self, work: Callable[[psycopg.AsyncConnection], Awaitable[_T]],
                              what: str) -> _T:
        return await within(self._timeout_s * _WRITE_DEADLINES, self._write_once(work, what),
                             what)

    async def _write_once(self, work: Callable[[psycopg.AsyncConnection], Awaitable[_T]],
                          what: str) -> _T:
        """``work`` in one transaction on the primary; once more on a fresh connection when
        the pooled one had died or now leads to a standby (the node was demoted by a
        switchover or failover since it was opened; nothing was written, so it is safe). Its
        pooled siblings went the same way: the pool is drained, and new connections find the
        primary (``target_session_attrs=read-write``)."""
        for attempt in (1, 2):
            async with self._writing() as connection:
                try:
                    async with connection.transaction():
                        return await work(connection)
                except (psycopg.errors.ReadOnlySqlTransaction, psycopg.OperationalError) as exc:
                    stale = connection.closed or isinstance(
                        exc, psycopg.errors.ReadOnlySqlTransaction)
                    if attempt == 2 or not stale:
                        raise StoreUnavailable(f"{what} failed: {exc}".strip()) from exc
                    await connection.close()
                    await self._write.drain()
                except psycopg.Error as exc:
                    raise StoreUnavailable(f"{what} failed: {exc}".strip()) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def chunks_since(self, after_id: int, limit: int = 2000) -> list[ChunkRow]:
        """Chunks with an id above ``after_id``, oldest first (what a replica has not seen)."""
        return await within(self._timeout_s * _WRITE_DEADLINES,
                             self._read_chunks(after_id, limit), "reading new chunks")

    async def _read_chunks(self, after_id: int, limit: int) -> list[ChunkRow]:
        async with self._reading() as connection:
            try:
                rows = await (await connection.execute(
                    "SELECT id, doc_id, chunk, text, embedding::text FROM rag_chunks "
                    "WHERE id > %s ORDER BY id LIMIT %s", (after_id, limit))).fetchall()
            except psycopg.Error as exc:
                raise StoreUnavailable(f"reading new chunks failed: {exc}".strip()) from exc
        return [ChunkRow(id=r[0], doc_id=r[1], chunk=r[2], text=r[3],
                         embedding=None if r[4] is None else _from_vector(r[4])) for r in rows]

    async def check(self) -> None:
        """One real read (the deep readiness check's store half)."""
        await within(self._timeout_s, self._check(), "store check")

    async def _check(self) -> None:
        async with self._reading() as connection:
            try:
                await connection.execute("SELECT 1 FROM rag_chunks LIMIT 1")
            except psycopg.Error as exc:
                raise StoreUnavailable(f"store check failed: {exc}".strip()) from exc

    def _reading(self) -> Borrow:
        return Borrow(self._read)

    def _writing(self) -> Borrow:
        return Borrow(self._write)


async def _ingest(connection: psycopg.AsyncConnection, doc_id: str, title: str,
                  seq: int | None, run_key: str | None, chunks: Sequence[str],
                  vectors: npt.NDArray[np.float32] | None) -> IngestResult:
    cursor = await connection.execute("DELETE FROM rag_documents WHERE doc_id = %s", (doc_id,))
    replaced = cursor.rowcount > 0
    await connection.execute(
        "INSERT INTO rag_documents (doc_id, title, seq, run_key, chunks) "
        "VALUES (%s, %s, %s, %s, %s)", (doc_id, title, seq, run_key, len(chunks)))
    last_id = await _insert_chunks(connection, doc_id, chunks, vectors)
    return IngestResult(doc_id=doc_id, chunks=len(chunks), last_chunk_id=last_id,
                        replaced=replaced, pending=vectors is None)


async def _insert_chunks(connection: psycopg.AsyncConnection, doc_id: str,
                         chunks: Sequence[str], vectors: npt.NDArray[np.float32] | None) -> int:
    """The chunks' rows (embedding NULL when ``vectors`` is None); the highest id written."""
    last_id = 0
    async with connection.cursor() as cursor:
        await cursor.executemany(
            "INSERT INTO rag_chunks (doc_id, chunk, text, embedding) "
            "VALUES (%s, %s, %s, %s::vector) RETURNING id",
            [(doc_id, index, text, None if vectors is None else to_vector(vectors[index]))
             for index, text in enumerate(chunks)], returning=True)
        while True:
            row = await cursor.fetchone()
            if row is not None:
                last_id = max(last_id, int(row[0]))
            if not cursor.nextset():
                break
    return last_id


def to_vector(vector: npt.NDArray[np.float32]) -> str:
    """pgvector's text form, ``[0.1,0.2,...]``."""
    return "[" + ",".join(f"{value:.7g}" for value in vector.tolist()) + "]"


def _from_vector(text: str) -> npt.NDArray[np.float32]:
    return np.array(text.strip("[]").split(","), dtype=np.float32)


def keyword_query(question: str) -> str:
    """A ``to_tsquery`` OR of the question's words (lower-cased, stopwords out): full-text
    search then ranks by how many of them a chunk holds and how close together."""
    # to_tsquery's own syntax (& | ! : * ( )) cannot get in: content words are [0-9a-z.-]
    terms = [f"'{word}'" for word in dict.fromkeys(content_words(question))]
    return " | ".join(terms)
