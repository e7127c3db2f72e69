"""The request recorder: records written through the run folder's own files, with the edge's
marks and the labelled set's labels taken from the answers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gameday.load.attacks import labelled_set
from gameday.load.labelled import LABELLED_CONTEXT_KEY, LabelledRequest
from gameday.load.recorder import OUTCOME_CONTEXT_KEY, JudgedOutcome, RequestRecorder
from gameday.load.triton_outcome import answered, http_failed
from gameday.records import RecordWriter, RequestRecord, read_requests

PREDICTED = b'{"fraud_score": 0.2, "model_version": "1"}'


class _Headers(dict[str, str]):
    """Case-insensitive ``get``, as geventhttpclient's and Locust's headers are."""

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(name.lower(), default)


class Response:
    """What a listener reads of an answer: Locust's ``FastResponse`` and the pacer's
    ``transport.Answer`` both look like this."""

    def __init__(self, status_code: int, headers: dict[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = _Headers({name.lower(): value for name, value in headers.items()})
        self.content = content


def _response(status: int, headers: dict[str, str], content: bytes = b"") -> Response:
    return Response(status, headers, content)


@pytest.fixture
def record(tmp_path: Path) -> Callable[..., RequestRecord]:
    """Feed one ``events.request`` to a recorder; the record it wrote, read back."""

    def feed(response: Response | None, context: dict[str, Any],
             exception: BaseException | None = None) -> RequestRecord:
        recorder = RequestRecorder(RecordWriter(tmp_path / "requests-test.csv"))
        recorder.on_request(start_time=100.0, response_time=20.0, response=response,
                            exception=exception, context={"scheduled_s": 99.99, **context})
        recorder.close()
        (written,) = read_requests(tmp_path)
        return written

    return feed


EDGE = {"X-Served-By-Region": "region-b", "X-Cache-Status": "HIT", "X-Edge-Waf": "blocking"}


def test_an_ordinary_request_records_the_edge_cache_and_waf_marks(
        record: Callable[..., RequestRecord]) -> None:
    written = record(_response(200, EDGE, PREDICTED), {"stack": "tabular", "endpoint": "predict"})
    assert (written.ok, written.region, written.edge_cache, written.waf, written.label) == \
        (True, "region-b", "HIT", "blocking", "")


def test_an_answer_no_edge_marked_and_no_answer_at_all_record_empty_marks(
        record: Callable[..., RequestRecord]) -> None:
    direct = record(_response(200, {}, PREDICTED), {"stack": "tabular", "endpoint": "predict"})
    assert (direct.ok, direct.edge_cache, direct.waf) == (True, "", "")


def test_no_answer_records_empty_marks(record: Callable[..., RequestRecord]) -> None:
    lost = record(_response(0, {}), {"stack": "tabular", "endpoint": "predict"},
                  exception=ConnectionRefusedError())
    assert (lost.ok, lost.error_kind, lost.edge_cache, lost.waf) == \
        (False, "connection", "", "")


def _one(stack: str, label: str) -> LabelledRequest:
    return next(r for r in labelled_set(stack) if r.label == label)


def test_a_blocked_attack_is_recorded_ok_with_its_label_and_the_waf_mark(
        record: Callable[..., RequestRecord]) -> None:
    blocked = {"X-Edge-Waf": "blocked", "X-Cache-Status": "NONE"}
    written = record(_response(403, blocked, b'{"error": "blocked by the edge WAF"}'),
                     {"stack": "tabular", "endpoint": "attack",
                      LABELLED_CONTEXT_KEY: _one("tabular", "sqli")})
    assert (written.ok, written.error_kind, written.status, written.label, written.waf,
            written.edge_cache, written.endpoint) == \
        (True, "", 403, "sqli", "blocked", "NONE", "attack")


def test_an_attack_that_got_through_is_recorded_not_ok(
        record: Callable[..., RequestRecord]) -> None:
    written = record(_response(200, EDGE | {"X-Edge-Waf": "detection"}, PREDICTED),
                     {"stack": "tabular", "endpoint": "attack",
                      LABELLED_CONTEXT_KEY: _one("tabular", "xss")})
    assert (written.ok, written.error_kind, written.label, written.waf) == \
        (False, "payload", "xss", "detection")


def test_a_false_positive_on_a_benign_request_is_recorded_not_ok(
        record: Callable[..., RequestRecord]) -> None:
    written = record(_response(403, {"X-Edge-Waf": "blocked", "X-Cache-Status": "NONE"}),
                     {"stack": "tabular", "endpoint": "attack",
                      LABELLED_CONTEXT_KEY: _one("tabular", "benign")})
    assert (written.ok, written.error_kind, written.label) == (False, "http_4xx", "benign")


def test_the_rag_guard_s_refusal_of_a_prompt_injection_is_ok_and_its_policy_recorded(
        record: Callable[..., RequestRecord]) -> None:
    guarded = {"X-Edge-Waf": "blocking", "X-Cache-Status": "NONE",
               "X-Served-By-Region": "region-a", "X-Rag-Guard": "override"}
    written = record(_response(422, guarded, b'{"detail": []}'),
                     {"stack": "rag", "endpoint": "attack",
                      LABELLED_CONTEXT_KEY: _one("rag", "prompt-injection")})
    assert (written.ok, written.label, written.policy, written.region) == \
        (True, "prompt-injection", "guard:override", "region-a")


def test_an_attack_without_its_labelled_request_is_not_judged_ok(
        record: Callable[..., RequestRecord]) -> None:
    written = record(_response(403, {"X-Edge-Waf": "blocked"}),
                     {"stack": "tabular", "endpoint": "attack"})
    assert (written.ok, written.label, written.waf) == (False, "", "blocked")


def test_a_judged_outcome_carries_its_edge_marks_and_the_request_s_label(
        record: Callable[..., RequestRecord]) -> None:
    outcome = answered(_scores(), 1, "2", "region-a", edge_cache="MISS", waf="blocking")
    written = record(None, {"stack": "triton", "endpoint": "attack",
                            OUTCOME_CONTEXT_KEY: outcome,
                            LABELLED_CONTEXT_KEY: _one("triton", "benign")})
    assert (written.ok, written.model_version, written.edge_cache, written.waf,
            written.label) == (True, "2", "MISS", "blocking", "benign")


def test_a_failed_triton_call_keeps_the_edge_marks_it_came_back_with() -> None:
    outcome = http_failed(TimeoutError("timed out"), 200, "region-b", edge_cache="MISS",
                          waf="blocking")
    assert outcome == JudgedOutcome(status=200, ok=False, error_kind="timeout",
                                    region="region-b", edge_cache="MISS", waf="blocking")


def _scores() -> np.ndarray:
    return np.array([[0.3]], dtype=np.float32)
