"""Splits a document into overlapping chunks of whole sentences, the unit that is embedded and
retrieved.

A chunk holds as many whole sentences as fit in ``size_words`` words; the next chunk starts
with the last sentences of the one before that hold at least ``overlap_words`` words, so a
fact near a boundary is whole in one chunk and its context in both. A sentence longer than
``size_words`` on its own is cut into word windows. Whitespace is normalised to single spaces.
Whole sentences matter to the extractive generator: it answers with a sentence, never half.
"""

from __future__ import annotations

import re

__all__ = ["chunk_text", "split_sentences"]

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def split_sentences(text: str) -> list[str]:
    return [s for s in (" ".join(p.split()) for p in _SENTENCE_END.split(text)) if s]


def chunk_text(text: str, size_words: int, overlap_words: int) -> list[str]:
    if size_words < 1 or not 0 <= overlap_words < size_words:
        raise ValueError(f"need size_words >= 1 and 0 <= overlap_words < size_words, got "
                         f"{size_words} and {overlap_words}")
    sentences = [piece for s in split_sentences(text) for piece in _fit(s, size_words)]
    chunks: list[str] = []
    start = 0
    while start < len(sentences):
        end, words = start, 0
        while end < len(sentences) and (end == start or words + _length(sentences[end])
                                        <= size_words):
            words += _length(sentences[end])
            end += 1
        chunks.append(" ".join(sentences[start:end]))
        if end == len(sentences):
            break
        start = _overlap_start(sentences, start, end, overlap_words)
    return chunks


def _overlap_start(sentences: list[str], start: int, end: int, overlap_words: int) -> int:
    """Where the next chunk begins: back from ``end`` until ``overlap_words`` are covered,
    but always past ``start`` (each chunk moves on by at least one sentence)."""
    begin, covered = end, 0
    while begin - 1 > start and covered < overlap_words:
        begin -= 1
        covered += _length(sentences[begin])
    return begin


def _fit(sentence: str, size_words: int) -> list[str]:
    words = sentence.split()
    return [" ".join(words[i:i + size_words]) for i in range(0, len(words), size_words)]


def _length(sentence: str) -> int:
    return sentence.count(" ") + 1
