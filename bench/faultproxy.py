"""Benchmark: the fault proxy's cost on one hop, against direct and HAProxy in TCP mode.

An HAProxy serves a 1 KB body (``http-request return``); wrk with 8 keep-alive connections
(as the reference figure for the real Toxiproxy was measured; an asyncio client with one
request in flight per connection where wrk is not installed) loads it for a few seconds per case:
direct, through the fault proxy (no toxic: the fast path), through the fault proxy with a
0 ms latency toxic (the toxic pipeline), and through a one-hop HAProxy in ``mode tcp``.
Every process runs on 127.0.0.1; figures are ratios against the direct case of the same run.

    python bench/faultproxy.py [--seconds 5] [--connections 8] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["main"]

BODY_BYTES = 1024
_REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
_HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
_HAPROXY_CONFIG = """
global
    nbthread 1
    maxconn 4096
defaults
    timeout connect 2s
    timeout client 30s
    timeout server 30s
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout_s} s")


@contextmanager
def _process(argv: list[str]) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@contextmanager
def _haproxy(workdir: Path, name: str, sections: str, port: int) -> Iterator[None]:
    config = workdir / f"{name}.cfg"
    config.write_text(_HAPROXY_CONFIG + sections)
    with _process([_HAPROXY, "-db", "-f", str(config)]):
        _wait_listening(port)
        yield


def _origin_sections(port: int, body: Path) -> str:
    return f"""
frontend origin
    mode http
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain file {body}
"""


def _tcp_hop_sections(port: int, upstream_port: int) -> str:
    return f"""
frontend hop
    mode tcp
    bind 127.0.0.1:{port}
    default_backend origin
backend origin
    mode tcp
    server origin 127.0.0.1:{upstream_port}
"""


@contextmanager
def _faultproxy() -> Iterator[str]:
    argv = [sys.executable, "-m", "gameday.platforms.local.faultproxy", "--port", "0"]
    with _process(argv) as process:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("faultproxy listening on "):
            raise RuntimeError(f"fault proxy did not start: {line!r}")
        yield "http://" + line.rsplit(" ", 1)[1]


def _api(base_url: str, path: str, body: object) -> dict[str, object]:
    request = urllib.request.Request(f"{base_url}{path}", data=json.dumps(body).encode(),
                                     method="POST")
    with urllib.request.urlopen(request, timeout=10) as reply:
        return dict(json.loads(reply.read()))


def _response_size(port: int) -> int:
    """Bytes of one whole response (headers + body); every response here is the same."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(_REQUEST)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _ = data.split(b"\r\n\r\n", 1)
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        return len(head) + 4 + length


class _Connection(asyncio.Protocol):
    """One keep-alive connection, one request in flight, until the deadline."""

    def __init__(self, response_size: int, deadline_s: float, latencies_s: list[float],
                 done: asyncio.Future[None]):
        self._size = response_size
        self._deadline_s = deadline_s
        self._latencies_s = latencies_s
        self._done = done
        self._received = 0
        self._sent_s = 0.0
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._send()

    def _send(self) -> None:
        assert self._transport is not None
        self._sent_s = time.perf_counter()
        if self._sent_s >= self._deadline_s:
            self._transport.close()
            return
        self._received = 0
        self._transport.write(_REQUEST)

    def data_received(self, data: bytes) -> None:
        self._received += len(data)
        if self._received >= self._size:
            if self._received != self._size:
                raise RuntimeError("response size changed; the benchmark assumes fixed size")
            self._latencies_s.append(time.perf_counter() - self._sent_s)
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._done.done():
            self._done.set_result(None)


async def _load(port: int, seconds: float, connections: int) -> list[float]:
    loop = asyncio.get_running_loop()
    size = _response_size(port)
    latencies_s: list[float] = []
    deadline_s = time.perf_counter() + seconds
    dones = [loop.create_future() for _ in range(connections)]
    for done in dones:
        await loop.create_connection(
            lambda done=done: _Connection(size, deadline_s, latencies_s, done),
            "127.0.0.1", port)
    await asyncio.wait_for(asyncio.gather(*dones), seconds + 10)
    return latencies_s


_WRK = shutil.which("wrk")
_WRK_UNITS_US = {"us": 1.0, "ms": 1e3, "s": 1e6}


def _wrk_round(port: int, seconds: float, connections: int) -> dict[str, float]:
    """One wrk run (one thread, ``connections`` keep-alive connections), its rate and latency."""
    output = subprocess.run(
        [str(_WRK), "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
         f"http://127.0.0.1:{port}/"], capture_output=True, text=True, check=True).stdout
    figures: dict[str, float] = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("50%", "99%"):
            number = parts[1].rstrip("usm")
            unit = parts[1][len(number):]
            figures[f"p{parts[0].rstrip('%')}_us"] = float(number) * _WRK_UNITS_US[unit]
        elif line.startswith("Requests/sec:"):
            figures["requests_per_s"] = float(parts[1])
    if len(figures) != 3:
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    return figures


def _measure_wrk(ports: dict[str, int], seconds: float, connections: int,
                 rounds: int) -> dict[str, dict[str, float]]:
    """wrk, as the reference figure for the real Toxiproxy was measured; cases interleaved
    over rounds, each case's figures the median of its rounds."""
    results: dict[str, list[dict[str, float]]] = {case: [] for case in ports}
    for _ in range(rounds):
        for case, port in ports.items():
            results[case].append(_wrk_round(port, seconds / rounds, connections))
    return {case: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
            for case, runs in results.items()}


