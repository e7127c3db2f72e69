"""The base corpus's chunks embedded once, by ``make setup``, so a stand-up seeds the store in
seconds instead of embedding ~1,400 chunks again (all-MiniLM-L6-v2 embeds ~16 such chunks/s
on one core here, ~35/s on two: a minute and more per stand-up).

``python -m targets.rag.seed_vectors --out artifacts/rag`` writes ``base-<dtype>.npz`` for
fp32 and int8: each chunk's document, position, text and vector, and what they were made with
(corpus size, chunk sizes). A replica uses a file only for documents whose chunks it would
make identically; anything else it embeds through its embedder as usual.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from gameday.corpus import base_documents
from targets.rag.chunking import chunk_text, split_sentences
from targets.rag.extractive import sentence_key
from targets.rag.settings import Settings

__all__ = ["SeedVectors", "build", "load_seed", "seed_path"]

_DEFAULT_DOCUMENTS = 400
_DTYPES = ("fp32", "int8")


@dataclass(frozen=True)
class SeedVectors:
    """Chunks and vectors by document id; the extractive reader's sentence vectors by key."""

    chunks: dict[str, list[str]]
    vectors: dict[str, npt.NDArray[np.float32]]
    sentences: dict[str, npt.NDArray[np.float32]]

    def for_document(self, doc_id: str, chunks: Sequence[str]) -> npt.NDArray[np.float32] | None:
        """The document's vectors, if its chunks are exactly the ones embedded."""
        if self.chunks.get(doc_id) != list(chunks):
            return None
        return self.vectors[doc_id]


def seed_path(folder: Path, dtype: str) -> Path:
    return folder / f"base-{dtype}.npz"


def build(folder: Path, *, documents: int, chunk_words: int, overlap_words: int,
          dtypes: Sequence[str] = _DTYPES, threads: int = 2) -> list[Path]:
    from targets.rag.embedding_model import load_encoder  # torch: only when building

    folder.mkdir(parents=True, exist_ok=True)
    rows = [(d.doc_id, i, text) for d in base_documents(documents)
            for i, text in enumerate(chunk_text(d.text, chunk_words, overlap_words))]
    texts = [text for _, _, text in rows]
    keys = list(dict.fromkeys(sentence_key(sentence) for text in texts
                              for sentence in split_sentences(text)))
    written = []
    for dtype in dtypes:
        encode = load_encoder(dtype, threads=threads)  # type: ignore[arg-type]
        path = seed_path(folder, dtype)
        np.savez_compressed(path, doc_ids=np.array([r[0] for r in rows]),
                            positions=np.array([r[1] for r in rows]), texts=np.array(texts),
                            vectors=_embed_all(encode, texts), sentence_keys=np.array(keys),
                            sentence_vectors=_embed_all(encode, keys),
                            meta=np.array([documents, chunk_words, overlap_words]))
        written.append(path)
    return written


def _embed_all(encode: Callable[[Sequence[str]], npt.NDArray[np.float32]],
               texts: Sequence[str]) -> npt.NDArray[np.float32]:
    return np.concatenate([encode(texts[i:i + 64]) for i in range(0, len(texts), 64)]
                          ).astype(np.float32)


def load_seed(path: Path) -> SeedVectors | None:
    """The file's chunks and vectors; None when there is no (readable) file."""
    try:
        with np.load(path, allow_pickle=False) as data:
            doc_ids, positions = data["doc_ids"].tolist(), data["positions"].tolist()
            texts, vectors = data["texts"].tolist(), data["vectors"]
            sentences = dict(zip(data["sentence_keys"].tolist(), data["sentence_vectors"],
                                 strict=True))
    except (OSError, KeyError, ValueError):
        return None
    chunks: dict[str, list[str]] = {}
    rows: dict[str, list[int]] = {}
    for row, (doc_id, position, text) in enumerate(zip(doc_ids, positions, texts, strict=True)):
        if position != len(chunks.setdefault(doc_id, [])):
            return None  # not in order: not a file this module wrote
        chunks[doc_id].append(text)
        rows.setdefault(doc_id, []).append(row)
    return SeedVectors(chunks, {doc_id: vectors[index] for doc_id, index in rows.items()},
                       sentences)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m targets.rag.seed_vectors",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--documents", type=int, default=_DEFAULT_DOCUMENTS)
    parser.add_argument("--chunk-words", type=int,
                        default=Settings.model_fields["chunk_words"].default)
    parser.add_argument("--overlap-words", type=int,
                        default=Settings.model_fields["chunk_overlap_words"].default)
    args = parser.parse_args(argv)
    for path in build(args.out, documents=args.documents, chunk_words=args.chunk_words,
                      overlap_words=args.overlap_words):
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
