"""One RAG replica: the store, the embedder client, the replica's own index and cache, the
generator and the policy (PII redaction, prompt-injection guard), wired together.

The HTTP layer (``targets.rag.app``) only translates; everything an answer or an ingest does
is here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from gameday.corpus import Document, base_documents
from targets.rag.answering import Plan, Retriever
from targets.rag.cache import ResponseCache
from targets.rag.chunking import chunk_text
from targets.rag.embedding_client import Breaker, EmbeddingClient, EmbeddingUnavailable
from targets.rag.extractive import ExtractiveGenerator, answer_span
from targets.rag.generation import Generator
from targets.rag.guard import check_injection
from targets.rag.local_index import LocalIndex
from targets.rag.metrics import RagMetrics
from targets.rag.pii import redact
from targets.rag.retrieval import Variant, assign_variant
from targets.rag.seed_vectors import SeedVectors, load_seed
from targets.rag.settings import Settings
from targets.rag.store import IngestResult, Store, StoreUnavailable
from targets.rag.stream_redaction import StreamRedactor

__all__ = ["Blocked", "IngestIn", "RagService", "Stream"]

_log = logging.getLogger("targets.rag")
_SEED_LOCK = 7_424_002
_BACKFILL_LOCK = 7_424_003  # one replica at a time embeds pending chunks
_BACKFILL_DOCUMENTS = 8  # pending documents read at once
_SEED_BATCH = 16  # documents ingested at once: the embedder batches their chunks


class Blocked(Exception):
    """The prompt-injection guard refused the input."""

    def __init__(self, rule: str, where: str) -> None:
        super().__init__(f"{where} refused by the prompt-injection guard (rule {rule})")
        self.rule = rule


@dataclass(frozen=True, slots=True)
class IngestIn:
    doc_id: str
    text: str
    title: str = ""
    seq: int | None = None
    run_key: str | None = None


@dataclass(slots=True)
class Stream:
    """An answer about to be streamed: its plan, its redactions, and its tokens."""

    plan: Plan
    redacted: dict[str, int]
    tokens: AsyncIterator[str]
    answer: list[str] = field(default_factory=list)  # the span, once the stream completed


class RagService:
    def __init__(self, settings: Settings, generator: Generator | None = None) -> None:
        self.settings = settings
        self.store = Store(settings.read_dsn, settings.write_dsn,
                           timeout_s=settings.store_timeout_s, ef_search=settings.hnsw_ef_search)
        self.breaker = Breaker(settings.embedder_breaker_s)
        self.embedder = EmbeddingClient(settings.embedder_url, breaker=self.breaker,
                                        timeout_s=settings.embedder_timeout_s)
        # ingests carry many chunks, sent at the embedder's low priority
        self._bulk_embedder = EmbeddingClient(settings.embedder_url, breaker=self.breaker,
                                              timeout_s=settings.ingest_timeout_s, bulk=True)
        self.index = LocalIndex()
        self.cache = ResponseCache(ttl_s=settings.cache_ttl_s,
                                   max_entries=settings.cache_entries)
        self.generator = generator or ExtractiveGenerator(settings.token_delay_s,
                                                          self.embedder.embed)
        self.metrics = RagMetrics(lambda: len(self.cache), lambda: len(self.index),
                                  lambda: self.index.watermark, self.breaker)
        self.retriever = Retriever(self.store, self.embedder, self.index, self.cache)
        self._tasks: list[asyncio.Task[None]] = []

    # -- life ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the store, make the schema, seed the base corpus (once, whichever replica gets
        there first) and start following new chunks."""
        await self.store.open()
        await self.store.ensure_schema()
        seed = load_seed(Path(self.settings.seed_vectors)) if self.settings.seed_vectors \
            else None
        if seed is not None and isinstance(self.generator, ExtractiveGenerator):
            self.generator.preload(seed.sentences)
        if self.settings.seed_documents:
            await self._seed(base_documents(self.settings.seed_documents), seed)
        with contextlib.suppress(StoreUnavailable):  # a standby still replaying the schema:
            await self.refresh()                     # the feed catches up in a moment
        self._tasks = [asyncio.create_task(self._follow(), name="rag-chunk-feed"),
                       asyncio.create_task(self._backfill(), name="rag-backfill")]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.embedder.aclose()
        await self._bulk_embedder.aclose()
        await self.store.close()

    async def _seed(self, documents: Sequence[Document], seed: SeedVectors | None) -> None:
        async with self.store.advisory_lock(_SEED_LOCK) as held:
            if not held:
                return  # another replica seeds
            present = await self.store.document_ids()
            missing = [d for d in documents if d.doc_id not in present]
            for first in range(0, len(missing), _SEED_BATCH):
                await asyncio.gather(*(self._seed_one(d, seed)
                                       for d in missing[first:first + _SEED_BATCH]))
            if missing:
                _log.warning("seeded %d base documents (%s)", len(missing),
                             "embedded by make setup" if seed else "embedded now")

    async def _seed_one(self, document: Document, seed: SeedVectors | None) -> None:
        chunks = self._chunks(document.text)
        vectors = seed.for_document(document.doc_id, chunks) if seed else None
        if vectors is None:
            await self.ingest(IngestIn(doc_id=document.doc_id, text=document.text,
                                       title=document.title), defer=False)
            return
        await self.store.ingest(document.doc_id, document.title, None, None, chunks, vectors)

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(self.settings.refresh_s)
            try:
                await self.refresh()
            except StoreUnavailable:
                self.metrics.feed_errors.inc()

    async def _backfill(self) -> None:
        while True:
            await asyncio.sleep(self.settings.backfill_s)
            with contextlib.suppress(StoreUnavailable, EmbeddingUnavailable):
                await self.backfill()

    async def backfill(self) -> int:
        """Embed the chunks of documents stored pending, batch after batch until none is left
        (when no other replica is at it); how many documents were filled in."""
        filled = 0
        async with self.store.advisory_lock(_BACKFILL_LOCK) as held:
            if not held:
                return 0
            while batch := await self.store.pending_documents(_BACKFILL_DOCUMENTS):
                for doc_id in batch:
                    chunks = await self.store.document_chunks(doc_id)
                    vectors = await self._bulk_embedder.embed(chunks)
                    if await self.store.fill_embeddings(doc_id, chunks, vectors) is not None:
                        self.metrics.backfilled.inc()
                        filled += 1
        return filled

    async def refresh(self) -> int:
        """Read the chunks this replica has not seen: index them, drop cached answers they
        could change. How many arrived."""
        arrived = 0
        while rows := await self.store.chunks_since(self.index.watermark):
            self.index.add(rows)
            self.metrics.cache_invalidations.inc(self.cache.invalidate(rows))
            arrived += len(rows)
        return arrived

    # -- ingest -------------------------------------------------------------------------
    async def ingest(self, document: IngestIn, *, defer: bool = True) -> IngestResult:
        """Chunk, embed, store. ``defer``: when the embedder fails or takes longer than
        ``ingest_embed_deadline_s``, the document is stored anyway with its embeddings pending
        (acknowledged and durable, found by keyword search at once; the backfill embeds it)."""
        verdict = check_injection(document.text)
        if verdict.blocked:
            self.metrics.guard_blocks.labels(verdict.rule, "document").inc()
            self.metrics.ingests.labels("blocked").inc()
            raise Blocked(verdict.rule, "document")
        chunks = self._chunks(document.text)
        try:
            vectors = await self._embed_chunks(chunks, defer)
            result = await self.store.ingest(document.doc_id, document.title, document.seq,
                                             document.run_key, chunks, vectors)
        except Exception:
            self.metrics.ingests.labels("failed").inc()
            raise
        outcome = "pending" if result.pending else "replaced" if result.replaced else "ok"
        self.metrics.ingests.labels(outcome).inc()
        self.metrics.chunks_indexed.inc(result.chunks)
        return result

    async def _embed_chunks(self, chunks: Sequence[str],
                            defer: bool) -> npt.NDArray[np.float32] | None:
        if not defer:
            return await self._bulk_embedder.embed(chunks)
        try:
            return await asyncio.wait_for(self._bulk_embedder.embed(chunks),
                                          self.settings.ingest_embed_deadline_s)
        except (EmbeddingUnavailable, TimeoutError) as exc:
            _log.warning("document stored with its embedding pending: %s",
                         exc or "the embedder took too long")
            return None

    def _chunks(self, text: str) -> list[str]:
        return chunk_text(self._redact(text, "document"), self.settings.chunk_words,
                          self.settings.chunk_overlap_words)

    # -- ask ----------------------------------------------------------------------------
    async def ask(self, question: str, *, user: str, k: int, resume_from: int = 0,
                  variant: Variant | None = None) -> Stream:
        verdict = check_injection(question)
        if verdict.blocked:
            self.metrics.guard_blocks.labels(verdict.rule, "question").inc()
            raise Blocked(verdict.rule, "question")
        redaction = redact(question)
        self._count(redaction.counts, "question")
        chosen = variant or assign_variant(user or redaction.text, self.settings.hybrid_share,
                                           self.settings.ab_salt)
        plan = await self.retriever.plan(redaction.text, chosen, k)
        if plan.cached is None:
            self.metrics.retrieval_seconds.labels(chosen).observe(plan.retrieval_s)
        self.metrics.answers.labels(chosen, plan.cache_status, plan.degraded).inc()
        stream = Stream(plan=plan, redacted=dict(redaction.counts), tokens=_empty())
        stream.tokens = self._tokens(redaction.text, stream, resume_from)
        return stream

    async def _tokens(self, question: str, stream: Stream, resume_from: int) -> AsyncIterator[str]:
        plan, produced, complete = stream.plan, [], False
        try:
            if plan.cached is not None:
                pieces: AsyncIterator[str] = _replay(plan.cached.tokens)
            else:
                pieces = self._generate(question, plan)
            async for index, token in _enumerate(pieces):
                produced.append(token)
                if index >= resume_from:
                    self.metrics.tokens.inc()
                    yield token
            complete = True
        finally:
            if not complete:
                self.metrics.streams_cancelled.inc()
            self._finish(question, stream, produced, complete)

    async def _generate(self, question: str, plan: Plan) -> AsyncIterator[str]:
        """The generator's pieces as tokens, PII redacted before they leave (held back only
        while they could be the start of PII: ``StreamRedactor``)."""
        redactor = StreamRedactor(lambda counts: self._count(counts, "answer"))
        generator = self.generator
        if plan.degraded == "embedder" and isinstance(generator, ExtractiveGenerator):
            generator = generator.without_embedder()  # it just failed: do not wait on it again
        async for piece in generator.stream(question, plan.passages):
            for token in redactor.feed(piece):
                yield token
        for token in redactor.finish():
            yield token

    def _finish(self, question: str, stream: Stream, produced: list[str],
                complete: bool) -> None:
        text = "".join(produced).strip()
        plan = stream.plan
        if plan.cached is not None:
            stream.answer.append(plan.cached.answer)
            return
        span = answer_span(question, text) if self.generator.name == "extractive" else text
        stream.answer.append(span)
        if complete and not plan.degraded:
            self.cache.put(plan.key, produced, span, plan.passages, plan.question_vector,
                           plan.similarities)

    def _redact(self, text: str, where: str) -> str:
        redaction = redact(text)
        self._count(redaction.counts, where)
        return redaction.text

    def _count(self, counts: Mapping[str, int], where: str) -> None:
        for kind, count in counts.items():
            self.metrics.redactions.labels(kind, where).inc(count)

    async def check_ready(self) -> None:
        """Deep: one real retrieval, embedding and store both."""
        vector = (await self.embedder.embed(["readiness check"]))[0]
        await self.store.search_vector(vector, 1)


async def _empty() -> AsyncIterator[str]:
    return
    yield  # pragma: no cover


async def _replay(tokens: Sequence[str]) -> AsyncIterator[str]:
    for token in tokens:
        yield token


async def _enumerate(pieces: AsyncIterator[str]) -> AsyncIterator[tuple[int, str]]:
    index = 0
    async for piece in pieces:
        yield index, piece
        index += 1

