"""The rag benchmark's measurements: bounded closed loops of real requests on loopback (each
worker sends its next request when the last one returned), every call timed by the client
with ``perf_counter``, and the percentiles of those times."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import numpy as np
import numpy.typing as npt
import psycopg

from gameday.corpus import Document, Question, is_relevant
from gameday.load.sse import read_answer_stream
from targets.rag.embedding_client import decode_vectors
from targets.rag.store import keyword_query, to_vector

__all__ = ["Answer", "ask_cell", "bare_query_cell", "embed_one_cell", "embed_throughput",
           "embed_vectors", "ingest", "quality", "summary_ms"]

_T = TypeVar("_T")
_C = TypeVar("_C")
_R = TypeVar("_R")
# as Store.search_vector and Store.search_keyword send them (targets/rag/store.py)
_VECTOR_SQL = ("SELECT doc_id, chunk, text, 1 - (embedding <=> %s::vector) FROM rag_chunks "
               "ORDER BY embedding <=> %s::vector LIMIT %s")
_KEYWORD_SQL = ("SELECT doc_id, chunk, text, ts_rank_cd(tsv, q) FROM rag_chunks, "
                "to_tsquery('simple', %s) AS q WHERE tsv @@ q ORDER BY 4 DESC, id LIMIT %s")
_HYBRID_CANDIDATES = 20  # each side of a hybrid query (store._CANDIDATES)


def closed_loop(items: Sequence[_T], call: Callable[[_C, _T], _R],
                connect: Callable[[], AbstractContextManager[_C]],
                clients: int) -> tuple[list[_R], float]:
    """Each result in item order, and the loop's wall time; at most ``clients`` in flight."""
    results: list[_R | None] = [None] * len(items)
    feed = iter(range(len(items)))
    lock = threading.Lock()

    def worker() -> None:
        with connect() as client:
            while True:
                with lock:
                    index = next(feed, None)
                if index is None:
                    return
                results[index] = call(client, items[index])

    started_s = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(worker) for _ in range(clients)]:
            future.result()  # a worker's exception ends the bench, not a silent gap
    wall_s = time.perf_counter() - started_s
    return [r for r in results if r is not None], wall_s


def _http(timeout_s: float = 30.0) -> Callable[[], httpx.Client]:
    return lambda: httpx.Client(timeout=timeout_s, trust_env=False)


def summary_ms(values_s: Sequence[float]) -> dict[str, float]:
    array = np.asarray(values_s, dtype=float) * 1000
    return {"n": len(values_s), "p50_ms": float(np.percentile(array, 50)),
            "p99_ms": float(np.percentile(array, 99)), "mean_ms": float(array.mean())}


# -- embedding ---------------------------------------------------------------------------
def embed_throughput(url: str, texts: Sequence[str], *, batch: int, clients: int,
                     bulk: bool) -> dict[str, Any]:
    """Texts/s of POST /embed, ``batch`` texts a request (``bulk``: the ingest priority)."""
    priority = "bulk" if bulk else "interactive"

    def call(client: httpx.Client, texts: Sequence[str]) -> float:
        started_s = time.perf_counter()
        client.post(url + "/embed", json={"texts": list(texts), "priority": priority}
                    ).raise_for_status()
        return time.perf_counter() - started_s

    with httpx.Client(trust_env=False, timeout=60) as warm:  # the first calls are slower
        answer = warm.post(url + "/embed", json={"texts": list(texts[:batch])})
        answer.raise_for_status()
    batches = [texts[i:i + batch] for i in range(0, len(texts), batch)]
    times_s, wall_s = closed_loop(batches, call, _http(60), clients)
    return {"dtype": answer.json()["dtype"], "texts": len(texts), "batch": batch,
            "clients": clients, "priority": priority, "texts_per_s": len(texts) / wall_s,
            "request": summary_ms(times_s)}


def embed_vectors(url: str, texts: Sequence[str]) -> npt.NDArray[np.float32]:
    with httpx.Client(trust_env=False, timeout=60) as client:
        parts = []
        for i in range(0, len(texts), 64):
            response = client.post(url + "/embed", json={"texts": list(texts[i:i + 64])})
            response.raise_for_status()
            parts.append(decode_vectors(response.json(), len(texts[i:i + 64])))
    return np.concatenate(parts)


def embed_one_cell(url: str, questions: Sequence[Question], clients: int) -> dict[str, Any]:
    """One question a request, interactive: what an uncached answer waits for (twice)."""
    def call(client: httpx.Client, question: Question) -> float:
        started_s = time.perf_counter()
        client.post(url + "/embed", json={"texts": [question.text]}).raise_for_status()
        return time.perf_counter() - started_s

    times_s, _ = closed_loop(questions, call, _http(), clients)
    return summary_ms(times_s)


