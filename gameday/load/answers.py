"""A streamed RAG answer through a Locust ``FastHttpSession``: read token by token, resumed
from where it broke, judged against the labelled question, reported as one request.

Stream continuity (DESIGN.md): a stream that ends without its ``done`` event is broken; the
client asks again (through the edge, which may now route to the other region) with
``resume_from`` = the tokens it holds, up to ``len(RESUME_BACKOFF_S)`` times after those
pauses: a region that died mid-answer is still in the edge's rotation for a few health
checks, so an immediate retry alone would meet the same dead region. ``resumed``: a retry
completed the answer;
``duplicated``: the retry sent positions the client already held; ``broken``: no complete
answer. ``resume_s`` is from the break to the retry's first token.

Imported by the generator child and by ``loadtests/rag.py`` (both already run Locust); the
session is used duck-typed, so this module imports no Locust itself.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from gameday.corpus import Question, is_relevant
from gameday.load.sse import AnswerParser, AnswerStream
from gameday.measure.quality import exact_match, f1_score

__all__ = ["ANSWER_CONTEXT_KEY", "RESUME_BACKOFF_S", "AnswerOutcome", "ask_streamed", "judge"]

ANSWER_CONTEXT_KEY = "answer"  # the request's context carries its AnswerOutcome under this
RESUME_BACKOFF_S = (0.0, 0.5, 1.0, 2.0)  # before each retry of a broken stream: 3.5 s in all


@dataclass(slots=True)
class AnswerOutcome:
    stream: AnswerStream
    continuity: str  # complete | broken | resumed | duplicated
    resume_s: float | None
    question: Question | None
    k: int

    @property
    def ok(self) -> bool:
        return self.stream.complete and self.continuity in ("complete", "resumed")

    def quality(self) -> tuple[float | None, float | None, float | None]:
        """(recall, correct, f1) against the labelled question; Nones when there is none."""
        if self.question is None or self.stream.meta is None:
            return None, None, None
        return judge(self.question, self.stream.meta, self.stream.done, self.k)


def judge(question: Question, meta: dict[str, Any], done: dict[str, Any] | None,
          k: int) -> tuple[float, float | None, float | None]:
    """recall: a gold passage among the first k sources; correct/f1 of the answer span (None
    when the answer never completed: no span to judge)."""
    sources = meta.get("sources") or []
    recall = float(any(is_relevant(question, str(s.get("doc_id", "")), str(s.get("text", "")))
                       for s in sources[:k] if isinstance(s, dict)))
    if done is None:
        return recall, None, None
    span = str(done.get("answer", ""))
    return recall, float(exact_match(span, question.answer)), f1_score(span, question.answer)


def ask_streamed(session: Any, url: str, body: bytes, headers: dict[str, str],
                 context: dict[str, Any], question: Question | None, k: int,
                 name: str | None = None) -> None:
    """POST the question, read the stream (resuming a broken one up to
    ``len(RESUME_BACKOFF_S)`` times) and report it as one Locust request (named ``name``, by
    default its URL) whose context carries the ``AnswerOutcome``."""
    started = time.perf_counter()
    with session.request("POST", url, name=name, data=body, headers=headers, stream=True,
                         catch_response=True, context=context) as response:
        if response.status_code != 200:
            response.failure(f"HTTP {response.status_code}")
            return
        parser = AnswerParser()
        _read(response, parser)
        outcome = _continue(session, url, body, headers, parser.stream, question, k)
        response.request_meta["response_time"] = (time.perf_counter() - started) * 1000
        response.request_meta["context"][ANSWER_CONTEXT_KEY] = outcome
        if outcome.ok:
            response.success()
        else:
            response.failure(f"stream {outcome.continuity}: {outcome.stream.error}")


def _continue(session: Any, url: str, body: bytes, headers: dict[str, str],
              stream: AnswerStream, question: Question | None, k: int) -> AnswerOutcome:
    if stream.complete:
        return AnswerOutcome(stream, "complete", None, question, k)
    broke_s, held = time.time(), len(stream.positions)
    for pause_s in RESUME_BACKOFF_S:
        time.sleep(pause_s)  # cooperative: Locust runs under gevent
        _retry(session, url, body, headers, stream)
        if stream.complete:
            break
    resumed_s = stream.token_times_s[held] if len(stream.token_times_s) > held else None
    continuity = "duplicated" if stream.duplicates else \
        "resumed" if stream.complete else "broken"
    return AnswerOutcome(stream, continuity,
                         None if resumed_s is None else resumed_s - broke_s, question, k)


def _retry(session: Any, url: str, body: bytes, headers: dict[str, str],
           stream: AnswerStream) -> None:
    """Ask again from the tokens the stream holds, appending to it."""
    retry = json.loads(body) | {"resume_from": len(stream.positions)}
    stream.done, stream.error = None, ""
    with session.request("POST", url, data=json.dumps(retry).encode(), headers=headers,
                         stream=True, catch_response=True, context={}) as response:
        if response.status_code == 200:
            _read(response, AnswerParser(stream))
            response.success()
        else:
            stream.error = f"retry: HTTP {response.status_code}"
            response.failure(stream.error)


def _read(response: Any, parser: AnswerParser) -> None:
    """Line by line as the bytes arrive (an event's time is when its data line came)."""
    raw = getattr(response, "_response", None)
    if raw is None:
        parser.end("no response body")
        return
    try:
        while line := raw.readline(b"\n"):
            parser.feed(line, time.time())
    except Exception as exc:  # the connection broke mid-answer
        parser.end(f"{type(exc).__name__}: {exc}")
        return
    parser.end()
