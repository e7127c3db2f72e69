"""The kind edge seen from the host (gameday.platforms.kind.edgeview): a real HAProxy whose
admin socket is where the edge container's bind mount puts it in the platform's home, and the
WAF audit log the nginx container writes there, read with the local platform's readers."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import pick_free_port
from gameday.platforms.kind.commands import RecordingRunner
from gameday.platforms.kind.edgeview import KindEdgeView, audit_log, haproxy_socket
from gameday.platforms.kind.env import KindEnv
from gameday.platforms.kind.kube import KubeApi
from gameday.platforms.kind.state import KindState, LinkRecord
from gameday.platforms.local.edge import (
    EdgeBackend,
    EdgeConfig,
    EdgeServer,
    haproxy_argv,
    render_haproxy_config,
)

pytestmark = pytest.mark.skipif(
    shutil.which("haproxy", path="/usr/sbin:/usr/bin") is None, reason="haproxy not installed")


class _Ready(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


def _no_cluster(region: str) -> KubeApi:
    raise AssertionError("the edge view never asks a cluster")


class _View(KindEdgeView):
    def __init__(self, home: Path) -> None:
        self.env = KindEnv(home=home, runner=RecordingRunner(), kube=_no_cluster)


def _link(name: str, region: str) -> LinkRecord:
    return LinkRecord(name=name, stack="tabular", component="api", port="http", region=region,
                      listen_port=20100, node_port=30100)


@pytest.fixture
def home() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="gd-kind-"))  # a socket path is at most 107 bytes
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_the_edges_view_names_each_link_with_its_region_and_health(
        home: Path, tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", pick_free_port()), _Ready)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    a, b = "tabular-api-region-a", "tabular-api-region-b"
    config = EdgeConfig((EdgeBackend("tabular", primary=(
        EdgeServer(a, "127.0.0.1", server.server_address[1]),),
        backup=(EdgeServer(b, "127.0.0.1", pick_free_port()),)),), haproxy_socket(home),
        port=pick_free_port(), stats_port=pick_free_port())
    haproxy_socket(home).parent.mkdir(parents=True)
    (tmp_path / "haproxy.cfg").write_text(render_haproxy_config(config))
    process = subprocess.Popen(haproxy_argv(tmp_path / "haproxy.cfg"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        KindState(stacks=["tabular"], replicas=2, links=[_link(a, "region-a"),
                                                         _link(b, "region-b")],
                  edge_urls={"tabular": "http://127.0.0.1:8080/tabular"}).save(home)
        view = _View(home)
        deadline_s = time.monotonic() + 10
        while True:
            states = {s.server: s for s in view.edge_server_states()} \
                if haproxy_socket(home).exists() else {}
            if states and states[a].up and states[b].check and not states[b].up:
                break
            assert time.monotonic() < deadline_s, f"haproxy's checks did not settle: {states}"
            time.sleep(0.1)
        assert (states[a].region, states[a].backend, states[a].admin) == (
            "region-a", "tabular", "ready")
        assert states[b].region == "region-b"
    finally:
        process.kill()
        process.wait(timeout=5)
        server.shutdown()


def test_the_waf_log_is_read_from_the_containers_folder_in_the_mode_the_suite_set(
        home: Path) -> None:
    view = _View(home)
    assert view.edge_server_states() == [] and view.waf_entries(0.0) == []  # not up yet
    KindState(stacks=["tabular"], replicas=2, waf_mode="detection").save(home)
    audit_log(home).parent.mkdir(parents=True)
    entry = {"transaction": {"time_stamp": "Fri Dec  4 23:00:00 2026", "unique_id": "x1",
                             "request": {"method": "POST", "uri": "/tabular/predict"},
                             "response": {"http_code": 200},
                             "messages": [{"message": "SQL Injection Attack",
                                           "details": {"ruleId": "942100"}}]}}
    audit_log(home).write_text(json.dumps(entry) + "\n" + '{"torn')
    entries = view.waf_entries(0.0)
    assert len(entries) == 1, entries
    assert "942100" in json.dumps(entries[0])
