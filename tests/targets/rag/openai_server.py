"""A small, real OpenAI-compatible chat server for the generator tests, served by uvicorn on
127.0.0.1 (an ephemeral port) in a background thread.

Its "model" is deterministic and says what it does: it answers with the first sentence of
the first context passage in the last user message — the text after ``[1] (doc_id#chunk) ``
up to the first ``.``, ``!`` or ``?`` followed by whitespace, or to the end of that line —
and "I don't know." when there is no such passage. Streamed, the answer goes one word (with
its following whitespace) per chunk, in OpenAI's ``chat.completion.chunk`` format, JSON
written as raw UTF-8 as pydantic-based servers do.

Knobs: ``token_delay_s`` (sleep before each word), ``fail_with_status`` (answer that status
with an OpenAI error body), ``break_after_tokens`` with ``break_with`` (after that many words:
``"eof"`` ends the body without ``[DONE]``, ``"reset"`` crashes the handler so uvicorn drops
the connection, ``"garbage"`` sends a malformed chunk, ``"error"`` an OpenAI error object),
``require_api_key`` (401 unless ``Authorization: Bearer <key>``), ``crlf`` and ``comments``
(CRLF line ends; ``: keep-alive`` comments and extra blank lines between events).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

__all__ = ["BreakWith", "OpenAIServer"]

BreakWith = Literal["eof", "reset", "garbage", "error"]

_FIRST_PASSAGE = re.compile(r"^\[1\] \(.*?#\d+\) (.*)$", re.MULTILINE)  # `.` stops at \n only
_SENTENCE = re.compile(r".*?[.!?](?=\s|$)")
_WORD = re.compile(r"\S+\s*")
_START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class _Knobs:
    token_delay_s: float
    fail_with_status: int | None
    break_after_tokens: int | None
    break_with: BreakWith
    require_api_key: str | None
    crlf: bool
    comments: bool


@dataclass
class _Tally:
    """What the server saw. uvicorn's thread writes it, the test's thread reads it."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    tokens_sent: int = 0
    tokens_after_disconnect: int = 0
    disconnects: int = 0
    streams_ended: int = 0
    last_body: Any = None


class _SimulatedCrash(Exception):
    """Raised in the handler mid-answer so uvicorn drops the connection (break_with="reset")."""


