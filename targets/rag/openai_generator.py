"""A generator backed by any OpenAI-compatible chat endpoint on loopback (vLLM, llama.cpp,
Ollama, a test double): the passages go into the prompt, the answer streams back over SSE."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import httpx

from targets.rag.generation import GenerationError, Passage

__all__ = ["OpenAIGenerator"]

_SYSTEM_PROMPT = (
    "Answer the question using only the numbered context passages. Reply with the shortest "
    "exact span copied from the passages that answers it, with no explanation. If the "
    "passages do not contain the answer, reply exactly: I don't know."
)
# SSE ends a line only at CRLF, LF or CR. httpx's aiter_lines also splits at U+2028, U+0085
# and other str.splitlines breaks, which servers that write raw UTF-8 JSON (ensure_ascii off,
# as pydantic does) leave unescaped inside a string: that would cut a chunk in two.
_LINE_END = re.compile(rb"\r\n|\r|\n")
# An upstream that never ends a line must not grow our memory without bound.
_MAX_LINE_BYTES = 1 << 20
_DONE = "[DONE]"


class OpenAIGenerator:
    """Streams answers from ``{base_url}/chat/completions`` (OpenAI chat format, SSE).

    Closing the stream early (``aclose()`` or cancelling the consuming task) closes the HTTP
    response, and with it the connection, so the upstream sees the disconnect and stops.
    The client it builds ignores proxy variables in the environment (``trust_env=False``) so
    every socket stays on loopback; a ``client`` passed in is used as given and left open.
    """

    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 10.0,
        max_tokens: int = 128,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if not model:
            raise ValueError("model must name the endpoint's model, got an empty string")
        if timeout_s <= 0 or max_tokens <= 0:
            raise ValueError(f"timeout_s and max_tokens must be > 0, got {timeout_s}, {max_tokens}")
        self._url = _chat_completions_url(base_url)
        self._model = model
        self._max_tokens = max_tokens
        self._timeout = httpx.Timeout(timeout_s)
        self._headers = {"Accept": "text/event-stream"}
        if api_key is not None:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=self._timeout, trust_env=False)

    async def stream(self, question: str, passages: Sequence[Passage]) -> AsyncGenerator[str, None]:
        """The answer's text pieces, in order; GenerationError if the endpoint fails."""
        body = {
            "model": self._model,
            "stream": True,
            "max_tokens": self._max_tokens,
            "temperature": 0,
            "messages": _messages(question, passages),
        }
        try:
            # The `async with` is the point: GeneratorExit (aclose) or CancelledError at any
            # await or yield below leaves it, which closes the response and its connection.
            async with self._client.stream(
                "POST", self._url, json=body, headers=self._headers,
                timeout=self._timeout, follow_redirects=False,
            ) as response:  # fmt: skip
                await self._raise_for_status(response)
                chunks = _ChunkStream(self._url)
                async for data in response.aiter_bytes():
                    for piece in chunks.feed(data):
                        yield piece
                    if chunks.done:
                        return
                chunks.finish()
        except httpx.TimeoutException as exc:
            raise GenerationError(
                f"{self._url} timed out ({type(exc).__name__}, limit {self._timeout.read} s)"
            ) from exc
        except httpx.ConnectError as exc:
            raise GenerationError(f"cannot connect to {self._url}: {exc}") from exc
        except httpx.RequestError as exc:
            raise GenerationError(f"stream from {self._url} broke: {exc!r}") from exc

    async def aclose(self) -> None:
        """Close the HTTP client if this generator built it."""
        if self._owns_client:
            await self._client.aclose()

    async def _raise_for_status(self, response: httpx.Response) -> None:
        if response.status_code == 200:
            return
        await response.aread()
        raise GenerationError(
            f"{self._url} answered {response.status_code} {response.reason_phrase}: "
            f"{response.text[:200]}"
        )


