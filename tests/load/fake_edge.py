"""A real HTTP server standing in for the global edge in front of the tabular stack: it marks
answers as nginx does (X-Edge-Waf, X-Cache-Status, X-Served-By-Region) and its "WAF" refuses
the labelled classes a test names, so the test knows the ground truth of every answer."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["MAX_BODY_BYTES", "FakeEdge", "Seen"]

MAX_BODY_BYTES = 65536  # the edge's default edge.max_body_bytes


@dataclass(frozen=True)
class Seen:
    """One request as it arrived, and what the fake answered."""

    method: str
    path: str
    label: str  # its X-Gameday-Label ("" when none)
    body: bytes
    status: int
    cache: str


class FakeEdge:
    """Blocks (403, ``X-Edge-Waf: blocked``) every request whose label is in ``blocks``;
    answers 413 itself to a body above 64 KiB; else answers as the tabular /predict, the
    first time a (path, body) is seen a cache MISS and every later time a HIT."""

    def __init__(self, blocks: Iterable[str] = ()) -> None:
        self.blocks = frozenset(blocks)
        self.seen: list[Seen] = []
        self._cached: set[tuple[str, bytes]] = set()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def answer(self, method: str, path: str, label: str,
               body: bytes) -> tuple[int, dict[str, str], dict[str, object]]:
        """(status, headers, JSON body) for one request; noted in ``seen``."""
        if len(body) > MAX_BODY_BYTES:
            status, headers, answer = 413, {"X-Edge-Waf": "blocking"}, {"error": "too large"}
            cache = "NONE"
        elif label in self.blocks:
            status, headers = 403, {"X-Edge-Waf": "blocked"}
            answer, cache = {"error": "blocked by the edge WAF"}, "NONE"
        else:
            with self._lock:
                cache = "HIT" if (path, body) in self._cached else "MISS"
                self._cached.add((path, body))
            status = 200 if path.startswith("/tabular/predict") else 404
            headers = {"X-Edge-Waf": "blocking", "X-Served-By-Region": "region-a"}
            answer = {"fraud_score": 0.12, "model_version": "1"} if status == 200 else {}
        with self._lock:
            self.seen.append(Seen(method, path, label, body, status, cache))
        return status, {**headers, "X-Cache-Status": cache}, answer

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeEdge

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = 1 << 16
    server: _Server

    def do_POST(self) -> None:
        # read the whole body, as nginx's lingering close does before its 413
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, headers, answer = self.server.fake.answer(
            self.command, self.path, self.headers.get("X-Gameday-Label") or "", body)
        raw = json.dumps(answer).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(raw)))
        if status == 413:  # nginx closes the connection after a 413
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST

    def log_message(self, format: str, *args: object) -> None:
        pass