class OpenAIServer:
    """``with OpenAIServer(token_delay_s=0.01) as server: server.base_url`` — see the module."""

    def __init__(
        self,
        *,
        token_delay_s: float = 0.0,
        fail_with_status: int | None = None,
        break_after_tokens: int | None = None,
        break_with: BreakWith = "eof",
        require_api_key: str | None = None,
        crlf: bool = False,
        comments: bool = False,
    ) -> None:
        self._knobs = _Knobs(
            token_delay_s=token_delay_s,
            fail_with_status=fail_with_status,
            break_after_tokens=break_after_tokens,
            break_with=break_with,
            require_api_key=require_api_key,
            crlf=crlf,
            comments=comments,
        )
        self._tally = _Tally()
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        endpoint = _ChatCompletions(self._knobs, self._tally)
        app = Starlette(routes=[Route("/v1/chat/completions", endpoint, methods=["POST"])])
        # log_config=None: uvicorn would otherwise reconfigure the test process's logging.
        config = uvicorn.Config(
            app, log_config=None, log_level="warning", lifespan="off", timeout_graceful_shutdown=2
        )
        self._uvicorn = uvicorn.Server(config)
        # uvicorn installs signal handlers on the main thread only (Server.capture_signals),
        # so run in a thread it leaves the test runner's Ctrl-C alone, as httpx's TestServer
        # had to arrange by hand.
        self._thread = threading.Thread(
            target=self._uvicorn.run,
            kwargs={"sockets": [self._socket]},
            name=f"openai-server-{self.port}",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> OpenAIServer:
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"test OpenAI server did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._uvicorn.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._socket.close()

    @property
    def requests(self) -> int:
        with self._tally.lock:
            return self._tally.requests

    @property
    def tokens_sent(self) -> int:
        """Content pieces sent, all streams together."""
        with self._tally.lock:
            return self._tally.tokens_sent

    @property
    def tokens_after_disconnect(self) -> int:
        """Pieces sent after uvicorn reported a client gone and before the between-token check
        stopped the stream: how promptly this server stops generating."""
        with self._tally.lock:
            return self._tally.tokens_after_disconnect

    @property
    def disconnects(self) -> int:
        """Streams stopped because the client went away."""
        with self._tally.lock:
            return self._tally.disconnects

    @property
    def streams_ended(self) -> int:
        """Streams over, for whatever reason: finished, broken on purpose or disconnected."""
        with self._tally.lock:
            return self._tally.streams_ended

    @property
    def last_body(self) -> Any:
        """The JSON body of the last request."""
        with self._tally.lock:
            return self._tally.last_body


class _ChatCompletions:
    """``POST /v1/chat/completions`` as a plain ASGI app, so the streaming path owns its sends
    and decides itself when it has seen the disconnect (Starlette's StreamingResponse would
    cancel it from a listener task instead)."""

    def __init__(self, knobs: _Knobs, tally: _Tally) -> None:
        self._knobs = knobs
        self._tally = tally
        self._ids = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            body = await request.json()
        except ValueError:  # not JSON, or not UTF-8: refused below as a bad request
            body = None
        with self._tally.lock:
            self._tally.requests += 1
            self._tally.last_body = body
        refusal = self._refusal(request, body)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        answer = _first_sentence_answer(body["messages"])
        meta = {
            "id": f"chatcmpl-{next(self._ids)}",
            "created": int(time.time()),
            "model": body.get("model", ""),
        }
        if body.get("stream") is True:
            await _AnswerStream(self._knobs, self._tally, meta).run(request, send, answer)
        else:
            await JSONResponse(_completion(meta, answer))(scope, receive, send)

    def _refusal(self, request: Request, body: Any) -> Response | None:
        key = self._knobs.require_api_key
        if key is not None and request.headers.get("authorization") != f"Bearer {key}":
            return _error(401, "Incorrect API key provided.", "invalid_request_error")
        if self._knobs.fail_with_status is not None:
            status = self._knobs.fail_with_status
            return _error(status, "The server is overloaded.", "server_error")
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            message = "Body must be a JSON object with a messages list."
            return _error(400, message, "invalid_request_error")
        return None


class _AnswerStream:
    """One streamed answer. A watcher task records how many pieces had gone out when uvicorn
    reported the disconnect; the loop checks ``is_disconnected()`` between pieces and stops,
    so the difference is what it produced for nobody."""

    def __init__(self, knobs: _Knobs, tally: _Tally, meta: dict[str, Any]) -> None:
        self._knobs = knobs
        self._tally = tally
        self._meta = meta
        self._eol = "\r\n" if knobs.crlf else "\n"
        self._sent = 0
        self._sent_when_gone: int | None = None

    async def run(self, request: Request, send: Send, answer: str) -> None:
        headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        watcher = asyncio.create_task(self._watch(request.receive))
        try:
            await self._event(send, self._chunk({"role": "assistant"}))
            if await self._pieces(request, send, _WORD.findall(answer)):
                await self._event(send, self._chunk({}, finish_reason="stop"))
                await self._event(send, "[DONE]")
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
            with self._tally.lock:
                self._tally.streams_ended += 1

    async def _pieces(self, request: Request, send: Send, words: list[str]) -> bool:
        """Send the words; False if the stream stopped early (disconnect or a break knob)."""
        for word in words:
            if self._sent == self._knobs.break_after_tokens:
                await self._break(send)
                return False
            await asyncio.sleep(self._knobs.token_delay_s)
            if await request.is_disconnected():
                self._count_disconnect()
                return False
            await self._event(send, self._chunk({"content": word}))
            self._sent += 1
            with self._tally.lock:
                self._tally.tokens_sent += 1
        return True

    async def _break(self, send: Send) -> None:
        if self._knobs.break_with == "reset":
            raise _SimulatedCrash("break_with='reset'")
        if self._knobs.break_with == "garbage":
            await self._event(send, '{"id": "chatcmpl-x", "choices": [{"delta": {"content": "tru')
        elif self._knobs.break_with == "error":
            error = {"message": "The model crashed mid-answer.", "type": "server_error"}
            await self._event(send, json.dumps({"error": error}))

    def _count_disconnect(self) -> None:
        gone_at = self._sent if self._sent_when_gone is None else self._sent_when_gone
        with self._tally.lock:
            self._tally.disconnects += 1
            self._tally.tokens_after_disconnect += self._sent - gone_at

    async def _watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self._sent_when_gone = self._sent

    async def _event(self, send: Send, data: str) -> None:
        eol = self._eol
        prefix = f": keep-alive{eol}{eol}" if self._knobs.comments else ""
        text = f"{prefix}data: {data}{eol}{eol}"
        await send({"type": "http.response.body", "body": text.encode(), "more_body": True})

    def _chunk(self, delta: dict[str, str], finish_reason: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        chunk = {**self._meta, "object": "chat.completion.chunk", "choices": [choice]}
        return json.dumps(chunk, ensure_ascii=False)


def _first_sentence_answer(messages: list[Any]) -> str:
    users = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    content = users[-1] if users and isinstance(users[-1], str) else ""
    passage = _FIRST_PASSAGE.search(content)
    if passage is None:
        return "I don't know."
    text = passage.group(1).strip()
    sentence = _SENTENCE.match(text)
    return sentence.group(0) if sentence else text


def _completion(meta: dict[str, Any], answer: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": answer}
    return {
        **meta,
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"completion_tokens": len(_WORD.findall(answer))},
    }


def _error(status: int, message: str, kind: str) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return JSONResponse(body, status_code=status)
