"""Words as the RAG service counts them: for keyword search, sentence choice and the cache key."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["STOPWORDS", "content_words", "normalise_question", "words"]

# ids such as kestrel-41, eu-west-2 or 16.4 stay one word: they are what a question names
_WORD = re.compile(r"[0-9a-z]+(?:[-.][0-9a-z]+)*")
_STOPWORD_TEXT = (
    "a an and are as at be been by can could did do does for from had has have how i in is it "
    "its me my of on or our please should tell than that the their them then there these this "
    "to us was we were what when where which who whom whose why will with would you your")
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def content_words(text: str) -> list[str]:
    return [word for word in words(text) if word not in STOPWORDS]


def normalise_question(question: str) -> str:
    """The cache key's question: case, spacing, look-alike forms and end punctuation do not
    make two questions different."""
    return " ".join(words(question))
