"""The edge's nginx + ModSecurity + CRS on its own: the rendered files pass ``nginx -t`` in
every mode, and in detection-only mode nothing is blocked while every hit is logged.

A real nginx with the real CRS; what stands behind it is a small HTTP server in place of
HAProxy (the platform tests, test_waf_edge.py, run the whole edge).
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from gameday.edge_options import CacheOptions, WafOptions
from gameday.errors import PlatformError
from gameday.platforms.local.waf import (
    NginxConfig,
    NginxRoute,
    NginxServer,
    missing_parts,
    nginx_argv,
    nginx_check,
    prepare_home,
    read_audit_log,
    render_modsecurity,
    render_nginx,
    worker_user,
)

pytestmark = pytest.mark.skipif(bool(missing_parts()),
                                reason=f"not installed: {missing_parts()} (make setup)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Upstream(BaseHTTPRequestHandler):
    """Answers every request 200 with what it got, as a healthy region would."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *_: object) -> None:
        return None

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.dumps({"path": self.path, "bytes": len(self.rfile.read(length))}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Served-By-Region", "region-a")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer


def _files(home: Path, mode: str, upstream: int, ports: tuple[int, int]) -> Path:
    prepare_home(home)
    audit = home / "audit.log"
    (home / "modsecurity.conf").write_text(render_modsecurity(
        WafOptions(mode=mode), home=home, audit_log=audit, max_body_bytes=65536))  # type: ignore[arg-type]
    config = NginxConfig(home=home, haproxy=f"127.0.0.1:{upstream}",
                         servers=(NginxServer(ports[0], waf=mode != "off", cache=True,
                                              waf_mark=mode),
                                  NginxServer(ports[1], waf=False, cache=False,
                                              waf_mark="off")),
                         routes=(NginxRoute("tabular"), NginxRoute("rag", streaming=True)),
                         cache=CacheOptions(), max_body_bytes=65536, workers=1,
                         user=worker_user())
    (home / "nginx.conf").write_text(render_nginx(config))
    return home / "nginx.conf"


@pytest.mark.parametrize("mode", ["blocking", "detection", "off"])
def test_the_rendered_edge_passes_nginx_t_in_every_mode(tmp_path: Path, mode: str) -> None:
    nginx_check(_files(tmp_path, mode, 9, (_free_port(), _free_port())))
    engine = (tmp_path / "modsecurity.conf").read_text()
    assert {"blocking": "SecRuleEngine On", "detection": "SecRuleEngine DetectionOnly",
            "off": "SecRuleEngine DetectionOnly"}[mode] in engine
    assert ("modsecurity on;" in (tmp_path / "nginx.conf").read_text()) == (mode != "off")


def test_nginx_t_rejects_a_broken_rule_in_its_own_words(tmp_path: Path) -> None:
    config = _files(tmp_path, "blocking", 9, (_free_port(), _free_port()))
    conf = tmp_path / "modsecurity.conf"
    conf.write_text(conf.read_text() + "\nSecRuleEngin On\n")  # misspelt
    with pytest.raises(PlatformError, match="nginx -t rejected"):
        nginx_check(config)


@pytest.fixture
def detection_edge(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = _free_port()
    config = _files(tmp_path, "detection", upstream.server_address[1], (port, _free_port()))
    nginx = subprocess.Popen(nginx_argv(config), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/tabular"
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(url + "/ready", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)
        yield url, tmp_path / "audit.log"
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        upstream.shutdown()


def test_detection_only_blocks_nothing_and_logs_every_hit(
        detection_edge: tuple[str, Path]) -> None:
    url, audit = detection_edge
    attacks = {"sqli": "/predict?id=1'%20OR%20'1'='1",
               "xss": "/predict?q=%3Cscript%3Ealert(1)%3C/script%3E",
               "traversal": "/predict?file=../../../../etc/passwd"}
    since_s = time.time()
    with httpx.Client(timeout=5) as client:
        answers = {label: client.get(url + path, headers={"X-Gameday-Label": label})
                   for label, path in attacks.items()}
        benign = client.post(url + "/predict", json={"amount": 12.5, "hour": 14},
                             headers={"X-Gameday-Label": "benign"})
    assert {label: (a.status_code, a.headers["x-edge-waf"]) for label, a in answers.items()} \
        == {label: (200, "detection") for label in attacks}
    assert (benign.status_code, benign.headers["x-edge-waf"]) == (200, "detection")
    deadline = time.monotonic() + 3
    while len(entries := list(read_audit_log(audit, since_s=since_s, mode="detection"))) < 3:
        assert time.monotonic() < deadline, entries
        time.sleep(0.05)
    assert sorted(e.label for e in entries) == sorted(attacks)  # benign: no hit
    assert all(not e.blocked and e.status == 200 and 949110 in e.rules and e.score
               for e in entries)