class _ChunkStream:
    """Turns the bytes of an SSE response into answer pieces: one ``data:`` line is one chunk,
    as OpenAI-compatible servers send them; comments (``:``), blank lines and other fields
    are skipped. ``done`` once ``data: [DONE]`` arrived."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._buffer = b""
        self.done = False

    def feed(self, data: bytes) -> list[str]:
        """The pieces completed by these bytes (none after ``[DONE]``)."""
        buffer = self._buffer + data
        # A CR at the end may be the first half of a CRLF split across reads.
        held = b"\r" if buffer.endswith(b"\r") else b""
        lines = _LINE_END.split(buffer[: len(buffer) - len(held)])
        self._buffer = lines.pop() + held
        if len(self._buffer) > _MAX_LINE_BYTES:
            raise GenerationError(f"{self._url} sent a line over {_MAX_LINE_BYTES} bytes")
        pieces = []
        for line in lines:
            piece = self._piece_of(line)
            if self.done:
                break
            if piece:
                pieces.append(piece)
        return pieces

    def finish(self) -> None:
        """At the end of the body: a stream that stopped before ``[DONE]`` is broken, and its
        pieces so far must not pass for a whole answer."""
        if self._buffer.strip(b"\r"):
            self._piece_of(self._buffer.rstrip(b"\r"))  # a last line without its newline
        if not self.done:
            raise GenerationError(
                f"stream from {self._url} ended before 'data: [DONE]': the answer is cut short"
            )

    def _piece_of(self, line: bytes) -> str:
        field, _, value = line.partition(b":")
        if field != b"data":  # blank line, comment (empty field) or event/id/retry
            return ""
        try:
            payload = value.removeprefix(b" ").decode("utf-8")
        except UnicodeDecodeError as exc:
            raise GenerationError(f"chunk from {self._url} is not UTF-8: {value[:200]!r}") from exc
        if payload == _DONE:
            self.done = True
            return ""
        return _content_of(payload, self._url)


def _content_of(payload: str, url: str) -> str:
    """The text in one chunk: ``choices[0].delta.content``, "" for role-only or usage chunks."""
    try:
        chunk: Any = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise GenerationError(f"malformed JSON chunk from {url}: {payload[:200]!r}") from exc
    if not isinstance(chunk, dict):
        raise GenerationError(f"chunk from {url} is not a JSON object: {payload[:200]!r}")
    if chunk.get("error") is not None:
        error = chunk["error"]
        message = error.get("message", error) if isinstance(error, dict) else error
        raise GenerationError(f"{url} reported an error mid-stream: {message}")
    choices = chunk.get("choices")
    if not choices:
        return ""
    if not isinstance(choices, list) or not isinstance(choices[0], dict):
        raise GenerationError(f"chunk from {url} has no choices list: {payload[:200]!r}")
    delta = choices[0].get("delta")
    content = delta.get("content") if isinstance(delta, dict) else None
    return content if isinstance(content, str) else ""


def _messages(question: str, passages: Sequence[Passage]) -> list[dict[str, str]]:
    """The system rule, then the numbered passages (text verbatim, so an exact span can be
    copied) and the question."""
    numbered = [f"[{n}] ({p.doc_id}#{p.chunk}) {p.text}" for n, p in enumerate(passages, 1)]
    context = "\n".join(numbered) if numbered else "(no passages)"
    user = f"Context passages:\n{context}\n\nQuestion: {question}"
    return [{"role": "system", "content": _SYSTEM_PROMPT}, {"role": "user", "content": user}]


def _chat_completions_url(base_url: str) -> str:
    """``{base_url}/chat/completions``, or ValueError unless the host is on loopback."""
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"base_url {base_url!r} is not a valid URL: {exc}") from exc
    if url.scheme not in ("http", "https"):
        raise ValueError(f"base_url {base_url!r}: scheme must be http or https")
    if not _is_loopback(url.host):
        raise ValueError(
            f"base_url {base_url!r}: host {url.host!r} is not loopback; only 127.0.0.0/8 "
            "and localhost are allowed"
        )
    return base_url.rstrip("/") + "/chat/completions"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.IPv4Address(host).is_loopback
    except ValueError:  # a name other than localhost, an IPv6 address, or empty
        return False