# -- ingest ------------------------------------------------------------------------------
def ingest(url: str, documents: Sequence[Document], clients: int) -> dict[str, Any]:
    """POST /documents, one document a request; documents/s and chunks (embeddings)/s."""
    def call(client: httpx.Client, document: Document) -> tuple[float, int]:
        started_s = time.perf_counter()
        response = client.post(url + "/documents", json={
            "doc_id": document.doc_id, "title": document.title, "text": document.text,
            "seq": document.seq, "run_key": "bench"})
        chunks = int(response.json()["chunks"]) if response.status_code == 201 else -1
        return time.perf_counter() - started_s, chunks

    results, wall_s = closed_loop(documents, call, _http(), clients)
    done = [(latency_s, chunks) for latency_s, chunks in results if chunks >= 0]
    chunks = sum(c for _, c in done)
    return {"documents": len(done), "failed": len(results) - len(done), "chunks": chunks,
            "clients": clients, "wall_s": wall_s, "documents_per_s": len(done) / wall_s,
            "chunks_per_s": chunks / wall_s, "request": summary_ms([t for t, _ in done])}


# -- /ask --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Answer:
    done_s: float  # from the request to the stream's done event (its last)
    ttft_s: float | None  # to the first token event
    complete: bool
    cache: str  # hit | miss (the X-Rag-Cache header)
    degraded: str
    sources: tuple[tuple[str, str], ...]  # (doc_id, chunk text), as ranked
    answer: str


def _ask(client: httpx.Client, url: str, question: Question, variant: str, k: int) -> Answer:
    body = {"question": question.text, "user": "bench", "k": k, "variant": variant,
            "stream": True}
    started_s = time.perf_counter()
    with client.stream("POST", url + "/ask", json=body) as response:
        if response.status_code != 200:
            response.read()
            return Answer(time.perf_counter() - started_s, None, False, "", "http", (), "")
        stream = read_answer_stream(response.iter_raw(), clock=time.perf_counter)
        cache = response.headers.get("x-rag-cache", "")
        degraded = response.headers.get("x-rag-degraded", "")
    done_s = time.perf_counter() - started_s
    sources = tuple((str(s["doc_id"]), str(s["text"]))
                    for s in (stream.meta or {}).get("sources", []))
    return Answer(done_s, stream.token_times_s[0] - started_s if stream.token_times_s else None,
                  stream.complete, cache, degraded, sources,
                  str((stream.done or {}).get("answer", "")))


def ask_cell(url: str, questions: Sequence[Question], *, variant: str, clients: int,
             k: int = 5) -> tuple[dict[str, Any], list[Answer]]:
    """Streamed POST /ask for each question, the variant forced; timed to the done event."""
    answers, wall_s = closed_loop(
        questions, lambda client, q: _ask(client, url, q, variant, k), _http(), clients)
    good = [a for a in answers if a.complete and not a.degraded]
    return {"variant": variant, "k": k, "clients": clients, "answers_per_s": len(answers) / wall_s,
            "done": summary_ms([a.done_s for a in good]),
            "ttft": summary_ms([a.ttft_s for a in good if a.ttft_s is not None]),
            "hits": sum(a.cache == "hit" for a in answers),
            "misses": sum(a.cache == "miss" for a in answers),
            "failed_or_degraded": len(answers) - len(good)}, answers


def quality(questions: Sequence[Question], answers: Sequence[Answer]) -> dict[str, float]:
    """recall@k: a gold passage among the sources (``is_relevant``); exact: the answer span is
    the gold answer (casefolded)."""
    recalled = sum(any(is_relevant(q, doc_id, text) for doc_id, text in a.sources)
                   for q, a in zip(questions, answers, strict=True))
    exact = sum(a.answer.casefold() == q.answer.casefold()
                for q, a in zip(questions, answers, strict=True))
    return {"n": len(questions), "recall_at_k": recalled / len(questions),
            "answer_exact": exact / len(questions)}


# -- the bare query, the reference -------------------------------------------------------
def bare_query_cell(dsn: str, questions: Sequence[Question],
                    vectors: npt.NDArray[np.float32], *, variant: str, clients: int,
                    ef_search: int, k: int = 5) -> dict[str, Any]:
    """The retrieval SQL alone from psycopg over the same store and ef_search: top k by
    vector, or (hybrid) the fusion's two candidate lists, vector then full text."""
    items = [(to_vector(vector), keyword_query(q.text))
             for q, vector in zip(questions, vectors, strict=True)]
    read_back: list[str] = []

    def connect() -> psycopg.Connection[Any]:
        conn = psycopg.connect(dsn, autocommit=True)
        conn.execute("SELECT set_config('hnsw.ef_search', %s, false)", (str(ef_search),))
        conn.execute(_VECTOR_SQL, (items[0][0], items[0][0], 1)).fetchall()  # loads pgvector
        row = conn.execute("SHOW hnsw.ef_search").fetchone()
        read_back.append(str(row[0]) if row else "?")
        return conn

    def call(conn: psycopg.Connection[Any], item: tuple[str, str]) -> float:
        vector, terms = item
        started_s = time.perf_counter()
        if variant == "vector":
            conn.execute(_VECTOR_SQL, (vector, vector, k)).fetchall()
        else:
            conn.execute(_VECTOR_SQL, (vector, vector, _HYBRID_CANDIDATES)).fetchall()
            if terms:
                conn.execute(_KEYWORD_SQL, (terms, _HYBRID_CANDIDATES)).fetchall()
        return time.perf_counter() - started_s

    times_s, _ = closed_loop(items, call, connect, clients)
    return {**summary_ms(times_s), "ef_search": sorted(set(read_back))}
