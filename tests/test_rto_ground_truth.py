"""Ground truth for RTO: a real HTTP server whose outage window the test controls exactly.

The open-model generator (a real child process) drives the server; from t0 to t1 the server
answers 503 (or refuses connections and drops the open ones). The RTO that ``gameday.measure``
computes from the recorded requests must equal t1 − t0 within the request spacing + 20 ms.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gameday.load import LoadPlan, LoadProcess
from gameday.measure.rto import measure_rto
from gameday.records import read_requests

RATE_PER_S = 200.0
SPACING_S = 1 / RATE_PER_S
TOLERANCE_S = SPACING_S + 0.020
ANSWER = json.dumps({"fraud_score": 0.1, "is_fraud": False, "model_version": "1",
                     "region": "region-a"}).encode()


class OutageServer:
    """An asyncio HTTP/1.1 keep-alive server; ``outage(t0, t1, mode)`` scripts its failure."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.mode = "503"
        self.window = (float("inf"), float("inf"))
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._listen(), self.loop).result()

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port,
                                                  reuse_address=True)
        return int(self._server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length")), 0)
                await reader.readexactly(length)
                t0, t1 = self.window
                failing = self.mode == "503" and t0 <= time.time() < t1
                status, body = (b"503 Service Unavailable", b"down") if failing \
                    else (b"200 OK", ANSWER)
                writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
                             b"X-Served-By-Region: region-a\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def _refuse(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()

    def _reopen(self) -> None:
        self._reopening = asyncio.ensure_future(self._listen(), loop=self.loop)

    def outage(self, t0_s: float, t1_s: float, mode: str) -> None:
        self.mode, self.window = mode, (t0_s, t1_s)
        if mode == "refuse":
            now_s, loop_now = time.time(), self.loop.time()
            self.loop.call_soon_threadsafe(self.loop.call_at, loop_now + t0_s - now_s,
                                           self._refuse)
            self.loop.call_soon_threadsafe(self.loop.call_at, loop_now + t1_s - now_s,
                                           self._reopen)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self._refuse)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


@pytest.fixture
def outage_server() -> Iterator[OutageServer]:
    server = OutageServer()
    yield server
    server.close()


@pytest.mark.parametrize("mode", ["503", "refuse"])
def test_measured_rto_matches_the_outage_the_server_really_had(
        outage_server: OutageServer, tmp_path: Path, mode: str) -> None:
    plan = LoadPlan(base_url=f"http://127.0.0.1:{outage_server.port}", arrival="constant",
                    rate_per_s=RATE_PER_S, warmup_s=0.0, duration_s=7.0, timeout_s=1.0,
                    start_at_s=time.time() + 2.0)
    with LoadProcess.start(plan, tmp_path) as load:
        t_start_s = load.wait_started(timeout_s=30)
        t0_s, t1_s = t_start_s + 1.5, t_start_s + 3.0
        outage_server.outage(t0_s, t1_s, mode)
        assert load.wait(timeout_s=60) == 0

    records = read_requests(tmp_path)
    rto = measure_rto(records, fault_start_s=t0_s, faulted_region="region-a",
                      stability_window_s=2.0, latency_slo_s=0.25)

    print(f"\n{mode}: true outage {t1_s - t0_s:.3f} s, measured RTO {rto.rto_s:.4f} s, "
          f"detect {rto.detect_s} s, failed {rto.failed_requests}")
    assert rto.recovered
    assert rto.rto_s is not None and rto.detect_s is not None
    assert abs(rto.rto_s - (t1_s - t0_s)) <= TOLERANCE_S, (rto, t1_s - t0_s)
    assert 0 <= rto.detect_s <= TOLERANCE_S
    assert rto.failed_requests >= 0.8 * (t1_s - t0_s) * RATE_PER_S
    expected_kind = "http_5xx" if mode == "503" else "connection"
    kinds = {r.error_kind for r in records if not r.ok}
    assert expected_kind in kinds
