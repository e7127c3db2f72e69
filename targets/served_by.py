"""ASGI middleware, shared by the stacks' services, that stamps who served a response and times
every request."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ServedByMiddleware"]


class ServedByMiddleware:
    """Adds X-Served-By-Region and X-Served-By-Replica to every response and reports
    (endpoint, status, duration_s) when the body is sent.

    Plain ASGI rather than BaseHTTPMiddleware: that one costs a task and a stream per request.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        region: str,
        replica: str,
        endpoints: Collection[str],
        observe: Callable[[str, int, float], None],
    ) -> None:
        self._app = app
        self._headers = {"X-Served-By-Region": region, "X-Served-By-Replica": replica}
        # Unknown paths share one label so a scanner cannot grow the metric without bound.
        self._endpoints = frozenset(endpoints)
        self._observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started_s = time.perf_counter()
        path = scope["path"]
        endpoint = path if path in self._endpoints else "other"
        status = 500
        finished = False

        async def send_stamped(message: Message) -> None:
            nonlocal status, finished
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in self._headers.items():
                    headers[name] = value
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                finished = True
                self._observe(endpoint, status, time.perf_counter() - started_s)
            await send(message)

        try:
            await self._app(scope, receive, send_stamped)
        except Exception:
            # The outer error handler answers 500 without passing through here: count it.
            if not finished:
                self._observe(endpoint, 500, time.perf_counter() - started_s)
            raise
