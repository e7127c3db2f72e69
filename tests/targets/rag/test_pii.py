"""PII redaction: what each kind catches, the look-alikes it must leave alone, and its costs."""

from __future__ import annotations

import pytest

from targets.rag.pii import PII_KINDS, Redaction, redact

# Public test numbers (Visa, Mastercard, Amex, Discover, Diners, JCB, UnionPay), all Luhn-valid.
_VALID_CARDS = [
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "4111111111111111",
    "4222222222222",  # 13-digit Visa
    "5555 5555 5555 4444",
    "5105-1051-0510-5100",
    "2223 0031 2200 3222",  # Mastercard 2-series
    "3782 822463 10005",  # Amex as printed, 4-6-5
    "378282246310005",
    "6011 1111 1111 1117",
    "3056 930902 5904",  # Diners, 4-6-4
    "3530111333300000",
    "6200000000000005",
]


@pytest.mark.parametrize("card", _VALID_CARDS)
def test_a_valid_card_is_redacted_with_spaces_dashes_or_no_separators(card: str) -> None:
    result = redact(f"charged to {card} yesterday")
    assert (result.text, dict(result.counts)) == ("charged to [CARD] yesterday", {"card": 1})


@pytest.mark.parametrize("text", [
    "4111 1111 1111 1112",  # one digit off: Luhn fails
    "5555 5555 5555 4445",
    "3782 822463 10006",
    "4111 1111-1111 1111",  # mixed separators are not a printed card
    "41 11 11 11 11 11 11 11",  # nor are pairs
])
def test_a_number_that_is_not_a_valid_card_is_left_alone(text: str) -> None:
    assert redact(text) == Redaction(text, {})


@pytest.mark.parametrize("text", [
    "99941111111111111111999",  # a card's digits inside a longer run
    "4111 1111 1111 1111 1234",  # a fifth group with the same separator: a longer number
    "INC-4111111111111111-2",
    "v4111111111111111",
    "score 0.4111111111111111",  # a decimal fraction
    "1773446400005",  # a millisecond epoch timestamp that passes Luhn
    "1773446400000000005",  # and a nanosecond one
])
def test_luhn_valid_digits_inside_a_longer_token_are_not_a_card(text: str) -> None:
    assert redact(text).text == text


