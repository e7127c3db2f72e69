"""A tritonclient answer or exception as the request record's outcome (``JudgedOutcome``).

For ``loadtests/triton.py``: tritonclient raises instead of handing back a response, so the
user judges each request here and passes the outcome to the recorder in the request context.

An answer is ok when ``fraud_score`` holds one finite score in [0, 1] per row (the same rule
as ``payloads.check_triton_infer``); anything else is ``payload``.

HTTP: a Triton error is its HTTP status (``http_4xx`` / ``http_5xx``); no answer is status 0,
``timeout`` or ``connection`` (``recorder.classify_failure``); an answer that came back 200 but
could not be read is ``payload``, or ``timeout`` when reading it timed out.

gRPC has no HTTP status. The record's ``status`` is 200 for OK and, for an error the server
sent, the HTTP status Google's ``google.rpc.Code`` mapping gives it (``GRPC_STATUS``), so the
records of both protocols read alike. ``UNAVAILABLE`` and ``DEADLINE_EXCEEDED`` are status 0,
``connection`` and ``timeout``: what the channel says when it got no answer (refused, reset,
too slow). A server can send ``UNAVAILABLE`` itself (Triton: shutting down, queue full); the
status does not tell the two apart (both read ``UNAVAILABLE:<details>``), and both mean no
ready server served the request, so both count as ``connection``.
"""

from __future__ import annotations

import math

import numpy as np
from tritonclient.utils import InferenceServerException

from gameday.load.payloads import status_error_kind
from gameday.load.recorder import JudgedOutcome, classify_failure

__all__ = ["GRPC_STATUS", "RequestFailed", "answered", "grpc_failed", "http_failed"]

# gRPC status code name -> (HTTP-equivalent status for the record, error kind)
GRPC_STATUS: dict[str, tuple[int, str]] = {
    "INVALID_ARGUMENT": (400, "http_4xx"),
    "FAILED_PRECONDITION": (400, "http_4xx"),
    "OUT_OF_RANGE": (400, "http_4xx"),
    "UNAUTHENTICATED": (401, "http_4xx"),
    "PERMISSION_DENIED": (403, "http_4xx"),
    "NOT_FOUND": (404, "http_4xx"),  # Triton: unknown model, or a model with no version loaded
    "ALREADY_EXISTS": (409, "http_4xx"),
    "ABORTED": (409, "http_4xx"),
    "RESOURCE_EXHAUSTED": (429, "http_4xx"),
    "CANCELLED": (499, "http_4xx"),
    "UNKNOWN": (500, "http_5xx"),
    "INTERNAL": (500, "http_5xx"),
    "DATA_LOSS": (500, "http_5xx"),
    "UNIMPLEMENTED": (501, "http_5xx"),
    "UNAVAILABLE": (0, "connection"),
    "DEADLINE_EXCEEDED": (0, "timeout"),
}
_GRPC_UNLISTED = (500, "http_5xx")  # a code gRPC may add later: the server failed it


class RequestFailed(Exception):
    """What Locust is told of a failed request: its kind, status and the client's message.

    A new exception rather than tritonclient's: that one prints as ``InferenceServerException()``
    in Locust's error report, and through its context keeps the gRPC call alive in the stats.
    """

    def __init__(self, outcome: JudgedOutcome, detail: str) -> None:
        super().__init__(f"{outcome.error_kind} (status {outcome.status}): {detail}")


def answered(scores: object, rows: int, model_version: str, region: str = "", *,
             edge_cache: str = "", waf: str = "") -> JudgedOutcome:
    """A 200 answer: ok when ``scores`` (``as_numpy("fraud_score")``) is [rows, 1] in [0, 1];
    ``region``, ``edge_cache`` and ``waf``: the answer's edge headers, when the client kept
    them."""
    ok = _valid_scores(scores, rows)
    return JudgedOutcome(status=200, ok=ok, error_kind="" if ok else "payload",
                         region=region, model_version=model_version, edge_cache=edge_cache,
                         waf=waf)


def _valid_scores(scores: object, rows: int) -> bool:
    if not isinstance(scores, np.ndarray) or scores.shape != (rows, 1):
        return False
    values = scores.astype(np.float64).ravel().tolist()
    return all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in values)


def http_failed(error: BaseException, answered_status: int, region: str, *,
                edge_cache: str = "", waf: str = "") -> JudgedOutcome:
    """A failed ``tritonclient.http`` call; ``answered_status``: the status the response came
    back with (0 when none did)."""
    status = _http_status(error)
    if status:
        kind = status_error_kind(status)
    else:
        status, kind = answered_status, classify_failure(error)
        if answered_status and kind != "timeout":
            kind = "payload"  # it came back and could not be read
    return JudgedOutcome(status=status, ok=False, error_kind=kind, region=region,
                         edge_cache=edge_cache, waf=waf)


def _http_status(error: BaseException) -> int:
    if not isinstance(error, InferenceServerException):
        return 0
    status = error.status()
    return int(status) if isinstance(status, str) and status.isdigit() else 0


def grpc_failed(error: BaseException) -> JudgedOutcome:
    """A failed ``tritonclient.grpc`` call (``GRPC_STATUS``); another exception got no answer."""
    if not isinstance(error, InferenceServerException) or not error.status():
        return JudgedOutcome(status=0, ok=False, error_kind=classify_failure(error))
    code = str(error.status()).removeprefix("StatusCode.")
    status, kind = GRPC_STATUS.get(code, _GRPC_UNLISTED)
    return JudgedOutcome(status=status, ok=False, error_kind=kind)
