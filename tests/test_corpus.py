"""The labelled corpus: deterministic across processes, small corpora a prefix of large ones,
every gold answer a whole-word span of its document, rare enough elsewhere that an exact match
means the right document was read, and nothing a redaction layer would rewrite."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence

import pytest

from gameday.corpus import (
    MAX_BASE_DOCUMENTS,
    Document,
    Question,
    base_documents,
    base_questions,
    fresh_document,
    fresh_question,
    is_relevant,
)

RUN_KEY = "r7"
# A base answer may also be stated by a few other documents (a popular team, a dependency
# shared by some services): measured at most 5 of 2,000 for seed 7; a bound of 6 allows a
# little drift if word lists change, and still makes an exact match mostly mean "read the
# gold document".
MAX_DOCUMENTS_PER_ANSWER = 6
FRESH_NEIGHBOURS = 50


@pytest.fixture(scope="module")
def large() -> list[Document]:
    return base_documents(5000)


@pytest.fixture(scope="module")
def corpus(large: list[Document]) -> list[Document]:
    return large[:2000]


@pytest.fixture(scope="module")
def every_fact(corpus: list[Document]) -> list[Question]:
    return base_questions(corpus, per_document=5)


@pytest.fixture(scope="module")
def fresh() -> list[Document]:
    return [fresh_document(seq, RUN_KEY) for seq in range(400)]


def _chunks(text: str, size_words: int, overlap_words: int) -> list[str]:
    """The RAG stack's chunking (``targets/rag/chunking.py``): word windows with overlap."""
    words = text.split()
    step = size_words - overlap_words
    chunks = []
    for start in range(0, len(words), step):
        chunks.append(" ".join(words[start:start + size_words]))
        if start + size_words >= len(words):
            break
    return chunks


# Run here and in a child process; its one line of output is a digest of a corpus.
_FINGERPRINT_SCRIPT = """
import hashlib
from gameday.corpus import base_documents, base_questions, fresh_document, fresh_question
docs = base_documents(300) + [fresh_document(seq, "r7") for seq in range(50)]
questions = base_questions(docs[:300]) + [fresh_question(seq, "r7") for seq in range(50)]
print(hashlib.sha256(repr((docs, questions)).encode()).hexdigest())
"""


def test_the_same_call_gives_the_same_corpus() -> None:
    assert base_documents(50) == base_documents(50)
    assert base_questions(base_documents(50)) == base_questions(base_documents(50))
    assert fresh_document(9, RUN_KEY) == fresh_document(9, RUN_KEY)
    assert fresh_question(9, RUN_KEY) == fresh_question(9, RUN_KEY)


@pytest.mark.parametrize("hash_seed", ["0", "4242"])
def test_another_process_with_another_hash_seed_gives_byte_identical_text(
        hash_seed: str) -> None:
    here = io.StringIO()
    with contextlib.redirect_stdout(here):
        exec(_FINGERPRINT_SCRIPT, {})
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([sys.executable, "-c", _FINGERPRINT_SCRIPT], env=env, check=True,
                          capture_output=True, text=True, timeout=120)
    assert done.stdout == here.getvalue() != ""


def test_a_small_corpus_is_a_prefix_of_a_large_one(large: list[Document]) -> None:
    small = base_documents(400)
    assert small == large[:400]
    assert base_questions(small) == base_questions(large)[:800]


def test_another_seed_gives_another_corpus() -> None:
    assert [d.text for d in base_documents(20, seed=8)] != [d.text for d in base_documents(20)]
    assert base_questions(base_documents(20), seed=8) != base_questions(base_documents(20))


def test_five_thousand_documents_make_over_ten_thousand_chunks(large: list[Document]) -> None:
    assert len(large) == 5000 and MAX_BASE_DOCUMENTS >= 5000
    assert len({d.doc_id for d in large}) == len({d.title for d in large}) == 5000
    assert large[17].doc_id == "kb-000017" and large[17].seq is None
    assert sum(len(_chunks(d.text, 60, 15)) for d in large) >= 10_000


