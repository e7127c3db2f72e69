"""One known-good inference request per stack endpoint, and how its answer is judged.

Small on purpose: a probe sends one sample, not a load profile (``gameday.load`` owns those and
sits above the faults, so it is not imported here). Other fault providers may use these too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from gameday.errors import FaultError

__all__ = ["SAMPLES", "Sample", "sample_for"]


@dataclass(frozen=True)
class Sample:
    """A request body an endpoint must answer, and a check: None when the answer is valid,
    else what was wrong with it."""

    method: str
    body: dict[str, Any]
    check: Callable[[httpx.Response], str | None]


def _json_answer(answer: httpx.Response) -> tuple[object, str | None]:
    """The answer's JSON document, or what was wrong before there was one."""
    if answer.status_code != 200:
        return None, f"http {answer.status_code}"
    try:
        return answer.json(), None
    except ValueError:
        return None, "answer is not JSON"


def _fraud_score(answer: httpx.Response) -> str | None:
    document, problem = _json_answer(answer)
    if problem is not None:
        return problem
    score = document.get("fraud_score") if isinstance(document, dict) else None
    if isinstance(score, bool) or not isinstance(score, int | float) \
            or not math.isfinite(score) or not 0.0 <= score <= 1.0:
        return f"no fraud_score in [0, 1]: {str(document)[:120]}"
    return None


# an ordinary card transaction (the model scores it low; any score in [0, 1] is valid)
_TRANSACTION = {"amount": 42.0, "hour": 13, "merchant_risk": 0.2, "distance_km": 3.0,
                "card_age_days": 400, "foreign": False, "tx_last_24h": 2}

def _rag_answer(answer: httpx.Response) -> str | None:
    document, problem = _json_answer(answer)
    if problem is not None:
        return problem
    if not isinstance(document, dict) or not document.get("text"):
        return f"no answer text: {str(document)[:120]}"
    return None  # degraded answers are answers: the report counts them apart


# a question about the corpus's first document (gameday.corpus), answered whole (not streamed)
_QUESTION = {"question": "Which runbook covers linnet-07?", "stream": False,
             "user": "gameday-probe"}

def _kserve_score(answer: httpx.Response) -> str | None:
    document, problem = _json_answer(answer)
    if problem is not None:
        return problem
    outputs = document.get("outputs") if isinstance(document, dict) else None
    scores = [o.get("data") for o in outputs or () if isinstance(o, dict)
              and o.get("name") == "fraud_score"]
    if len(scores) != 1 or not isinstance(scores[0], list) or len(scores[0]) != 1 \
            or isinstance(scores[0][0], bool) or not isinstance(scores[0][0], int | float) \
            or not 0.0 <= scores[0][0] <= 1.0:
        return f"no fraud_score output in [0, 1]: {str(document)[:120]}"
    return None


# the same transaction as the Triton model's input row (KServe v2 JSON)
_TRITON_INFER = {"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 7],
                             "data": [42.0, 13, 0.2, 3.0, 400, 0, 2]}]}

SAMPLES: dict[tuple[str, str], Sample] = {
    ("tabular", "predict"): Sample(method="POST", body=_TRANSACTION, check=_fraud_score),
    ("rag", "ask"): Sample(method="POST", body=_QUESTION, check=_rag_answer),
    ("triton", "infer"): Sample(method="POST", body=_TRITON_INFER, check=_kserve_score),
}


def sample_for(stack: str, endpoint: str) -> Sample:
    try:
        return SAMPLES[(stack, endpoint)]
    except KeyError:
        known = ", ".join(f"{s}/{e}" for s, e in sorted(SAMPLES))
        raise FaultError(f"no inference sample for {stack}/{endpoint}; known: {known}") from None
