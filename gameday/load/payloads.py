"""What each stack endpoint is sent and how its answer is judged, in one explicit table.

Shared by the open-model pacer and the plain-Locust user classes in ``loadtests/``. Bodies are
encoded before the run (``make_bodies``) so the hot path does no JSON encoding.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gameday.errors import LoadError

__all__ = [
    "BODY_POOL_MAX",
    "CACHE_HEADER",
    "DEGRADED_HEADER",
    "ENDPOINTS",
    "MODEL_VERSION_HEADER",
    "REGION_HEADER",
    "TABULAR_CARDS",
    "WAF_HEADER",
    "Endpoint",
    "check_rag_answer",
    "check_rag_ingest",
    "check_tabular_predict",
    "check_triton_infer",
    "endpoint_for",
    "kserve_model_version",
    "make_bodies",
    "status_error_kind",
]

REGION_HEADER = "X-Served-By-Region"
# the model version a service names on every answer, a failure too (the tabular stack's)
MODEL_VERSION_HEADER = "X-Model-Version"
# the global edge's marks on every answer that passed it: its cache's verdict and its WAF's
CACHE_HEADER = "X-Cache-Status"
WAF_HEADER = "X-Edge-Waf"
# a degraded answer's mark (the tabular service's features-stale, -missing, -down; the rag
# service's own is X-Rag-Degraded): a 200 served from a fallback, counted apart from ok
DEGRADED_HEADER = "X-Degraded"
BODY_POOL_MAX = 4096
# the tabular stack's feature store holds cards 1..TABULAR_CARDS
# (targets.tabular.featurestore.repo.CARD_COUNT; the harness does not import the targets)
TABULAR_CARDS = 5000
# the tabular stack's training distribution (targets.tabular.data.make_transactions, which the
# harness does not import): ordinary load must look like what the model was trained on, or
# the service's own drift monitor alarms on the harness itself. tests/load/test_payloads.py
# holds the two together with the service's own drift test.
_HOURLY_WEIGHT = np.array([2, 1, 1, 1, 1, 2, 3, 5, 6, 6, 7, 8, 9, 8, 7, 7, 8, 9, 9, 8, 6, 5, 4, 3],
                          dtype=np.float64)
_HOUR_SHARE = _HOURLY_WEIGHT / _HOURLY_WEIGHT.sum()
# the tabular stack's feature order (targets.tabular.features.FEATURE_NAMES; the harness does
# not import the targets)
TRITON_FEATURES = ("amount", "hour", "merchant_risk", "distance_km", "card_age_days", "foreign",
                   "tx_last_24h")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One endpoint: how to call it and how to judge the answer (ok, error_kind)."""

    method: str
    path: str
    # None: made per request (rag_workload), or the labelled set's own (``labelled``)
    make_body: Callable[[np.random.Generator], bytes] | None
    check: Callable[[int, bytes], tuple[bool, str]]
    content_type: str = "application/json"
    streaming: bool = False  # answered as server-sent events, read token by token
    # the service marks its answers in X-Rag-* headers (variant, cache, fallback, policy)
    marks_answers: bool = False
    # the model version an answer names ("" when it names none), for the request record
    model_version: Callable[[bytes], str] | None = None
    # the labelled set (gameday.load.attacks): each request its own method, path and body,
    # judged by its label (gameday.load.labelled), not by ``check``
    labelled: bool = False


def status_error_kind(status: int) -> str:
    """Error kind of a non-success HTTP status (any answer that is not the expected one)."""
    if 400 <= status < 500:
        return "http_4xx"
    if status >= 500:
        return "http_5xx"
    return "payload"


def _tabular_transaction(rng: np.random.Generator) -> dict[str, object]:
    """A card transaction drawn as the stack's training data is (about 3 % look like fraud:
    big, foreign, far, at night, on a new or busy card)."""
    return {
        "amount": round(float(rng.lognormal(3.4, 1.1)), 2),
        "hour": int(rng.choice(24, p=_HOUR_SHARE)),
        "merchant_risk": round(float(rng.beta(2.0, 7.0)), 3),
        "distance_km": round(float(rng.lognormal(1.6, 1.3)), 1),
        "card_age_days": int(rng.exponential(900.0)),
        "foreign": bool(rng.random() < 0.07),
        "tx_last_24h": int(rng.poisson(2.5)) + 9 * bool(rng.random() < 0.02),
    }


def _tabular_body(rng: np.random.Generator) -> bytes:
    """A transaction and its card: with the feature store on, the service scores the card's
    online features; without it, the transaction's own (the stack works either way)."""
    body = {**_tabular_transaction(rng), "card_id": int(rng.integers(1, TABULAR_CARDS + 1))}
    return json.dumps(body, separators=(",", ":")).encode()