def test_documents_are_plain_prose_of_100_to_160_words(corpus: list[Document],
                                                      fresh: list[Document]) -> None:
    for document in (*corpus, *fresh):
        assert 100 <= len(document.text.split()) <= 160, document.doc_id
        assert document.text.endswith(".") and "\n" not in document.text


def test_every_answer_is_a_span_of_its_gold_document_and_not_of_its_question(
        corpus: list[Document], every_fact: list[Question], fresh: list[Document]) -> None:
    texts = {d.doc_id: d.text for d in (*corpus, *fresh)}
    questions = [*every_fact, *(fresh_question(seq, RUN_KEY) for seq in range(len(fresh)))]
    for question in questions:
        assert question.answer in texts[question.doc_id], question.qid
        assert question.answer.casefold() not in question.text.casefold(), question.qid
    assert len(every_fact) == 5 * len(corpus)


@pytest.mark.parametrize(("size_words", "overlap_words"), [(60, 15), (40, 15), (100, 15)])
def test_every_question_has_a_gold_chunk_wherever_chunks_are_cut(
        corpus: list[Document], every_fact: list[Question], fresh: list[Document],
        size_words: int, overlap_words: int) -> None:
    # each answer-bearing sentence is at most 15 words, so a 15-word overlap keeps it whole
    chunks = {d.doc_id: _chunks(d.text, size_words, overlap_words) for d in (*corpus, *fresh)}
    questions = [*every_fact, *(fresh_question(seq, RUN_KEY) for seq in range(len(fresh)))]
    for question in questions:
        assert any(is_relevant(question, question.doc_id, chunk)
                   for chunk in chunks[question.doc_id]), question.qid


def _document_frequency(documents: Sequence[Document]) -> Counter[str]:
    """In how many documents each run of 1 to 3 whole words (casefolded) occurs."""
    frequency: Counter[str] = Counter()
    for document in documents:
        words = [word.strip(".,:").casefold() for word in document.text.split()]
        frequency.update({" ".join(words[i:i + n]) for n in (1, 2, 3)
                          for i in range(len(words) - n + 1)})
    return frequency


def test_a_base_answer_is_stated_by_at_most_a_few_documents(corpus: list[Document],
                                                           every_fact: list[Question]) -> None:
    frequency = _document_frequency(corpus)
    worst = max(every_fact, key=lambda q: frequency[q.answer.casefold()])
    assert frequency[worst.answer.casefold()] <= MAX_DOCUMENTS_PER_ANSWER, worst


def test_a_fresh_answer_is_in_no_neighbouring_fresh_document_nor_the_base_corpus(
        corpus: list[Document], fresh: list[Document]) -> None:
    base = _document_frequency(corpus)
    for seq in range(len(fresh)):
        question = fresh_question(seq, RUN_KEY)
        assert base[question.answer.casefold()] == 0, question
        incident = f"INC-{RUN_KEY}-{seq:06d}"
        assert incident in question.text and incident in fresh[seq].text
        neighbours = range(max(0, seq - FRESH_NEIGHBOURS), min(len(fresh), seq + 51))
        holders = [n for n in neighbours if question.answer in fresh[n].text]
        assert holders == [seq], question


def test_consecutive_incidents_have_distinct_commanders_and_codenames() -> None:
    questions = [fresh_question(seq, RUN_KEY) for seq in range(1000, 2400)]
    assert len({q.answer for q in questions}) == len(questions)
    codenames = {q.text.rsplit(", the ", 1)[1] for q in questions}
    assert len(codenames) == len(questions)


def test_fresh_documents_and_questions_carry_their_seq_and_run_key() -> None:
    document, question = fresh_document(42, RUN_KEY), fresh_question(42, RUN_KEY)
    assert (document.doc_id, document.seq) == ("fresh-r7-00000042", 42)
    assert (question.qid, question.doc_id, question.seq) == (
        "fresh-r7-00000042-q0", "fresh-r7-00000042", 42)
    assert fresh_question(42, "other").text != question.text  # the run key is in the id


