"""Benchmark: the rag stack (issue 7) on this machine's cores, each figure beside a reference
measured in the same run.

1. embedding: texts/s of the embedding server (``EMBEDDER_THREADS=2``), fp32 and int8 on the
   same chunk texts, in requests of 64 (a full batch) and of 4 at bulk priority (what an
   ingest sends);
2. ingest: documents/s and chunks (embeddings)/s through ``POST /documents`` (4 clients) into
   the full store, against the embedder's own texts/s from 1;
3. the store: 3,000 base documents (10,417 chunks) per dtype, seeded by the replica from
   vectors embedded once and kept under ``artifacts/rag/corpus-3000/`` (``rag_vectors``);
4. ``/ask`` at k 5, streamed, timed to the done event (and to the first token): p50/p99 for
   fp32 and int8 (a replica, an embedder and a database each), vector and hybrid (forced in
   the body), uncached (each question's first asking) and cached (the same questions again:
   response-cache hits); references: the bare retrieval SQL from psycopg over the same store
   at the same ef_search, and one ``POST /embed`` of a question;
5. quality beside speed: recall@5 and exact answers of the uncached answers, fp32 vs int8.

Everything on 127.77.0.1 in a temporary home, torn down at the end. Run alone:
``python bench/rag.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # targets.rag, from the checkout

import httpx
import psycopg
from rag_measure import (
    ask_cell,
    bare_query_cell,
    embed_one_cell,
    embed_throughput,
    embed_vectors,
    ingest,
    quality,
)
from rag_processes import Postgres, Server, embedder, replica
from rag_vectors import CHUNK_WORDS, DTYPES, OVERLAP_WORDS, ensure_vectors

from gameday.corpus import Question, base_documents, base_questions, fresh_document
from targets.rag.chunking import chunk_text
from targets.rag.retrieval import VARIANTS

__all__ = ["main"]

_EMBEDDER_PORTS = {"fp32": 28771, "int8": 28772}
_REPLICA_PORTS = {"fp32": 28781, "int8": 28782}
_EF_SEARCH = 40  # the service's default (Settings.hnsw_ef_search)


@dataclass(frozen=True)
class Plan:
    documents: int = 3000  # 10,417 chunks
    asks: int = 300  # per cell
    warmup: int = 20  # unmeasured asks per variant, before the cells
    clients: int = 2  # /ask and the references
    embed_texts: int = 512
    ingest_documents: int = 160
    ingest_clients: int = 4


_QUICK = Plan(asks=100, warmup=10, embed_texts=192, ingest_documents=40)


def main(quick: bool = False) -> dict[str, Any]:
    plan = _QUICK if quick else Plan()
    started_s = time.perf_counter()
    figures: dict[str, Any] = {"plan": asdict(plan), "quick": quick,
                               "timing": "streamed /ask; done = to the done event (the last), "
                                         "ttft = to the first token event; client clock"}
    figures["store"] = ensure_vectors(plan.documents)  # before any server: it takes the cores
    home = Path(tempfile.mkdtemp(prefix="gameday-bench-rag-"))
    home.chmod(0o755)
    postgres = Postgres(home)
    servers: list[Server] = []
    try:
        figures["store"]["postgres_up_s"] = postgres.start()
        embedders = {dtype: embedder(dtype, _EMBEDDER_PORTS[dtype], home) for dtype in DTYPES}
        servers.extend(server.start() for server in embedders.values())
        for server in embedders.values():
            server.wait_ready()
        figures["embedding"] = _embedding(embedders, plan)
        questions = _questions(plan)
        for dtype in DTYPES:
            figures[dtype] = _replica_run(dtype, postgres, embedders[dtype], questions,
                                          figures["store"]["paths"][dtype], plan, home, servers)
    finally:
        for server in reversed(servers):
            server.stop()
        postgres.stop()
        shutil.rmtree(home, ignore_errors=True)
    figures["ratios"] = _ratios(figures)
    figures["elapsed_s"] = time.perf_counter() - started_s
    print(f"ratios {json.dumps(figures['ratios'])}", flush=True)
    return figures


def _embedding(embedders: dict[str, Server], plan: Plan) -> dict[str, Any]:
    """The same chunk texts through each dtype's server, full batches and ingest-sized."""
    texts: list[str] = []
    seq = 0
    while len(texts) < plan.embed_texts:
        texts += chunk_text(fresh_document(seq, "bench-embed").text, CHUNK_WORDS,
                            OVERLAP_WORDS)
        seq += 1
    texts = texts[:plan.embed_texts]
    result: dict[str, Any] = {}
    for dtype, server in embedders.items():
        result[dtype] = {
            "batch64": embed_throughput(server.url, texts, batch=64, clients=2, bulk=False),
            "bulk4": embed_throughput(server.url, texts, batch=4, clients=2, bulk=True)}
        print(f"embedding {dtype}: {json.dumps(result[dtype])}", flush=True)
    return result


@dataclass(frozen=True)
class _Questions:
    warmup: list[Question]
    by_variant: dict[str, list[Question]]  # disjoint: no answer of one is cached for another


def _questions(plan: Plan) -> _Questions:
    pool = base_questions(base_documents(plan.documents))
    random.Random(7).shuffle(pool)
    cells, warm = plan.asks, plan.warmup
    return _Questions(pool[:warm], {variant: pool[warm + i * cells:warm + (i + 1) * cells]
                                    for i, variant in enumerate(VARIANTS)})