def triton_features(transaction: dict[str, object]) -> list[float]:
    """A transaction as the Triton model's input row (the tabular stack's feature order)."""
    return [float(transaction[name]) for name in TRITON_FEATURES]  # type: ignore[arg-type]


def _triton_body(rng: np.random.Generator) -> bytes:
    """KServe v2 JSON: one transaction, FP32 [1, 7]."""
    row = triton_features(_tabular_transaction(rng))
    return json.dumps({"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 7],
                                   "data": row}]}, separators=(",", ":")).encode()


def check_triton_infer(status: int, body: bytes) -> tuple[bool, str]:
    """ok = 200 and a KServe v2 answer whose ``fraud_score`` output is one number in [0, 1]."""
    if status != 200:
        return False, status_error_kind(status)
    try:
        answer = json.loads(body)
        (output,) = [o for o in answer["outputs"] if o["name"] == "fraud_score"]
        (score,) = output["data"]
    except (ValueError, UnicodeDecodeError, KeyError, TypeError):
        return False, "payload"
    valid = isinstance(score, int | float) and not isinstance(score, bool) \
        and math.isfinite(score) and 0.0 <= score <= 1.0
    return (True, "") if valid else (False, "payload")


def kserve_model_version(body: bytes) -> str:
    """``model_version`` of a KServe v2 answer; "" when the body has none."""
    try:
        answer = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    version = answer.get("model_version") if isinstance(answer, dict) else None
    return version if isinstance(version, str) else ""


def check_tabular_predict(status: int, body: bytes) -> tuple[bool, str]:
    """ok = 200 and a JSON object whose ``fraud_score`` is a number in [0, 1]."""
    if status != 200:
        return False, status_error_kind(status)
    try:
        answer = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False, "payload"
    score = answer.get("fraud_score") if isinstance(answer, dict) else None
    valid = isinstance(score, int | float) and not isinstance(score, bool) \
        and math.isfinite(score) and 0.0 <= score <= 1.0
    return (True, "") if valid else (False, "payload")


def _json_answer(expected: int, key: str) -> Callable[[int, bytes], tuple[bool, str]]:
    def check(status: int, body: bytes) -> tuple[bool, str]:
        if status != expected:
            return False, status_error_kind(status)
        try:
            answer = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return False, "payload"
        return (True, "") if isinstance(answer, dict) and answer.get(key) else (False, "payload")
    return check


check_rag_ingest = _json_answer(201, "doc_id")  # acknowledged: the document is stored
check_rag_answer = _json_answer(200, "answer")  # a whole (not streamed) answer


def _unlabelled(status: int, body: bytes) -> tuple[bool, str]:
    """A request of a labelled endpoint that came without its label: nothing to judge by."""
    return False, "payload"


ENDPOINTS: dict[tuple[str, str], Endpoint] = {
    ("tabular", "predict"): Endpoint(method="POST", path="/predict", make_body=_tabular_body,
                                     check=check_tabular_predict),
    ("rag", "ask"): Endpoint(method="POST", path="/ask", make_body=None,
                             check=check_rag_answer, streaming=True, marks_answers=True),
    ("rag", "probe"): Endpoint(method="POST", path="/ask", make_body=None,
                               check=check_rag_answer, streaming=True, marks_answers=True),
    ("rag", "ingest"): Endpoint(method="POST", path="/documents", make_body=None,
                                check=check_rag_ingest, marks_answers=True),
    ("triton", "infer"): Endpoint(method="POST", path="/v2/models/fraud/infer",
                                  make_body=_triton_body, check=check_triton_infer,
                                  model_version=kserve_model_version),
    # the labelled set (benign and attacks) through the edge: method, path, body per request
    ("tabular", "attack"): Endpoint(method="POST", path="/", make_body=None,
                                    check=_unlabelled, labelled=True),
    ("rag", "attack"): Endpoint(method="POST", path="/", make_body=None, check=_unlabelled,
                                marks_answers=True, labelled=True),
    ("triton", "attack"): Endpoint(method="POST", path="/", make_body=None, check=_unlabelled,
                                   model_version=kserve_model_version, labelled=True),
}


def endpoint_for(stack: str, endpoint: str) -> Endpoint:
    try:
        return ENDPOINTS[(stack, endpoint)]
    except KeyError:
        known = ", ".join(f"{s}/{e}" for s, e in sorted(ENDPOINTS))
        raise LoadError(f"no load payload for {stack}/{endpoint}; known: {known}") from None


def make_bodies(endpoint: Endpoint, count: int, seed: int) -> list[bytes]:
    """A seeded pool of encoded bodies (at most 4096; callers cycle through it)."""
    if endpoint.make_body is None:
        raise LoadError(f"{endpoint.path}: bodies are made per request (rag_workload)")
    rng = np.random.default_rng(seed)
    return [endpoint.make_body(rng) for _ in range(max(1, min(count, BODY_POOL_MAX)))]
