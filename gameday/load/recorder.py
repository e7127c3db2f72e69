"""Turns Locust's ``events.request`` into ``RequestRecord`` rows written as they happen.

One listener serves both the open-model pacer and the plain-Locust user classes: a request
is recorded when its ``context`` names a ``stack`` and ``endpoint`` from ``payloads.ENDPOINTS``;
the pacer adds ``scheduled_s`` (a closed-model request is scheduled when it starts).
A client that is not Locust's HTTP session (tritonclient) judges its own answer and passes a
``JudgedOutcome`` under ``OUTCOME_CONTEXT_KEY``; the recorder then writes that as it is.
A request of the labelled set carries its ``LabelledRequest`` under ``LABELLED_CONTEXT_KEY``
and is judged by its label (``labelled.judge``). Every record takes the edge's marks from the
answer's headers: ``edge_cache`` (X-Cache-Status) and ``waf`` (X-Edge-Waf).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import Any

from gameday.load.answers import ANSWER_CONTEXT_KEY, AnswerOutcome
from gameday.load.labelled import GUARD_HEADER, LABELLED_CONTEXT_KEY, LabelledRequest, judge
from gameday.load.payloads import (
    CACHE_HEADER,
    DEGRADED_HEADER,
    MODEL_VERSION_HEADER,
    REGION_HEADER,
    WAF_HEADER,
    Endpoint,
    endpoint_for,
)
from gameday.records import RecordWriter, RequestRecord

__all__ = ["OUTCOME_CONTEXT_KEY", "JudgedOutcome", "RequestRecorder", "classify_failure"]

OUTCOME_CONTEXT_KEY = "outcome"  # a request's context carries its JudgedOutcome under this
_TIMEOUT_ERRNOS = frozenset({errno.ETIMEDOUT})


@dataclass(frozen=True, slots=True)
class JudgedOutcome:
    """A request its own client already judged: the record's answer fields, as they are.

    ``status`` is the HTTP status, or the HTTP equivalent the client documents (0: no answer).
    """

    status: int
    ok: bool
    error_kind: str = ""  # the same kinds as RequestRecord.error_kind
    region: str = ""
    model_version: str = ""
    edge_cache: str = ""  # the answer's X-Cache-Status ("" when none came back)
    waf: str = ""  # the answer's X-Edge-Waf


def _is_timeout(error: BaseException) -> bool:
    # gevent.Timeout is a BaseException named "Timeout"; matching by name keeps gevent
    # out of this module's imports.
    if isinstance(error, TimeoutError) or type(error).__name__ == "Timeout":
        return True
    if isinstance(error, OSError) and error.errno in _TIMEOUT_ERRNOS:
        return True
    return "timed out" in str(error).lower()


def _causes(error: BaseException | None) -> list[BaseException]:
    """The error and what it wraps (geventhttpclient's ``RetriesExceeded.original``)."""
    chain: list[BaseException] = []
    while error is not None and error not in chain and len(chain) < 8:
        chain.append(error)
        wrapped = getattr(error, "original", None)
        error = wrapped if isinstance(wrapped, BaseException) else error.__cause__
    return chain


def _is_timeout_chain(error: BaseException | None) -> bool:
    return any(_is_timeout(e) for e in _causes(error))


def classify_failure(error: BaseException | None) -> str:
    """Error kind of a request that got no HTTP answer: ``timeout`` or ``connection``."""
    return "timeout" if _is_timeout_chain(error) else "connection"


def _body(response: Any) -> bytes:
    try:
        content = response.content
    except Exception:  # a body that could not be read is judged as an empty one
        return b""
    return content if isinstance(content, bytes) else b""


def _header(response: Any, name: str) -> str:
    headers = getattr(response, "headers", None)
    if headers is None:
        return ""
    value = headers.get(name)
    return value if isinstance(value, str) else ""


def _rag_fields(response: Any, answer: object, scheduled_s: float) -> dict[str, Any]:
    """What a RAG answer adds to its record: the service's marks (headers) and, for a
    streamed answer, its tokens' timing, continuity and quality."""
    guard, redacted = _header(response, GUARD_HEADER), _header(response, "X-Rag-Redacted")
    fields: dict[str, Any] = {
        "variant": _header(response, "X-Rag-Variant"), "cache": _header(response, "X-Rag-Cache"),
        "degraded": _header(response, "X-Rag-Degraded") or _header(response, DEGRADED_HEADER),
        "policy": f"guard:{guard}" if guard else f"redacted:{redacted}" if redacted else ""}
    if not isinstance(answer, AnswerOutcome):
        return fields
    times = answer.stream.token_times_s
    recall, correct, f1 = answer.quality()
    return fields | {
        "ttft_s": times[0] - scheduled_s if times else None,
        "itl_s": tuple(answer.stream.gaps_s()), "stream": answer.continuity,
        "resume_s": answer.resume_s, "recall": recall, "correct": correct, "f1": f1,
        "question": answer.question.qid if answer.question is not None else ""}


def _judged_record(outcome: JudgedOutcome, stack: str, endpoint: str, start_s: float,
                   response_time_ms: float, context: dict[str, Any]) -> RequestRecord:
    seq = context.get("seq")
    return RequestRecord(
        scheduled_s=float(context.get("scheduled_s", start_s)), start_s=start_s,
        end_s=start_s + response_time_ms / 1000.0, stack=stack, endpoint=endpoint,
        region=outcome.region, status=outcome.status,
        ok=outcome.ok, error_kind=outcome.error_kind, seq=seq if isinstance(seq, int) else None,
        model_version=outcome.model_version, edge_cache=outcome.edge_cache, waf=outcome.waf,
        label=_label(context))


def _labelled(context: dict[str, Any]) -> LabelledRequest | None:
    labelled = context.get(LABELLED_CONTEXT_KEY)
    return labelled if isinstance(labelled, LabelledRequest) else None


def _label(context: dict[str, Any]) -> str:
    labelled = _labelled(context)
    return "" if labelled is None else labelled.label


class RequestRecorder:
    """An ``events.request`` listener that writes one ``RequestRecord`` per request."""

    def __init__(self, writer: RecordWriter) -> None:
        self.writer = writer
        self.recorded = 0
        self.ok = 0
        self._endpoints: dict[tuple[str, str], Endpoint] = {}  # one lookup per kind, not row

    def on_request(self, *, start_time: float, response_time: float, response: Any,
                   exception: BaseException | None, context: dict[str, Any],
                   **_: Any) -> None:
        stack, endpoint = context.get("stack"), context.get("endpoint")
        if not isinstance(stack, str) or not isinstance(endpoint, str):
            return  # not one of ours
        outcome = context.get(OUTCOME_CONTEXT_KEY)
        start_s = float(start_time)
        if isinstance(outcome, JudgedOutcome):
            self.write(_judged_record(outcome, stack, endpoint, start_s, response_time, context))
            return
        kind = self._endpoint(stack, endpoint)
        status = int(getattr(response, "status_code", 0) or 0)
        answer = context.get(ANSWER_CONTEXT_KEY)
        labelled = _labelled(context)
        region, waf = _header(response, REGION_HEADER), _header(response, WAF_HEADER)
        body = b""  # read only to judge it: a streamed answer was read token by token
        if status == 0:
            ok, error_kind = False, classify_failure(exception)
        elif isinstance(answer, AnswerOutcome):  # a stream that broke and stayed broken
            ok, error_kind = answer.ok, "" if answer.ok else "stream"
        elif exception is not None and _is_timeout_chain(exception):
            ok, error_kind = False, "timeout"  # the head came back, the body timed out
        elif labelled is not None:
            body = _body(response)
            ok, error_kind = judge(labelled, status, body, waf=waf, region=region,
                                   guard=_header(response, GUARD_HEADER))
        else:
            body = _body(response)
            ok, error_kind = kind.check(status, body)
        scheduled_s = float(context.get("scheduled_s", start_s))
        seq = context.get("seq")
        marks = _rag_fields(response, answer, scheduled_s) if kind.marks_answers else {
            "degraded": _header(response, DEGRADED_HEADER)}
        self.write(RequestRecord(
            scheduled_s=scheduled_s, start_s=start_s,
            end_s=start_s + response_time / 1000.0, stack=stack, endpoint=endpoint,
            region=region, status=status, ok=ok,
            error_kind=error_kind, seq=seq if isinstance(seq, int) else None,
            model_version=_header(response, MODEL_VERSION_HEADER)
            or (kind.model_version(body or _body(response))
                if kind.model_version and status else ""),
            edge_cache=_header(response, CACHE_HEADER), waf=waf,
            label="" if labelled is None else labelled.label, **marks))

    def _endpoint(self, stack: str, endpoint: str) -> Endpoint:
        kind = self._endpoints.get((stack, endpoint))
        if kind is None:
            kind = self._endpoints[(stack, endpoint)] = endpoint_for(stack, endpoint)
        return kind

    def write(self, record: RequestRecord) -> None:
        """Record directly (e.g. a send given up before it reached the wire)."""
        self.writer.write(record)
        self.recorded += 1
        self.ok += record.ok

    def close(self) -> None:
        self.writer.close()
