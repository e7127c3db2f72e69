"""The Toxiproxy HTTP API (routes, JSON shapes, status codes) over a ProxyCollection."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from urllib.parse import unquote, urlsplit

from gameday.platforms.local.faultproxy.collection import ProxyCollection
from gameday.platforms.local.faultproxy.errors import ApiError
from gameday.platforms.local.faultproxy.httpserver import Request, Response, json_response

__all__ = ["API_VERSION", "Api"]

# The Toxiproxy release whose API this speaks; the suffix says it is not the real server.
API_VERSION = "2.12.0+gameday.faultproxy"

_Route = Callable[[Request, list[str]], Awaitable[Response]]


class Api:
    """Routes a Request to the collection and renders the answer as Toxiproxy does."""

    def __init__(self, collection: ProxyCollection):
        self._collection = collection
        # (path shape, method) -> handler; "*" matches one name segment.
        self._routes: dict[tuple[tuple[str, ...], str], _Route] = {
            (("version",), "GET"): self._version,
            (("reset",), "POST"): self._reset,
            (("populate",), "POST"): self._populate,
            (("proxies",), "GET"): self._proxy_index,
            (("proxies",), "POST"): self._proxy_create,
            (("proxies", "*"), "GET"): self._proxy_show,
            (("proxies", "*"), "POST"): self._proxy_update,
            (("proxies", "*"), "PATCH"): self._proxy_update,
            (("proxies", "*"), "DELETE"): self._proxy_delete,
            (("proxies", "*", "toxics"), "GET"): self._toxic_index,
            (("proxies", "*", "toxics"), "POST"): self._toxic_create,
            (("proxies", "*", "toxics", "*"), "GET"): self._toxic_show,
            (("proxies", "*", "toxics", "*"), "POST"): self._toxic_update,
            (("proxies", "*", "toxics", "*"), "PATCH"): self._toxic_update,
            (("proxies", "*", "toxics", "*"), "DELETE"): self._toxic_delete,
        }

    async def handle(self, request: Request) -> Response:
        # Toxiproxy refuses browsers, so a web page cannot drive the proxy from a tab.
        if request.headers.get("user-agent", "").startswith("Mozilla/"):
            return Response(403, b"User agent not allowed\n", "text/plain")
        segments = [unquote(s) for s in urlsplit(request.path).path.strip("/").split("/")]
        shape = tuple("*" if i % 2 else s for i, s in enumerate(segments))
        route = self._routes.get((shape, request.method))
        try:
            if route is None:
                known = any(shape == path for path, _ in self._routes)
                raise ApiError(405 if known else 404,
                               "method not allowed" if known else "not found")
            return await route(request, segments)
        except ApiError as exc:
            return json_response(exc.status, exc.to_json())

    async def _version(self, request: Request, segments: list[str]) -> Response:
        return json_response(200, {"version": API_VERSION})

    async def _reset(self, request: Request, segments: list[str]) -> Response:
        await self._collection.reset()
        return Response(204)

    async def _populate(self, request: Request, segments: list[str]) -> Response:
        proxies, error = await self._collection.populate(_body(request))
        payload: dict[str, object] = {"proxies": [p.to_json() for p in proxies]}
        if error is not None:
            payload.update(error.to_json())
        return json_response(error.status if error else 201, payload)

    async def _proxy_index(self, request: Request, segments: list[str]) -> Response:
        return json_response(200, {p.name: p.to_json() for p in self._collection.all()})

    async def _proxy_create(self, request: Request, segments: list[str]) -> Response:
        proxy = await self._collection.create(_body(request))
        return json_response(201, proxy.to_json())

    async def _proxy_show(self, request: Request, segments: list[str]) -> Response:
        return json_response(200, self._collection.get(segments[1]).to_json())

    async def _proxy_update(self, request: Request, segments: list[str]) -> Response:
        proxy = await self._collection.update(segments[1], _body(request))
        return json_response(200, proxy.to_json())

    async def _proxy_delete(self, request: Request, segments: list[str]) -> Response:
        await self._collection.delete(segments[1])
        return Response(204)

    async def _toxic_index(self, request: Request, segments: list[str]) -> Response:
        toxics = self._collection.get(segments[1]).toxics()
        return json_response(200, [t.to_json() for t in toxics])

    async def _toxic_create(self, request: Request, segments: list[str]) -> Response:
        spec = await self._collection.add_toxic(segments[1], _body(request))
        return json_response(200, spec.to_json())

    async def _toxic_show(self, request: Request, segments: list[str]) -> Response:
        return json_response(200, self._collection.get(segments[1]).toxic(segments[3]).to_json())

    async def _toxic_update(self, request: Request, segments: list[str]) -> Response:
        spec = await self._collection.update_toxic(segments[1], segments[3], _body(request))
        return json_response(200, spec.to_json())

    async def _toxic_delete(self, request: Request, segments: list[str]) -> Response:
        await self._collection.remove_toxic(segments[1], segments[3])
        return Response(204)


def _body(request: Request) -> object:
    try:
        return json.loads(request.body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"bad request body: {exc}") from None
