"""A minimal HTTP/1.1 server on asyncio streams: one request per connection, JSON replies.

Enough for Toxiproxy clients (python-requests, Go net/http, curl): Content-Length or
chunked bodies, ``Connection: close`` on every response. No dependency beyond asyncio.
"""

from __future__ import annotations

import asyncio
import http
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

__all__ = ["Handler", "Request", "Response", "json_response", "serve_http"]

_log = logging.getLogger(__name__)

_READ_TIMEOUT_S = 15.0  # Toxiproxy's read timeout
_MAX_HEADERS = 100
_MAX_BODY_BYTES = 4 << 20


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"

    def encode(self) -> bytes:
        reason = http.HTTPStatus(self.status).phrase
        head = [f"HTTP/1.1 {self.status} {reason}", "Connection: close"]
        if self.status != 204:
            head += [f"Content-Type: {self.content_type}", f"Content-Length: {len(self.body)}"]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + self.body


Handler = Callable[[Request], Awaitable[Response]]


def json_response(status: int, payload: object) -> Response:
    return Response(status, json.dumps(payload).encode() + b"\n")


class _BadRequest(Exception):
    pass


async def serve_http(handler: Handler, host: str, port: int) -> asyncio.Server:
    """Start serving; the caller closes the returned server."""

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            response = await _respond(handler, reader)
            if response is not None:
                writer.write(response.encode())
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(on_connection, host, port, reuse_address=True)


async def _respond(handler: Handler, reader: asyncio.StreamReader) -> Response | None:
    try:
        request = await asyncio.wait_for(_read_request(reader), _READ_TIMEOUT_S)
    except TimeoutError:
        return None
    except (_BadRequest, ValueError) as exc:
        return json_response(400, {"error": f"bad request: {exc}", "status": 400})
    try:
        return await handler(request)
    except Exception:
        _log.exception("API handler failed for %s %s", request.method, request.path)
        return json_response(500, {"error": "internal error", "status": 500})


async def _read_request(reader: asyncio.StreamReader) -> Request:
    request_line = (await reader.readline()).decode("latin-1").strip()
    if not request_line:
        raise asyncio.IncompleteReadError(b"", None)
    parts = request_line.split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest(f"malformed request line {request_line!r}")
    headers: dict[str, str] = {}
    while (line := (await reader.readline()).decode("latin-1").strip()):
        if len(headers) >= _MAX_HEADERS:
            raise _BadRequest("too many headers")
        name, sep, value = line.partition(":")
        if not sep:
            raise _BadRequest(f"malformed header {line!r}")
        headers[name.strip().lower()] = value.strip()
    body = await _read_body(reader, headers)
    return Request(parts[0].upper(), parts[1], headers, body)


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while (size := int((await reader.readline()).split(b";")[0], 16)) > 0:
            body += await reader.readexactly(size)
            await reader.readline()
            if len(body) > _MAX_BODY_BYTES:
                raise _BadRequest("body too large")
        while (await reader.readline()).strip():
            pass  # trailers
        return bytes(body)
    length = int(headers.get("content-length", "0"))
    if not 0 <= length <= _MAX_BODY_BYTES:
        raise _BadRequest(f"bad content-length {length}")
    return await reader.readexactly(length)