def _replica_run(dtype: str, postgres: Postgres, embedder_server: Server,
                 questions: _Questions, vectors_path: str, plan: Plan, home: Path,
                 servers: list[Server]) -> dict[str, Any]:
    """A database and a replica for this dtype: the store seeded, the /ask cells, their
    references, and (fp32) the ingest after them, so both stores are the same when asked."""
    dsn = postgres.create_database(f"rag_{dtype}")
    server = replica(f"rag-{dtype}", _REPLICA_PORTS[dtype], home, dsn=dsn,
                     embedder_url=embedder_server.url, seed_documents=plan.documents,
                     seed_vectors=Path(vectors_path), python=sys.executable)
    servers.append(server.start())
    result: dict[str, Any] = {"replica_up_s": server.wait_ready()}  # seeding included
    result["chunks"] = _wait_indexed(server.url, dsn)
    for variant in VARIANTS:
        ask_cell(server.url, questions.warmup, variant=variant, clients=plan.clients)
    for name, asked in questions.by_variant.items():
        uncached, answers = ask_cell(server.url, asked, variant=name, clients=plan.clients)
        cached, _ = ask_cell(server.url, asked, variant=name, clients=plan.clients)
        vectors = embed_vectors(embedder_server.url, [q.text for q in asked])
        bare = bare_query_cell(dsn, asked, vectors, variant=name, clients=plan.clients,
                               ef_search=_EF_SEARCH)
        result[name] = {"uncached": uncached, "cached": cached, "bare_query": bare,
                           "quality": quality(asked, answers)}
        print(f"{dtype} {name}: {json.dumps(result[name])}", flush=True)
    result["embed_one"] = embed_one_cell(embedder_server.url, questions.by_variant["vector"],
                                         plan.clients)
    if dtype == "fp32":
        documents = [fresh_document(seq, "bench") for seq in range(plan.ingest_documents)]
        result["ingest"] = ingest(server.url, documents, plan.ingest_clients)
        print(f"{dtype} ingest: {json.dumps(result['ingest'])}", flush=True)
    server.stop()
    return result


def _wait_indexed(url: str, dsn: str, timeout_s: float = 120) -> int:
    """Until the replica's own index (its feed) holds every chunk of the store; how many."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*), coalesce(max(id), 0) FROM rag_chunks").fetchone()
    assert row is not None
    count, newest = int(row[0]), int(row[1])
    deadline_s = time.monotonic() + timeout_s
    while time.monotonic() < deadline_s:
        metrics = httpx.get(url + "/metrics", timeout=5, trust_env=False).text
        seen = next((float(line.split()[1]) for line in metrics.splitlines()
                     if line.startswith("rag_index_version ")), 0.0)
        if seen >= newest:
            return count
        time.sleep(0.2)
    raise RuntimeError(f"the replica's index did not reach chunk {newest} in {timeout_s:g} s")


def _ratios(figures: dict[str, Any]) -> dict[str, float]:
    embedding, fp32 = figures["embedding"], figures["fp32"]
    ratios = {
        "embed_int8_vs_fp32_batch64": embedding["int8"]["batch64"]["texts_per_s"]
        / embedding["fp32"]["batch64"]["texts_per_s"],
        "embed_int8_vs_fp32_bulk4": embedding["int8"]["bulk4"]["texts_per_s"]
        / embedding["fp32"]["bulk4"]["texts_per_s"],
        "ingest_vs_embed_batch64": fp32["ingest"]["chunks_per_s"]
        / embedding["fp32"]["batch64"]["texts_per_s"],
        "ingest_vs_embed_bulk4": fp32["ingest"]["chunks_per_s"]
        / embedding["fp32"]["bulk4"]["texts_per_s"],
    }
    for dtype in DTYPES:
        for variant in VARIANTS:
            cell = figures[dtype][variant]
            uncached, cached = cell["uncached"]["done"], cell["cached"]["done"]
            name = f"{dtype}_{variant}"
            ratios[f"{name}_uncached_vs_bare_p50"] = uncached["p50_ms"] / \
                cell["bare_query"]["p50_ms"]
            ratios[f"{name}_uncached_vs_bare_p99"] = uncached["p99_ms"] / \
                cell["bare_query"]["p99_ms"]
            ratios[f"{name}_uncached_vs_embed_one_p50"] = uncached["p50_ms"] / \
                figures[dtype]["embed_one"]["p50_ms"]
            ratios[f"{name}_cached_vs_uncached_p50"] = cached["p50_ms"] / uncached["p50_ms"]
        ratios[f"{dtype}_hybrid_vs_vector_uncached_p50"] = (
            figures[dtype]["hybrid"]["uncached"]["done"]["p50_ms"]
            / figures[dtype]["vector"]["uncached"]["done"]["p50_ms"])
    for variant in VARIANTS:
        ratios[f"int8_vs_fp32_{variant}_uncached_p50"] = (
            figures["int8"][variant]["uncached"]["done"]["p50_ms"]
            / figures["fp32"][variant]["uncached"]["done"]["p50_ms"])
    return ratios


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer requests, rougher figures")
    print(json.dumps(main(quick=parser.parse_args().quick), indent=1))
