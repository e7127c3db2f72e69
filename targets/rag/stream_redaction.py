"""PII redaction of an answer while it streams: words go out as soon as they are known clean.

A token stream cannot be redacted a token at a time (a card number arrives as four groups, an
email as pieces), nor a sentence at a time (the first token would wait for the whole sentence:
that was measured, 46 tokens held for a 3-token read). So whole words are released at once,
except a run of words that could be the start of PII (digits and phone punctuation, an ``@``,
or a short upper-case group as IBANs have): that run is held until a word that cannot continue it
arrives, then the run with its neighbour is redacted as one text and released.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from targets.rag.extractive import tokens_of
from targets.rag.pii import redact

__all__ = ["StreamRedactor"]

# what PII can start with: digits and phone punctuation only ("+44", "(555)", "4111"), anything
# with an "@", or a short upper-case group ("GB82", "WEST": an IBAN); not "kestrel-41"
_RISKY = re.compile(r"^[0-9+().\-/]+[.,;:]?$|@|^[A-Z0-9]{2,4}[.,;:]?$")


class StreamRedactor:
    """``feed`` pieces, get the tokens that may go out now; ``finish`` releases the rest."""

    def __init__(self, count: Callable[[dict[str, int]], None]) -> None:
        self._count = count
        self._pending = ""  # text not yet released: held words and an unfinished word

    def feed(self, piece: str) -> list[str]:
        self._pending += piece
        words = re.split(r"(?<=\s)", self._pending)
        complete, unfinished = words[:-1], words[-1]  # the last word may still grow
        held_from = len(complete)
        while held_from > 0 and _RISKY.search(complete[held_from - 1].strip()):
            held_from -= 1
        if held_from == 0:
            return []  # everything known is (or may be) the start of PII: wait for more
        released = "".join(complete[:held_from])
        self._pending = "".join(complete[held_from:]) + unfinished
        return self._redacted(released)

    def finish(self) -> list[str]:
        released, self._pending = self._pending, ""
        return self._redacted(released) if released else []

    def _redacted(self, text: str) -> list[str]:
        redaction = redact(text)
        if redaction.counts:
            self._count(dict(redaction.counts))
        return [token for token in tokens_of(redaction.text) if token]
