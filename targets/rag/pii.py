"""PII redaction for the RAG service: IBANs, payment cards, emails and phone numbers in a
question, a document or an answer become the fixed placeholders ``[IBAN]``, ``[CARD]``,
``[EMAIL]`` and ``[PHONE]``, and the result says how many of each it replaced.

Precision comes first: an answer full of false redactions is a broken answer, and the corpus is
full of versions (3.2.7), ports (8443), dates (2026-03-14), incident ids (INC-000123), hostnames
and IPs. So every kind is a shape *and* a check:

- IBAN: the country's registered length and the ISO 13616 mod-97 check.
- card: Luhn, a first digit of 2-6 (Mastercard, Visa, Amex, Discover, JCB, UnionPay: this keeps
  13-digit millisecond and 19-digit nanosecond epoch timestamps, which start with 1, out), and
  either no separators or the layouts printed on cards (4-4-4-4, 4-4-4-4-3, Amex 4-6-5, Diners
  4-6-4), one separator kind throughout. Digits joined on to more digits by a dash, or a
  grouped number continued by another group with the same separator, are a longer run, not a
  card.
- email: local@domain.tld with a letter TLD; a private-use or host-only name (``.internal``,
  ``.local``, ``localhost``) is an ssh target such as root@kestrel-41.region-a.internal in a
  runbook, not someone's address, so it is kept.
- phone: ``+country`` numbers of 7-15 digits (9 at least without separators), North American
  ``(555) 123-4567`` / ``555-123-4567`` / ``555.123.4567`` and trunk-0 national numbers of 10-11
  digits (``020 7946 0958``, ``01 23 45 67 89``). Bare digit runs are never phones: without
  separators a phone is indistinguishable from an id.

Matching runs on the NFKC form, so full-width digits and ``＠`` are caught; the returned text is
that NFKC form with placeholders. Every pattern is anchored by a look-behind or uses possessive
repeats, so a 100 KB adversarial string is linear work.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["PII_KINDS", "Redaction", "redact"]

PII_KINDS = ("email", "phone", "card", "iban")

_PLACEHOLDERS = {kind: f"[{kind.upper()}]" for kind in PII_KINDS}


@dataclass(frozen=True, slots=True)
class Redaction:
    """The redacted text and what was taken out of it."""

    text: str
    counts: Mapping[str, int]  # kind -> redactions, only kinds found (empty when none)

    @property
    def found(self) -> bool:
        return bool(self.counts)


def redact(text: str) -> Redaction:
    normal = unicodedata.normalize("NFKC", text)
    counts: dict[str, int] = {}
    for kind, hint, pattern, replace in _DETECTORS:
        if hint.search(normal) is None:  # most text has no '@' or no digit: skip the pass
            continue
        normal, found = _substitute(pattern, replace, normal)
        if found:
            counts[kind] = found
    ordered = {kind: counts[kind] for kind in PII_KINDS if kind in counts}
    return Redaction(normal, MappingProxyType(ordered))


# A replacer gets one candidate match and returns its replacement and how many it redacted.
_Replacer = Callable[[re.Match[str]], tuple[str, int]]


def _substitute(pattern: re.Pattern[str], replace: _Replacer, text: str) -> tuple[str, int]:
    total = 0

    def one(match: re.Match[str]) -> str:
        nonlocal total
        new, found = replace(match)
        total += found
        return new

    return pattern.sub(one, text), total


# --- IBAN ------------------------------------------------------------------------------------

# ISO 13616 registry: country -> IBAN length. A length check rejects far more look-alikes
# (hashes, part numbers) than mod-97 alone, which passes one random string in 97.
_IBAN_REGISTRY = (
    "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 "
    "DK18 DO28 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 "
    "IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 "
    "MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24 SC31 "
    "SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30")
_IBAN_LENGTHS = {country: int(length)
                 for country, length in re.findall(r"([A-Z]{2})([0-9]{2})", _IBAN_REGISTRY)}

# The look-behind comes after the first characters so that the scan can skip to a letter.
_IBAN = re.compile(
    r"[A-Z]{2}[0-9]{2}(?<![0-9A-Z][A-Z]{2}[0-9]{2})"
    r"(?:[0-9A-Z]{11,30}|(?: [0-9A-Z]{4}){2,7}(?: [0-9A-Z]{1,3})?)"
    r"(?![0-9A-Z])", re.IGNORECASE)


def _iban(match: re.Match[str]) -> tuple[str, int]:
    # The grouped form may run on into a following word of four letters ("... 7034 then"), so
    # the IBAN is the registered length's worth of characters, ending at a group boundary.
    raw = match.group()
    length = _IBAN_LENGTHS.get(raw[:2].upper())
    if length is None:
        return raw, 0
    end, kept = 0, 0
    while kept < length and end < len(raw):
        kept += raw[end] != " "
        end += 1
    compact = raw[:end].replace(" ", "").upper()
    if kept < length or raw[end:end + 1] not in ("", " ") or not _mod97_is_one(compact):
        return raw, 0
    return _PLACEHOLDERS["iban"] + raw[end:], 1


def _mod97_is_one(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


# --- cards -----------------------------------------------------------------------------------

# A whole run of digit groups joined by single spaces or dashes, starting at its first digit,
# and only runs holding 13 digits or more (most runs are short: they never reach Python).
_DIGIT_RUN = re.compile(
    r"[0-9](?<![0-9]{2})(?<![0-9][ -][0-9])(?=(?:[ -]?[0-9]){12})[0-9]*(?:[ -][0-9]+)*")
_DIGITS = re.compile(r"[0-9]+")
_CARD_LAYOUTS = ((4, 4, 4, 4, 3), (4, 4, 4, 4), (4, 6, 5), (4, 6, 4))


@dataclass(frozen=True, slots=True)
class _Run:
    """A digit run cut into its groups: ``spans[i]`` in the run, ``seps[i]`` after group i."""

    text: str
    spans: list[tuple[int, int]]
    seps: list[str]

    def group(self, i: int) -> str:
        return self.text[self.spans[i][0]:self.spans[i][1]]

    def sep(self, i: int) -> str:
        """The separator between groups i and i + 1 ("" past either end)."""
        return self.seps[i] if 0 <= i < len(self.seps) else ""


def _cards(match: re.Match[str]) -> tuple[str, int]:
    text = match.group()
    spans = [(m.start(), m.end()) for m in _DIGITS.finditer(text)]
    run = _Run(text, spans, [text[end] for _, end in spans[:-1]])
    lengths = [end - start for start, end in spans]
    # A group glued to a word or a decimal point ("v4111...", "0.4111...") is part of a token.
    i = 1 if _glued(match.string, match.start() - 1, -1) else 0
    last = len(spans) - (1 if _glued(match.string, match.end(), 1) else 0)
    pieces: list[str] = []
    cursor, found = 0, 0
    while i < last:
        width = _card_width(run, lengths, i, last)
        if not width:
            i += 1
            continue
        pieces += [text[cursor:spans[i][0]], _PLACEHOLDERS["card"]]
        cursor, found, i = spans[i + width - 1][1], found + 1, i + width
    return "".join(pieces) + text[cursor:], found


def _card_width(run: _Run, lengths: list[int], i: int, last: int) -> int:
    """How many groups from ``i`` make one card (0: none), longest layout first."""
    before = run.sep(i - 1)
    if 13 <= lengths[i] <= 19 and "-" not in (before, run.sep(i)) and _is_card(run.group(i)):
        return 1
    for layout in _CARD_LAYOUTS:
        width = len(layout)
        if i + width > last or tuple(lengths[i:i + width]) != layout:
            continue
        used = set(run.seps[i:i + width - 1])
        if len(used) != 1 or used & {before, run.sep(i + width - 1)}:
            continue  # mixed separators, or the same separator goes on: a longer number
        if _is_card("".join(run.group(j) for j in range(i, i + width))):
            return width
    return 0


def _is_card(digits: str) -> bool:
    if digits[0] not in "23456":
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _glued(text: str, at: int, step: int) -> bool:
    """Whether the character at ``at`` (next to a run) glues the run into a larger token."""
    char = text[at:at + 1] if at >= 0 else ""
    beyond = text[at + step:at + step + 1] if at + step >= 0 else ""
    return bool(char) and (char.isalnum() or char == "_" or (char in ".," and beyond.isdigit()))


# --- email -----------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![A-Za-z0-9-])")
# Names that resolve only inside a site (ICANN's private-use .internal, mDNS .local, RFC 6761,
# home.arpa): mail to them never leaves it, and a runbook names hosts as user@host with them.
_HOST_ONLY_TLDS = frozenset({"internal", "local", "localhost", "localdomain", "lan", "arpa"})


def _email(match: re.Match[str]) -> tuple[str, int]:
    address = match.group()
    if address.rsplit(".", 1)[1].lower() in _HOST_ONLY_TLDS:
        return address, 0
    return _PLACEHOLDERS["email"], 1


# --- phone -----------------------------------------------------------------------------------

# One pass, one alternative per format. Not after a word, '+', '.', '-' (an id or a version goes
# on), not before one nor before a decimal point: "INC-555-123-4567" and "10.555.123.4567" are
# not phones. The leading look-ahead lets the scan skip to a '+', '(' or digit.
_PHONE = re.compile(
    r"(?=[+(0-9])(?<![\w+.-])(?:"
    # +44 (0)20 7946 0958, +1 (555) 123-4567, +33 1 23 45 67 89, +14155552671
    r"(?P<intl>\+[0-9]{1,3}(?:[ .-]?\([0-9]{1,4}\))?[ .-]?[0-9]++(?:[ .-][0-9]++)*+)"
    r"|(?P<paren>(?:1[ .-]?)?\([2-9][0-9]{2}\) ?[0-9]{3}[ .-][0-9]{4})"  # (555) 123-4567
    # 555-123-4567, 555.123.4567; not with spaces, which "250 480 1500 ms" would also be
    r"|(?P<nanp>(?:1[.-])?[2-9][0-9]{2}(?P<b>[.-])[0-9]{3}(?P=b)[0-9]{4})"
    r"|(?P<trunk>0[0-9]{2,4}(?P<c>[ -])[0-9]{3,8}(?:(?P=c)[0-9]{3,4})?)"  # 020 7946 0958
    r"|(?P<pairs>0[1-9](?P<d>[ .])[0-9]{2}(?:(?P=d)[0-9]{2}){3})"  # 01 23 45 67 89
    r")(?![\w-]|[.,][0-9])")
# Digits a number of each format may hold; the shapes alone allow more or fewer.
_PHONE_DIGITS = {"intl": (7, 15), "paren": (10, 11), "nanp": (10, 11), "trunk": (10, 11),
                 "pairs": (10, 10)}


def _phone(match: re.Match[str]) -> tuple[str, int]:
    number = match.group()
    kind = match.lastgroup or ""  # the format's outer group closes last
    low, high = _PHONE_DIGITS[kind]
    digits = sum(char.isdigit() for char in number)
    # "+1000000" without separators is as likely a count as a phone: 9 digits at least
    compact = kind == "intl" and number[1:].isdigit()
    if not low <= digits <= high or (compact and digits < 9):
        return number, 0
    return _PLACEHOLDERS["phone"], 1


_HAS_DIGIT, _HAS_AT = re.compile(r"[0-9]"), re.compile("@")

# Order matters: an IBAN holds digit groups a card pass would see, a card's digits a phone
# pass would see, and an email's local part may hold a '+' and digits.
_DETECTORS: tuple[tuple[str, re.Pattern[str], re.Pattern[str], _Replacer], ...] = (
    ("iban", _HAS_DIGIT, _IBAN, _iban),
    ("card", _HAS_DIGIT, _DIGIT_RUN, _cards),
    ("email", _HAS_AT, _EMAIL, _email),
    ("phone", _HAS_DIGIT, _PHONE, _phone),
)
