"""A request of the labelled set (``gameday.load.attacks``) and how its answer is judged.

An attack's answer is ok when the edge refused it: the WAF's 403 (``X-Edge-Waf: blocked``),
nginx's own refusal of a request it cannot route (a 4xx marked ``X-Edge-Waf: refused``: a
path above the root), for ``oversized`` a 413 the edge sent itself (an edge mark, no region
named: a stack's own 413 passed the edge), and for ``prompt-injection`` also the RAG
service's prompt guard (its 422 carries ``X-Rag-Guard``); the same verdicts as
``gameday.measure.waf``'s blocked and by_service. An attack that got through is an
unexpected answer, of the usual kinds: ``http_4xx``/``http_5xx`` when the stack refused it
itself, ``payload`` when the stack answered it. A benign request is ok when the check of the
endpoint it imitates passes (a WAF refusal of it is a false positive: ``http_4xx``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from gameday.load.payloads import (
    check_rag_ingest,
    check_tabular_predict,
    check_triton_infer,
    status_error_kind,
)
from gameday.load.sse import read_answer_stream

__all__ = ["ATTACK_LABELS", "BENIGN", "GUARD_HEADER", "LABELLED_CONTEXT_KEY", "LABELS",
           "LABEL_HEADER", "LabelledRequest", "ReadySend", "benign_check", "check_rag_stream",
           "judge", "ready_to_send", "refused_by_edge"]

BENIGN = "benign"
ATTACK_LABELS = ("sqli", "xss", "traversal", "oversized", "prompt-injection")
LABELS = (BENIGN, *ATTACK_LABELS)
LABEL_HEADER = "X-Gameday-Label"
GUARD_HEADER = "X-Rag-Guard"  # the RAG service's prompt guard names the rule that refused
LABELLED_CONTEXT_KEY = "labelled"  # a request's context carries its LabelledRequest under this
_GUARDED = "prompt-injection"  # the one class the RAG service's own guard may refuse


@dataclass(frozen=True, slots=True)
class LabelledRequest:
    """One request of the set: sent as it is (method, path with its query, body bytes)."""

    label: str  # one of LABELS
    stack: str
    imitates: str  # the stack endpoint whose request this varies; its check judges benign ones
    method: str
    path: str  # relative to the stack's edge URL ("/predict?id=..."), already percent-encoded
    body: bytes
    content_type: str = "application/json"

    def headers(self) -> dict[str, str]:
        return {"Content-Type": self.content_type, LABEL_HEADER: self.label}


# a request, its request target under the stack's edge URL, its headers
ReadySend = tuple[LabelledRequest, str, dict[str, str]]


def ready_to_send(requests: Iterable[LabelledRequest], base_url: str) -> list[ReadySend]:
    """Each request with what a send needs, built once: nothing is joined per send, and the
    target keeps the bytes the set wrote (``base_url``'s path is the stack's prefix)."""
    prefix = urlsplit(base_url).path.rstrip("/")
    return [(request, prefix + request.path, request.headers()) for request in requests]


def check_rag_stream(status: int, body: bytes) -> tuple[bool, str]:
    """ok = 200 and a whole streamed answer (its ``done`` event), read as one body."""
    if status != 200:
        return False, status_error_kind(status)
    return (True, "") if read_answer_stream([body]).complete else (False, "payload")


# what judges a benign request's answer: the check of the endpoint it imitates (a /ask read
# whole, not token by token)
_BENIGN_CHECKS: dict[tuple[str, str], Callable[[int, bytes], tuple[bool, str]]] = {
    ("tabular", "predict"): check_tabular_predict,
    ("triton", "infer"): check_triton_infer,
    ("rag", "ask"): check_rag_stream,
    ("rag", "ingest"): check_rag_ingest,
}


def benign_check(stack: str, imitates: str) -> Callable[[int, bytes], tuple[bool, str]]:
    return _BENIGN_CHECKS[(stack, imitates)]


def refused_by_edge(label: str, status: int, *, waf: str, region: str, guard: str) -> bool:
    """Whether the answer is a refusal (the module docstring says which answers are)."""
    if waf == "blocked" and status == 403:
        return True
    if waf == "refused" and 400 <= status < 500:
        return True
    if label == "oversized" and status == 413 and waf and not region:
        return True
    return label == _GUARDED and status == 422 and bool(guard)


def judge(request: LabelledRequest, status: int, body: bytes, *, waf: str, region: str,
          guard: str) -> tuple[bool, str]:
    """(ok, error_kind) of an answer that came back (``status`` > 0)."""
    if request.label == BENIGN:
        return benign_check(request.stack, request.imitates)(status, body)
    if refused_by_edge(request.label, status, waf=waf, region=region, guard=guard):
        return True, ""
    return False, status_error_kind(status)