def _measure(ports: dict[str, int], seconds: float, connections: int,
             rounds: int) -> dict[str, dict[str, float]]:
    """Cases interleaved over rounds, so load from other processes hits them all alike."""
    if _WRK:
        return _measure_wrk(ports, seconds, connections, rounds)
    for port in ports.values():
        asyncio.run(_load(port, 0.5, connections))  # warm-up, not counted
    latencies_s: dict[str, list[float]] = {case: [] for case in ports}
    for _ in range(rounds):
        for case, port in ports.items():
            latencies_s[case] += asyncio.run(_load(port, seconds / rounds, connections))
    return {case: _figures(sorted(values), seconds) for case, values in latencies_s.items()}


def _figures(latencies_s: list[float], seconds: float) -> dict[str, float]:
    cuts = statistics.quantiles(latencies_s, n=100, method="inclusive")
    return {"requests_per_s": len(latencies_s) / seconds, "p50_us": cuts[49] * 1e6,
            "p99_us": cuts[98] * 1e6, "requests": float(len(latencies_s))}


def _run_cases(seconds: float, connections: int,
               rounds: int) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="bench-faultproxy-") as tmp:
        workdir = Path(tmp)
        body = workdir / "body.txt"
        body.write_bytes(b"x" * BODY_BYTES)
        origin, hop = _free_port(), _free_port()
        with _haproxy(workdir, "origin", _origin_sections(origin, body), origin), \
                _haproxy(workdir, "hop", _tcp_hop_sections(hop, origin), hop), \
                _faultproxy() as api:
            plain = _api(api, "/proxies", {"name": "plain", "listen": "127.0.0.1:0",
                                           "upstream": f"127.0.0.1:{origin}"})
            toxic = _api(api, "/proxies", {"name": "toxic", "listen": "127.0.0.1:0",
                                           "upstream": f"127.0.0.1:{origin}"})
            _api(api, "/proxies/toxic/toxics", {"type": "latency", "attributes": {"latency": 0}})
            ports = {"direct": origin, "faultproxy": _port(plain), "haproxy_tcp": hop,
                     "faultproxy_toxic_pipeline": _port(toxic)}
            return _measure(ports, seconds, connections, rounds)


def _port(proxy: dict[str, object]) -> int:
    return int(str(proxy["listen"]).rsplit(":", 1)[1])


def _summary(cases: dict[str, dict[str, float]]) -> dict[str, float]:
    direct, proxy, hop = cases["direct"], cases["faultproxy"], cases["haproxy_tcp"]
    piped = cases["faultproxy_toxic_pipeline"]
    return {
        "faultproxy_vs_direct_throughput": proxy["requests_per_s"] / direct["requests_per_s"],
        "faultproxy_vs_haproxy_tcp_throughput": proxy["requests_per_s"] / hop["requests_per_s"],
        "haproxy_tcp_vs_direct_throughput": hop["requests_per_s"] / direct["requests_per_s"],
        "faultproxy_added_p50_us": proxy["p50_us"] - direct["p50_us"],
        "faultproxy_added_p99_us": proxy["p99_us"] - direct["p99_us"],
        "haproxy_tcp_added_p50_us": hop["p50_us"] - direct["p50_us"],
        "haproxy_tcp_added_p99_us": hop["p99_us"] - direct["p99_us"],
        "toxic_pipeline_vs_fast_path_throughput":
            piped["requests_per_s"] / proxy["requests_per_s"],
        "toxic_pipeline_added_p50_us": piped["p50_us"] - direct["p50_us"],
    }


def _print_table(cases: dict[str, dict[str, float]], summary: dict[str, float]) -> None:
    print(f"{'case':28} {'req/s':>9} {'p50 µs':>9} {'p99 µs':>9}")
    for case, figures in cases.items():
        print(f"{case:28} {figures['requests_per_s']:9.0f} {figures['p50_us']:9.0f} "
              f"{figures['p99_us']:9.0f}")
    print()
    for name, value in summary.items():
        print(f"{name:40} {value:9.2f}")


def main(seconds: float = 5.0, connections: int = 8, rounds: int = 5) -> dict[str, object]:
    """Run every case; the figures as a dict (for ``make bench`` to aggregate)."""
    cases = _run_cases(seconds, connections, rounds)
    summary = _summary(cases)
    _print_table(cases, summary)
    return {"benchmark": "faultproxy", "client": "wrk" if _WRK else "asyncio",
            "seconds_per_case": seconds, "connections": connections, "rounds": rounds,
            "body_bytes": BODY_BYTES, "cpus": os.cpu_count(),
            "cases": cases, "summary": summary}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per case")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    options = parser.parse_args()
    figures = main(options.seconds, options.connections, options.rounds)
    if options.json:
        print(json.dumps(figures, indent=2))