@pytest.mark.parametrize(("text", "expected"), [
    ("mail jane.doe@example.com today", "mail [EMAIL] today"),
    ("JANE+ops@Example.CO.UK", "[EMAIL]"),
    ("https://x.org/u/jane.doe@example.com/x", "https://x.org/u/[EMAIL]/x"),
    ("mailto:a@b.io", "mailto:[EMAIL]"),
    ("<jane@example.com>,", "<[EMAIL]>,"),
    ("ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "[EMAIL]"),  # full-width, NFKC'd
])
def test_an_email_is_redacted_and_the_text_around_it_kept(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize("text", [
    "user@localhost",  # no dot-TLD
    "ssh root@kestrel-41.region-a.internal",  # a host on a private-use TLD: an ssh target
    "admin@printer.local",
    "a@b",
    "@example.com",
    "price is 5@3.20",
])
def test_something_at_a_host_that_is_not_an_address_is_left_alone(text: str) -> None:
    assert redact(text).text == text


@pytest.mark.parametrize("iban", [
    "GB82 WEST 1234 5698 7654 32",
    "GB82WEST12345698765432",
    "gb82 west 1234 5698 7654 32",
    "DE89 3704 0044 0532 0130 00",
    "NL91ABNA0417164300",
    "FR14 2004 1010 0505 0001 3M02 606",
    "NO93 8601 1117 947",  # the shortest, 15
])
def test_a_valid_iban_is_redacted(iban: str) -> None:
    result = redact(f"pay to {iban}, thanks")
    assert (result.text, dict(result.counts)) == ("pay to [IBAN], thanks", {"iban": 1})


@pytest.mark.parametrize("text", [
    "GB82 WEST 1234 5698 7654 33",  # one digit changed: mod-97 fails
    "GB83 WEST 1234 5698 7654 32",
    "GB82 WEST 1234 5698 7654 3",  # too short for GB
    "GB82 WEST 1234 5698 7654 3212",  # too long for GB
    "ZZ33WEST12345698765432",  # mod-97 holds, but ZZ is no IBAN country
])
def test_an_invalid_iban_is_left_alone(text: str) -> None:
    assert redact(text).text == text


def test_an_iban_followed_by_a_four_letter_word_keeps_the_word() -> None:
    assert redact("BE68 5390 0754 7034 then pay").text == "[IBAN] then pay"


@pytest.mark.parametrize("phone", [
    "+44 20 7946 0958",
    "+44 (0)20 7946 0958",
    "+1 (555) 123-4567",
    "+1-555-123-4567",
    "+1.555.123.4567",
    "+33 1 23 45 67 89",
    "+14155552671",
    "(555) 123-4567",
    "(555)123-4567",
    "555-123-4567",
    "555.123.4567",
    "1-555-123-4567",
    "020 7946 0958",
    "01632 960123",
    "01 23 45 67 89",
    "＋４４ ２０ ７９４６ ０９５８",  # full-width, NFKC'd
])
def test_a_phone_number_is_redacted_in_common_formats(phone: str) -> None:
    result = redact(f"call {phone}.")
    assert (result.text, dict(result.counts)) == ("call [PHONE].", {"phone": 1})


@pytest.mark.parametrize("text", [
    "upgrade to 3.2.7 or 10.4.12",
    "listen on port 8443 and 443",
    "on 2026-03-14 and 2026-03-15",
    "at 2026-03-14T12:30:00+01:00 and 2026-03-14T12:30:00Z",
    "at 12:30, 09:05:59 UTC+01:00",
    "see INC-000123 and CHG-0042",
    "kestrel-41.region-a.internal:8443",
    "from 127.10.3.1 and 10.0.0.255/24",
    "p50 p95 p99 were 250 480 1500 ms",
    "grew by +1000000 requests",
    "a short number 12345 and 1234567",
    "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
])
def test_versions_ports_dates_ids_hosts_and_ips_are_left_untouched(text: str) -> None:
    assert redact(text) == Redaction(text, {})


def test_full_width_card_digits_are_caught_and_the_output_is_nfkc() -> None:
    result = redact("ｃａｒｄ ４１１１ １１１１ １１１１ １１１１！")
    assert (result.text, dict(result.counts)) == ("card [CARD]!", {"card": 1})


def test_counts_are_right_with_several_kinds_in_one_text() -> None:
    text = ("Mail jane@example.com or bob@example.org, call +44 20 7946 0958, charge "
            "4111 1111 1111 1111, refund to GB82 WEST 1234 5698 7654 32 (v3.2.7, port 8443).")
    result = redact(text)
    assert result.text == ("Mail [EMAIL] or [EMAIL], call [PHONE], charge [CARD], refund to "
                           "[IBAN] (v3.2.7, port 8443).")
    assert dict(result.counts) == {"email": 2, "phone": 1, "card": 1, "iban": 1}
    assert list(result.counts) == [kind for kind in PII_KINDS if kind in result.counts]
    assert result.found


@pytest.mark.parametrize("text", ["", "nothing to see here", "   "])
def test_text_without_pii_comes_back_with_empty_counts(text: str) -> None:
    result = redact(text)
    assert (result.text, dict(result.counts), result.found) == (text, {}, False)


def test_counts_cannot_be_changed_afterwards() -> None:
    with pytest.raises(TypeError):
        redact("jane@example.com").counts["email"] = 0  # type: ignore[index]


def test_redacting_redacted_text_changes_nothing() -> None:
    once = redact("jane@example.com, +44 20 7946 0958, 4111 1111 1111 1111, GB82WEST12345698765432")
    assert redact(once.text) == Redaction(once.text, {})


@pytest.mark.parametrize("text", [
    "1-" * 50_000,
    "1 " * 50_000,
    "4111 " * 20_000,
    "4111-" * 20_000,
    "0" * 100_000,
    "a@" * 50_000,
    "a" * 100_000 + "@",
    "x@" + "a." * 50_000,
    "+1 " * 33_000,
    "(555) " * 16_000,
    "GB82 " * 20_000,
])
def test_a_100_kb_adversarial_string_completes(text: str) -> None:
    assert len(redact(text).text) <= len(text)
