"""The labelled request set (benign and attacks, per stack) and how its answers are judged."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from gameday.load.attacks import LABELLED_RUN_KEY, STACKS, labelled_mix, labelled_set
from gameday.load.labelled import (
    ATTACK_LABELS,
    BENIGN,
    LABEL_HEADER,
    LABELS,
    LabelledRequest,
    judge,
)
from gameday.load.payloads import ENDPOINTS, endpoint_for, make_bodies
from gameday.load.rag_workload import RagWorkload
from targets.rag.guard import check_injection

EDGE_LIMIT_BYTES = 65536  # edge.max_body_bytes by default
# what an origin-form request target may hold (geventhttpclient's own check, and HTTP's)
TARGET = re.compile(r"/[\x21-\x7e]*")


def _classes(stack: str) -> Counter[str]:
    return Counter(request.label for request in labelled_set(stack))


@pytest.mark.parametrize("stack", STACKS)
def test_every_class_has_at_least_eight_payloads_and_benign_twenty(stack: str) -> None:
    classes = _classes(stack)
    expected = set(LABELS) if stack == "rag" else set(LABELS) - {"prompt-injection"}
    assert set(classes) == expected
    assert classes[BENIGN] >= 20
    assert all(classes[label] >= 8 for label in expected - {BENIGN})


@pytest.mark.parametrize("stack", STACKS)
def test_every_request_is_a_plain_ascii_target_with_its_label_and_content_type(
        stack: str) -> None:
    for request in labelled_set(stack):
        assert request.stack == stack and request.label in LABELS
        assert TARGET.fullmatch(request.path), request.path
        assert not request.path.startswith("//")
        assert request.method == "POST"
        assert request.headers() == {"Content-Type": request.content_type,
                                     LABEL_HEADER: request.label}
        request.body.decode("utf-8")  # UTF-8 text, every one
        assert (stack, request.imitates) in ENDPOINTS


@pytest.mark.parametrize("stack", STACKS)
def test_only_oversized_bodies_are_over_the_edge_limit_and_all_are_bounded(stack: str) -> None:
    for request in labelled_set(stack):
        if request.label == "oversized":
            assert 3 * EDGE_LIMIT_BYTES < len(request.body) <= 300_000
        else:  # under the limit: these measure the WAF, not the size limit
            assert len(request.body) <= EDGE_LIMIT_BYTES


@pytest.mark.parametrize(("stack", "endpoint", "path"), [
    ("tabular", "predict", "/predict"), ("triton", "infer", "/v2/models/fraud/infer")])
def test_benign_includes_the_stack_loads_own_bodies_byte_for_byte(stack: str, endpoint: str,
                                                                   path: str) -> None:
    sent = make_bodies(endpoint_for(stack, endpoint), 4096, seed=11)
    benign = [r for r in labelled_set(stack, seed=11) if r.label == BENIGN and r.path == path
              and r.body in sent]
    assert [r.body for r in benign] == sent[:10]


def test_rag_benign_includes_the_ask_and_ingest_loads_own_bodies() -> None:
    asks = RagWorkload("ask", run_key="", documents=50, k=3, seed=5)
    ingests = RagWorkload("ingest", run_key=LABELLED_RUN_KEY, documents=50, k=3, seed=5)
    bodies = {r.body: r for r in labelled_set("rag", documents=50, k=3, seed=5)
              if r.label == BENIGN}
    for index in range(5):
        assert bodies[asks.request(index, 0.0).body].path == "/ask"
        assert bodies[ingests.request(index, 0.0).body].imitates == "ingest"


def test_hand_written_benign_text_carries_what_makes_false_positives() -> None:
    text = " ".join(r.body.decode() + r.path for stack in STACKS for r in labelled_set(stack)
                    if r.label == BENIGN)
    for sign in ("'", '\\"', "@example.com", "%", "?", ";", "!", "ü", "%27", "%40", "%22"):
        assert sign in text, sign


def test_no_rag_document_of_the_set_carries_a_run_s_key() -> None:
    for request in labelled_set("rag"):
        if request.path.startswith("/documents"):
            assert json.loads(request.body)["run_key"] == LABELLED_RUN_KEY


def test_the_rag_guard_passes_every_benign_text_and_catches_most_injections() -> None:
    """Ground truth from the RAG service's own guard (targets/rag/guard.py): the benign texts
    are legitimate to it; the CRS is not expected to catch prompt injections."""
    caught = []
    for request in labelled_set("rag"):
        if request.label in (BENIGN, "prompt-injection") and "?" not in request.path:
            body = json.loads(request.body)
            verdict = check_injection(body.get("question") or body["text"])
            if request.label == BENIGN:
                assert not verdict.blocked, (verdict.rule, body)
            else:
                caught.append(verdict.blocked)
    assert len(caught) >= 12 and sum(caught) >= len(caught) - 2


def test_the_mix_is_seeded_covers_the_whole_set_and_can_be_cut_short() -> None:
    first, again = labelled_mix("tabular", seed=3), labelled_mix("tabular", seed=3)
    assert first == again != labelled_mix("tabular", seed=4)
    assert sorted(first, key=repr) == sorted(labelled_set("tabular", seed=3), key=repr)
    assert labelled_mix("tabular", seed=3, count=5) == first[:5]


def test_an_unknown_stack_has_no_set() -> None:
    with pytest.raises(ValueError, match="tabular"):
        labelled_set("llm")


# -- judgement ---------------------------------------------------------------------------------

def _request(label: str, stack: str = "tabular", imitates: str = "predict") -> LabelledRequest:
    return LabelledRequest(label=label, stack=stack, imitates=imitates, method="POST",
                           path="/predict", body=b"{}")


PREDICTED = b'{"fraud_score": 0.2}'
BLOCKED = b'{"error": "blocked by the edge WAF"}'
STREAM = b'event: meta\ndata: {}\n\nevent: token\ndata: {"i":0,"t":"a"}\n\n' \
    b'event: done\ndata: {"answer":"a","tokens":1}\n\n'


@pytest.mark.parametrize(("label", "status", "body", "waf", "region", "guard", "expected"), [
    ("sqli", 403, BLOCKED, "blocked", "", "", (True, "")),
    ("xss", 403, BLOCKED, "blocked", "", "", (True, "")),
    ("traversal", 400, b"", "refused", "", "", (True, "")),  # nginx's own: above the root
    ("sqli", 200, PREDICTED, "blocking", "region-a", "", (False, "payload")),  # got through
    ("sqli", 200, PREDICTED, "detection", "region-a", "", (False, "payload")),
    ("xss", 422, b"{}", "blocking", "region-a", "", (False, "http_4xx")),  # the app refused
    ("sqli", 403, b"{}", "blocking", "region-a", "", (False, "http_4xx")),  # the app's 403
    ("sqli", 503, b"", "blocking", "", "", (False, "http_5xx")),
    ("sqli", 429, b"", "blocking", "", "", (False, "http_4xx")),  # rate-limited, not refused
    ("oversized", 413, b"", "blocking", "", "", (True, "")),  # the edge's limit
    ("oversized", 413, b"{}", "blocking", "region-a", "", (False, "http_4xx")),  # the app's
    ("oversized", 413, b"", "", "", "", (False, "http_4xx")),  # no edge in front
    ("oversized", 403, BLOCKED, "blocked", "", "", (True, "")),
    ("oversized", 200, PREDICTED, "off", "region-a", "", (False, "payload")),
    ("prompt-injection", 422, b"{}", "blocking", "region-a", "override", (True, "")),
    ("prompt-injection", 200, STREAM, "blocking", "region-a", "", (False, "payload")),
    ("sqli", 422, b"{}", "blocking", "region-a", "override", (False, "http_4xx")),
    ("benign", 200, PREDICTED, "blocking", "region-a", "", (True, "")),
    ("benign", 200, PREDICTED, "", "region-a", "", (True, "")),  # no edge in front
    ("benign", 403, BLOCKED, "blocked", "", "", (False, "http_4xx")),  # a false positive
    ("benign", 200, b'{"fraud_score": 7}', "blocking", "region-a", "", (False, "payload")),
])
def test_judgement_refused_attacks_and_answered_benign_requests_are_ok(
        label: str, status: int, body: bytes, waf: str, region: str, guard: str,
        expected: tuple[bool, str]) -> None:
    stack, imitates = ("rag", "ask") if label == "prompt-injection" else ("tabular", "predict")
    assert judge(_request(label, stack, imitates), status, body, waf=waf, region=region,
                 guard=guard) == expected


@pytest.mark.parametrize(("stack", "imitates", "status", "body", "expected"), [
    ("rag", "ask", 200, STREAM, (True, "")),
    ("rag", "ask", 200, STREAM[:-40], (False, "payload")),  # no done event: broken
    ("rag", "ingest", 201, b'{"doc_id": "labelled-benign-1"}', (True, "")),
    ("rag", "ingest", 422, b"{}", (False, "http_4xx")),
    ("triton", "infer", 200, b'{"outputs": [{"name": "fraud_score", "data": [0.4]}]}',
     (True, "")),
    ("triton", "infer", 400, b"{}", (False, "http_4xx")),
])
def test_a_benign_request_is_judged_by_the_check_of_the_endpoint_it_imitates(
        stack: str, imitates: str, status: int, body: bytes, expected: tuple[bool, str]) -> None:
    assert judge(_request(BENIGN, stack, imitates), status, body, waf="blocking",
                 region="region-a", guard="") == expected


def test_every_attack_label_is_a_class_of_the_set() -> None:
    assert set(ATTACK_LABELS) == set().union(*(_classes(s) for s in STACKS)) - {BENIGN}
