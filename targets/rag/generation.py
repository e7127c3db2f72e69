"""What a generator is: the question and the retrieved passages in, the answer out as a stream
of text pieces (tokens). Extractive by default (``targets.rag.extractive``); any
OpenAI-compatible endpoint by configuration (``targets.rag.openai_generator``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["GenerationError", "Generator", "Passage"]


@dataclass(frozen=True, slots=True)
class Passage:
    """One retrieved chunk: which document, which chunk of it, its text, its retrieval score
    (higher is better; cosine similarity for the vector variant, fused RRF for hybrid)."""

    doc_id: str
    chunk: int
    text: str
    score: float


class GenerationError(Exception):
    """The generator could not answer (its endpoint is down, timed out, or answered badly)."""


class Generator(Protocol):
    """One required method. ``stream`` is an async generator: each item is the next piece of
    the answer's text, in order, the pieces concatenated being the answer. A consumer that
    stops early closes the generator (``aclose``): the generator must then stop its work at
    once (close its upstream stream), so a client that disconnected costs nothing more."""

    name: str

    def stream(self, question: str, passages: Sequence[Passage]) -> AsyncIterator[str]: ...
