"""The edge's canary health check against a real Triton server: a stalled backend keeps every
readiness page green, so the deep check (the model's readiness) keeps it in rotation, while the
canary (one real inference POSTed as the check) takes it out; lifted, the canary brings it back.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gameday.faults.serving.samples import sample_for
from gameday.platforms.local.edge import (
    EdgeBackend,
    EdgeConfig,
    EdgeServer,
    check_haproxy_config,
    render_haproxy_config,
)
from tests.targets.triton.triton_testing import TritonServer, triton_server

pytestmark = pytest.mark.skipif(
    shutil.which("haproxy", path="/usr/sbin:/usr/bin") is None, reason="haproxy not installed")

PORT = 28370
_BODY = json.dumps(sample_for("triton", "infer").body, separators=(",", ":"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    with triton_server(tmp_path_factory.mktemp("triton-canary"), port=PORT) as running:
        yield running


def _backends() -> tuple[EdgeBackend, ...]:
    member = (EdgeServer("t0", "127.0.0.1", PORT),)
    return (EdgeBackend("deep", member, health_path="/v2/models/fraud/ready"),
            EdgeBackend("canary", member, health_path="/v2/models/fraud/infer",
                        health_body=_BODY))


def test_a_canary_backend_renders_and_haproxy_accepts_it(tmp_path: Path) -> None:
    text = render_haproxy_config(EdgeConfig(_backends(), tmp_path / "admin.sock"))
    assert check_haproxy_config(text) == []
    assert ("http-check send meth POST uri /v2/models/fraud/infer hdr Content-Type "
            f"application/json body '{_BODY}'") in text


def test_a_stalled_backend_passes_the_deep_check_and_fails_the_canary(
        server: TritonServer, start_edge: Callable[..., Any]) -> None:
    edge = start_edge(_backends())

    def up(backend: str) -> bool:
        (state,) = edge.admin.server_states(backend)
        return bool(state.operational)

    assert up("deep") and up("canary")
    (server.control / "stall").touch()
    try:
        deadline_s = time.monotonic() + 10
        while up("canary") and time.monotonic() < deadline_s:
            time.sleep(0.1)
        assert not up("canary")  # taken out by the canary (check timeout = inter 500 ms)
        assert up("deep")  # the readiness page lies
    finally:
        (server.control / "stall").unlink()
    deadline_s = time.monotonic() + 10
    while not up("canary") and time.monotonic() < deadline_s:
        time.sleep(0.1)
    assert up("canary")
