"""The rag benchmark's store, embedded once: the first ``documents`` base documents' chunks
(and the extractive reader's sentences) in fp32 and int8, by ``targets.rag.seed_vectors`` from
the embedder's venv, under ``artifacts/rag/corpus-<documents>/base-<dtype>.npz``. Embedding
~10,000 chunks takes minutes on 2 cores: later runs reuse the files while they still match
what a replica would make of the corpus (else they are rebuilt)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from rag_processes import EMBEDDER_PYTHON, REPO

from gameday.corpus import base_documents
from targets.rag.chunking import chunk_text
from targets.rag.seed_vectors import load_seed, seed_path
from targets.rag.settings import Settings

__all__ = ["CHUNK_WORDS", "DTYPES", "OVERLAP_WORDS", "ensure_vectors"]

DTYPES = ("fp32", "int8")
CHUNK_WORDS = Settings.model_fields["chunk_words"].default
OVERLAP_WORDS = Settings.model_fields["chunk_overlap_words"].default


def ensure_vectors(documents: int) -> dict[str, Any]:
    """The files for both dtypes, built when missing or stale; what was done, and how long."""
    folder = REPO / "artifacts" / "rag" / f"corpus-{documents}"
    chunks = {d.doc_id: chunk_text(d.text, CHUNK_WORDS, OVERLAP_WORDS)
              for d in base_documents(documents)}
    stale = [dtype for dtype in DTYPES if not _matches(seed_path(folder, dtype), chunks)]
    build_s = None
    if stale:
        print(f"embedding {sum(map(len, chunks.values())):,} chunks of {documents:,} documents "
              f"for the rag bench's store ({', '.join(stale)} missing or stale; minutes, once) "
              f"into {folder}", flush=True)
        shutil.rmtree(folder, ignore_errors=True)
        started_s = time.perf_counter()
        subprocess.run([str(EMBEDDER_PYTHON), "-m", "targets.rag.seed_vectors", "--out",
                        str(folder), "--documents", str(documents), "--chunk-words",
                        str(CHUNK_WORDS), "--overlap-words", str(OVERLAP_WORDS)],
                       cwd=REPO, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1",
                                                  "PYTHONPATH": str(REPO)})
        build_s = time.perf_counter() - started_s
        if not all(_matches(seed_path(folder, dtype), chunks) for dtype in DTYPES):
            raise RuntimeError(f"{folder}: the vectors just built do not match the corpus")
    return {"documents": documents, "chunks": sum(map(len, chunks.values())),
            "paths": {dtype: str(seed_path(folder, dtype)) for dtype in DTYPES},
            "built_this_run": bool(stale), "build_s": build_s}


def _matches(path: Path, chunks: dict[str, list[str]]) -> bool:
    """Whether the file holds exactly these documents' chunks (each a vector)."""
    seed = load_seed(path) if path.is_file() else None
    return seed is not None and len(seed.chunks) == len(chunks) and all(
        seed.for_document(doc_id, texts) is not None for doc_id, texts in chunks.items())
