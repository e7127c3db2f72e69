"""The default generator: extractive. It answers with the retrieved sentence that best matches
the question, streamed word by word at ``token_delay_s`` (the pace of a decoder), and names the
short answer span in it.

Sentence choice: the sentence of the retrieved passages closest to the question in embedding
space (the replica's embedder), plus a small bonus per question word it shares (ids such as
``kestrel-41`` count whole); with no embedder (it is down: a degraded answer) the shared words
alone, ties to the higher-ranked passage. Span: in that sentence, the first run of adjacent
words that the question does not contain and that look like a value (a capital, a digit or a
``%``: "Amber Falcon", "PostgreSQL 16.4", "eu-west-2", "99.95%"), else all the words the
question lacks.
Deterministic, so a stream resumed at position n after a break continues the same answer.
"""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from targets.rag.chunking import split_sentences
from targets.rag.generation import Passage
from targets.rag.text import STOPWORDS, content_words, words

__all__ = ["ExtractiveGenerator", "answer_span", "best_sentence", "sentence_key", "sentences_of",
           "tokens_of"]

_NO_ANSWER = "I could not find that in the documents."
_ID = re.compile(r"\b[A-Za-z]+-\d+\b")
_WORD_BONUS = 0.02  # per shared question word: breaks near-ties towards the literal match
_NAME_BONUS = 0.5  # per name the question asks about: a sentence about another entity loses
Embed = Callable[[Sequence[str]], Awaitable[npt.NDArray[np.float32]]]


class ExtractiveGenerator:
    name = "extractive"

    def __init__(self, token_delay_s: float = 0.0, embed: Embed | None = None,
                 cache_entries: int = 50_000) -> None:
        self._token_delay_s = token_delay_s
        self._embed = embed
        # the corpus's sentences recur across answers: each is embedded once
        self._vectors: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._cache_entries = cache_entries

    def preload(self, vectors: Mapping[str, npt.NDArray[np.float32]]) -> None:
        """Sentence vectors embedded ahead (``make setup``), by ``sentence_key``."""
        for key, vector in vectors.items():
            self._vectors[key] = vector

    def without_embedder(self) -> ExtractiveGenerator:
        """The same generator choosing by shared words alone (the embedder is down)."""
        return ExtractiveGenerator(self._token_delay_s, None)

    async def stream(self, question: str, passages: Sequence[Passage]) -> AsyncIterator[str]:
        sentence = await self._choose(question, passages)
        for index, token in enumerate(tokens_of(sentence)):
            if index and self._token_delay_s:
                await asyncio.sleep(self._token_delay_s)
            yield token


    async def _choose(self, question: str, passages: Sequence[Passage]) -> str:
        candidates = sentences_of(passages)
        if not candidates or self._embed is None:
            return best_sentence(question, passages)
        try:
            vectors = await self._vectors_of([sentence_key(question),
                                              *(sentence_key(text) for text, _ in candidates)])
        except Exception:  # the embedder failed between retrieval and now: words alone
            return best_sentence(question, passages)
        similarity = vectors[1:] @ vectors[0]
        wanted, names = set(content_words(question)), _ids(question)
        scored = [(float(similarity[i]) + _WORD_BONUS * len(wanted & set(content_words(text)))
                   + _NAME_BONUS * len(names & _ids(text)) - i * 1e-9, text)
                  for i, (text, _) in enumerate(candidates)]
        return max(scored)[1]


    async def _vectors_of(self, texts: list[str]) -> npt.NDArray[np.float32]:
        assert self._embed is not None
        missing = list(dict.fromkeys(t for t in texts[1:] if t not in self._vectors))
        fresh = await self._embed([texts[0], *missing])
        for text, vector in zip(missing, fresh[1:], strict=True):
            self._vectors[text] = vector
        rows = [fresh[0]]
        for text in texts[1:]:
            self._vectors.move_to_end(text)
            rows.append(self._vectors[text])
        while len(self._vectors) > self._cache_entries:
            self._vectors.popitem(last=False)
        return np.stack(rows)


def _ids(text: str) -> set[str]:
    return {match.casefold() for match in _ID.findall(text)}


def sentence_key(text: str) -> str:
    """What is embedded for a sentence (and a question): the text without names like
    ``kestrel-41``. Every candidate sentence names the entity the question asks about, so the
    match must rest on what is said about it."""
    return _ID.sub(" ", text)


def sentences_of(passages: Sequence[Passage]) -> list[tuple[str, int]]:
    """Each distinct sentence of the passages with the rank of the first passage holding it
    (overlapping chunks repeat sentences)."""
    seen: dict[str, int] = {}
    for rank, passage in enumerate(passages):
        for sentence in split_sentences(passage.text):
            seen.setdefault(sentence, rank)
    return [(text, rank) for text, rank in seen.items() if text]


def tokens_of(text: str) -> list[str]:
    """The stream's pieces: each word with the space that follows it."""
    parts = text.split(" ")
    return [part + " " for part in parts[:-1]] + [parts[-1]] if parts else []


def best_sentence(question: str, passages: Sequence[Passage]) -> str:
    wanted = set(content_words(question))
    best, best_score = _NO_ANSWER, 0.0
    for rank, passage in enumerate(passages):
        for sentence in split_sentences(passage.text):
            shared = len(wanted & set(content_words(sentence)))
            score = shared + 0.5 / (rank + 1) if shared else 0.0
            if score > best_score:
                best, best_score = sentence.strip(), score
    return best


def answer_span(question: str, sentence: str) -> str:
    asked = set(words(question))
    tokens = [token.strip(",;:()\"'") for token in sentence.rstrip(".!?").split()]
    kept = [(i, t) for i, t in enumerate(tokens)
            if t and not (set(words(t)) <= asked | STOPWORDS)
            and not (i == 0 and t[:1].isupper() and t.isalpha())]  # a sentence's first word
    runs: list[list[str]] = []
    last = -2
    for index, token in kept:
        if not _value_like(token):
            last = -2
            continue
        if index == last + 1:
            runs[-1].append(token)
        else:
            runs.append([token])
        last = index
    if runs:
        return " ".join(runs[0])
    return " ".join(token for _, token in kept)


def _value_like(token: str) -> bool:
    return token[:1].isupper() or any(c.isdigit() for c in token) or "%" in token