def test_base_questions_ask_distinct_facts_and_name_their_service(
        corpus: list[Document]) -> None:
    questions = base_questions(corpus[:200], per_document=3)
    titles = {d.doc_id: d.title.split(":")[0] for d in corpus}
    for document in corpus[:200]:
        own = [q for q in questions if q.doc_id == document.doc_id]
        assert [q.qid for q in own] == [f"{document.doc_id}-q{n}" for n in range(3)]
        assert len({q.answer for q in own}) == 3
        assert all(titles[document.doc_id] in q.text and q.seq is None for q in own)


RELEVANCE_CASES = [
    # (doc_id of the chunk, chunk text, relevant?) for a question whose answer is "Amber Falcon"
    ("kb-000003", "kestrel-41 is maintained by the Amber Falcon team.", True),
    ("kb-000003", "maintained   by the AMBER\nfalcon team", True),  # casefold, whitespace
    ("kb-000004", "kestrel-41 is maintained by the Amber Falcon team.", False),  # other doc
    ("kb-000003", "kestrel-41 listens on port 8443 unless told otherwise.", False),
    ("kb-000003", "kestrel-41 is maintained by the Amber", False),  # the answer cut in half
    ("kb-000003", "the Amber Falconry team", False),  # whole words only
]


@pytest.mark.parametrize(("doc_id", "chunk", "relevant"), RELEVANCE_CASES)
def test_a_gold_passage_is_a_chunk_of_the_gold_document_holding_the_answer(
        doc_id: str, chunk: str, relevant: bool) -> None:
    question = Question(qid="kb-000003-q0", text="Which team looks after kestrel-41?",
                        answer="Amber Falcon", doc_id="kb-000003")
    assert is_relevant(question, doc_id, chunk) is relevant


def test_a_port_is_not_found_inside_a_longer_number() -> None:
    question = Question(qid="q", text="?", answer="8443", doc_id="kb-000001")
    assert not is_relevant(question, "kb-000001", "follow runbook RB-84431.")
    assert is_relevant(question, "kb-000001", "on port 8443.")


PII_SHAPES = {
    "e-mail": re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+|@"),
    "long digit run": re.compile(r"\d{13,}"),
    "card number": re.compile(r"\b(?:\d[ -]?){13,19}\b"),
    "phone": re.compile(r"\+\d|\(\d{3}\)\s*\d{3}"),
    "IBAN": re.compile(r"\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b"),
    "injection": re.compile(r"ignore (all )?previous|system prompt|disregard", re.IGNORECASE),
}


def test_no_generated_text_looks_like_pii_or_an_instruction(
        corpus: list[Document]) -> None:
    fresh = [fresh_document(seq, RUN_KEY) for seq in range(0, 2_000_000, 1000)]
    questions = [*base_questions(corpus), *(fresh_question(d.seq or 0, RUN_KEY) for d in fresh)]
    texts = [d.text for d in (*corpus, *fresh)] + [d.title for d in corpus]
    for text in texts + [f"{q.text} {q.answer}" for q in questions]:
        for shape, pattern in PII_SHAPES.items():
            assert not pattern.search(text), (shape, text)


def test_near_duplicate_names_are_in_the_corpus_deliberately() -> None:
    names = {d.title.split(":")[0] for d in base_documents(400)}
    twins = {name for name in names if f"{name[:-2]}{name[:-3:-1]}" in names
             and name[-1] != name[-2]}
    assert len(twins) >= len(names) // 2  # most services have a digit-swapped twin
    assert all(re.fullmatch(r"[a-z]+-\d{2}", name) for name in names)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: base_documents(MAX_BASE_DOCUMENTS + 1), "count must be in"),
    (lambda: base_documents(-1), "count must be in"),
    (lambda: base_questions(base_documents(1), per_document=6), "per_document"),
    (lambda: base_questions([fresh_document(1, RUN_KEY)]), "not a base document"),
    (lambda: fresh_document(-1, RUN_KEY), "seq must be >= 0"),
    (lambda: fresh_question(1, "has space"), "run_key"),
    (lambda: fresh_document(1, "1234567890123"), "run_key"),
])
def test_bad_arguments_are_refused_with_a_message(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]
