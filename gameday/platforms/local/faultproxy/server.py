"""The fault proxy as one object: API server plus proxies, in a loop or in a thread."""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType

from gameday.errors import ConfigError, PlatformError
from gameday.platforms.local.faultproxy.api import Api
from gameday.platforms.local.faultproxy.collection import ProxyCollection
from gameday.platforms.local.faultproxy.errors import ApiError
from gameday.platforms.local.faultproxy.httpserver import serve_http
from gameday.platforms.local.faultproxy.loopback import format_address, parse_loopback

__all__ = ["FaultProxyServer", "ServerThread", "run_in_thread"]

_START_TIMEOUT_S = 10.0


class FaultProxyServer:
    """The Toxiproxy-compatible API on ``host:port`` (port 0: any free port) and its proxies."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8474):
        try:
            self.host, _ = parse_loopback(format_address(host, port), field="--host",
                                          allow_port_zero=True)
        except ApiError as exc:
            raise ConfigError(exc.message, field="host") from None
        self.port = port
        self.collection = ProxyCollection()
        self._http: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://{format_address(self.host, self.port)}"

    async def start(self) -> None:
        """Listen for the API; raises OSError if the address is taken."""
        self._http = await serve_http(Api(self.collection).handle, self.host, self.port)
        self.port = self._http.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop the API, then every proxy (closing their connections)."""
        if self._http is not None:
            self._http.close()
            await self._http.wait_closed()
            self._http = None
        await self.collection.close()


class ServerThread:
    """A FaultProxyServer running on its own event loop in a daemon thread (for tests)."""

    def __init__(self, host: str, port: int):
        self.server = FaultProxyServer(host, port)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="faultproxy", daemon=True)

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT_S):
            raise PlatformError(f"fault proxy did not start within {_START_TIMEOUT_S} s")
        if self._error is not None:
            raise PlatformError(f"fault proxy failed to start: {self._error}") from self._error
        return self

    def stop(self) -> None:
        """Stop the server and its proxies, and wait for the thread to end."""
        if self._loop is not None and self._stopping is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(_START_TIMEOUT_S)

    def __enter__(self) -> ServerThread:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        try:
            await self.server.start()
        except OSError as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        await self._stopping.wait()
        await self.server.stop()


def run_in_thread(host: str = "127.0.0.1", port: int = 0) -> ServerThread:
    """Start a fault proxy in a background thread; ``.stop()`` it (or use ``with``)."""
    return ServerThread(host, port).start()
