"""The pacer's plain sends: one request, one whole answer, through geventhttpclient's
``HTTPClient`` (the client under Locust's ``FastHttpUser``), reported to Locust's
``events.request`` as ``FastHttpSession`` reports a request.

Why not ``FastHttpSession.request``: measured in the paced generator (bench/load.py, and an
in-process A/B at 2.5k-4k req/s), its ``UserAgent`` layer costs about a fifth of the CPU of a
request: the URL parsed again, headers merged, cookies, redirects and decompression looked at
for every send. A paced send needs none of it: one method on one absolute URL, a body encoded
before the run, and a redirect is an answer to judge, not to follow. Streamed answers (RAG)
still go through ``FastHttpSession``, which reads them token by token.

Runs only inside a generator process (geventhttpclient needs gevent's monkey-patching).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from geventhttpclient import HTTPClient
from geventhttpclient.url import URL
from locust.contrib.fasthttp import FAILURE_EXCEPTIONS

__all__ = ["Answer", "PlainTransport"]


class Answer:
    """What a listener reads of an answer, as of Locust's ``FastResponse``: the HTTP status
    (0 when none came back), the headers (case-insensitive ``get``) and the body."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: Mapping[str, Any] | None,
                 content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content


class PlainTransport:
    """Sends to one URL over at most ``concurrency`` kept-alive connections; every send,
    answered or not, fires ``on_request`` once with Locust's ``events.request`` arguments.
    ``send_to`` sends another method, request target and headers to the same host (the
    labelled set: each request its own)."""

    def __init__(self, url: str, method: str, headers: dict[str, str], *, concurrency: int,
                 timeout_s: float, on_request: Callable[..., None]) -> None:
        target = URL(url)
        self._client = HTTPClient.from_url(target, concurrency=concurrency,
                                           connection_timeout=timeout_s,
                                           network_timeout=timeout_s)
        self._url, self._path, self._method = url, target.request_uri, method
        parts = urlsplit(url)
        self._origin = f"{parts.scheme}://{parts.netloc}"  # the URL of a send_to target
        self._headers = headers
        self._on_request = on_request

    def send(self, body: bytes, context: dict[str, Any]) -> None:
        self._exchange(self._method, self._path, self._headers, body, context, self._url)

    def send_to(self, method: str, request_uri: str, headers: dict[str, str], body: bytes,
                context: dict[str, Any]) -> None:
        """``request_uri`` (origin-form, "/prefix/path?query") is sent as it is written."""
        self._exchange(method, request_uri, headers, body, context, self._origin + request_uri)

    def _exchange(self, method: str, path: str, request_headers: dict[str, str], body: bytes,
                  context: dict[str, Any], url: str) -> None:
        start_s, started = time.time(), time.perf_counter()
        status, headers, content, error = 0, None, b"", None
        try:
            response = self._client.request(method, path, body=body, headers=request_headers)
            status, headers = response.status_code, response.info()
            content = response.read()  # to the end: the connection goes back to the pool
        except FAILURE_EXCEPTIONS as exc:  # the same failures FastHttpSession records
            error = exc
        self._on_request(request_type=method, name=path, context=context,
                         response=Answer(status, headers, content), exception=error,
                         start_time=start_s, response_time=(time.perf_counter() - started) * 1e3,
                         response_length=len(content), url=url)

    def close(self) -> None:
        self._client.close()
