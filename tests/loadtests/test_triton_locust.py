"""``loadtests/triton.py`` under the plain Locust CLI against a real Triton server (and a real
HAProxy standing in for the edge), recording into a run folder; ports 28400-28419."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from gameday.load.plan import LoadPlan, schedule
from gameday.load.triton_outcome import answered
from gameday.records import RequestRecord, read_request_table, read_requests
from tests.prometheus_text import metric_sum
from tests.targets.triton.triton_testing import REPO, TritonServer, triton_server

PORT = 28400  # HTTP; gRPC 28401, metrics 28402
EDGE_PORT = 28403
SILENT_PORT, REFUSED_PORT = 28405, 28406
LOCUST = Path(sys.executable).parent / "locust"
_UNTIL_S = 60  # the longest a run waits for its records
SUCCESSES = "nv_inference_request_success"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    with triton_server(tmp_path_factory.mktemp("triton"), port=PORT) as running:
        yield running


@pytest.fixture(scope="module")
def edge_url(server: TritonServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """HAProxy as the edge routes it: ``/triton/...`` to the server, the region header set."""
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).is_file():
        pytest.skip("no haproxy")
    config = tmp_path_factory.mktemp("edge") / "haproxy.cfg"
    config.write_text(f"""defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend edge
    bind 127.0.0.1:{EDGE_PORT}
    use_backend triton if {{ path_beg /triton/ }}
backend triton
    http-request replace-path ^/triton/?(.*)$ /\\1
    http-response set-header X-Served-By-Region region-a
    server a1 127.0.0.1:{PORT}
""")
    process = subprocess.Popen([haproxy, "-db", "-f", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{EDGE_PORT}/triton"
        _wait(lambda: httpx.get(f"{url}/v2/models/fraud/ready", timeout=2).status_code == 200)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait(ready: Callable[[], bool], timeout_s: float = 20) -> None:
    deadline_s = time.monotonic() + timeout_s
    while time.monotonic() < deadline_s:
        with contextlib.suppress(httpx.HTTPError):
            if ready():
                return
        time.sleep(0.1)
    raise AssertionError(f"not ready in {timeout_s:g} s")


def _locust(user: str, host: str, run_dir: Path, *, more_than: int | None = None,
            seconds: int = 4, users: int = 4, **env: str) -> list[RequestRecord]:
    """One headless run of ``user``; its records (the run must not hang at exit).

    With ``more_than``, the run lasts until it has recorded more than that many requests (or
    60 s), then is stopped as a user stops it (SIGTERM): Locust's run time counts from its
    start, the locustfile's imports and first inputs included (1.7 and 0.7 s on a busy host),
    so a fixed short run sent nothing at all when the host was busy, and a count over it was
    a rate. Without it, the run lasts ``seconds``: for a schedule's test, and for those that
    count the server's answers against the records (a SIGTERM cuts more than the last request
    of a gRPC user: 5 and 6 unrecorded answers from 4 users seen, against at most 4 at -t)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    command = [str(LOCUST), "-f", "loadtests/triton.py", "--headless", "-u", str(users),
               "-r", str(users), "-t", f"{seconds if more_than is None else _UNTIL_S}s",
               "-H", host, "--only-summary", "--loglevel", "WARNING", user]
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True,
                          env={**os.environ, "GAMEDAY_RUN_DIR": str(run_dir), **env}) as run:
        if more_than is not None:
            _wait(lambda: run.poll() is not None or _rows_written(run_dir) > more_than,
                  timeout_s=_UNTIL_S + 10)
            run.terminate()
        _, stderr = run.communicate(timeout=60)
    records = read_requests(run_dir)
    failed = any(not r.ok for r in records)
    assert run.returncode == (1 if failed else 0), stderr[-3000:]
    return records


def _rows_written(run_dir: Path) -> int:
    """Complete rows in the run's request files so far (they are written as they happen)."""
    return sum(max(path.read_bytes().count(b"\n") - 1, 0)
               for path in run_dir.glob("requests-*.csv"))


def _versions(run_dir: Path) -> set[str]:
    # read column-wise: read_requests' RequestRecord leaves model_version out (records.py)
    return set(read_request_table(run_dir, ["model_version"])["model_version"].to_pylist())


def _successes(server: TritonServer) -> float:
    return metric_sum(server.metrics_url, SUCCESSES, {"model": "fraud"})


@pytest.mark.parametrize("through", ["edge", "server"])
def test_http_user_records_judged_answers_with_version_and_region(
        server: TritonServer, through: str, request: pytest.FixtureRequest,
        tmp_path: Path) -> None:
    host, region = (request.getfixturevalue("edge_url"), "region-a") if through == "edge" \
        else (server.url, "")
    before = _successes(server)
    records = _locust("TritonHttpUser", host, tmp_path, seconds=6)  # stops as -t stops
    served = _successes(server) - before
    assert len(records) > 4  # more than one each: the 4 users loop (a count is no rate)
    assert all(r.ok and r.status == 200 and r.error_kind == "" for r in records)
    assert {(r.stack, r.endpoint, r.region) for r in records} == {("triton", "infer", region)}
    assert _versions(tmp_path) == {"1"}
    assert all(r.scheduled_s == r.start_s <= r.end_s for r in records)
    # every record is an inference the server ran (a stop may cut the last of each user)
    assert len(records) <= served <= len(records) + 4


def test_grpc_user_records_judged_answers_with_version(server: TritonServer,
                                                       tmp_path: Path) -> None:
    before = _successes(server)
    records = _locust("TritonGrpcUser", f"grpc://127.0.0.1:{PORT + 1}", tmp_path, seconds=6)
    served = _successes(server) - before
    assert len(records) > 4  # more than one each: the 4 users loop (a count is no rate)
    assert all(r.ok and r.status == 200 and r.error_kind == "" for r in records)
    assert {(r.stack, r.endpoint, r.region) for r in records} == {("triton", "infer", "")}
    assert _versions(tmp_path) == {"1"}
    assert len(records) <= served <= len(records) + 4


def test_open_model_user_sends_at_the_schedules_times(edge_url: str, tmp_path: Path) -> None:
    rate_per_s, run_s = 100.0, 8  # the schedule lasts Locust's run time (busy: 4 s left 2)
    records = _locust("TritonOpenModelUser", edge_url, tmp_path, seconds=run_s,
                      GAMEDAY_TRITON_RATE_PER_S=str(rate_per_s))
    assert all(r.ok and r.region == "region-a" for r in records)
    assert _versions(tmp_path) == {"1"}
    # one user whatever -u says (four would send up to 4x the schedule); a floor would be a
    # rate: Locust's run time counts from before the users start, and a busy host starts late
    assert 10 < len(records) < 1.2 * rate_per_s * run_s
    scheduled_s = np.sort([r.scheduled_s for r in records])
    plan = LoadPlan(base_url=edge_url, stack="triton", endpoint="infer", rate_per_s=rate_per_s,
                    duration_s=run_s, warmup_s=0.0, seed=7)
    expected_s = schedule(plan)[:len(records)]
    np.testing.assert_allclose(scheduled_s - scheduled_s[0], expected_s, atol=1e-5)
    assert all(r.start_s >= r.scheduled_s - 1e-6 for r in records)  # never sent early


@contextlib.contextmanager
def _unloaded(server: TritonServer) -> Iterator[None]:
    assert httpx.post(f"{server.url}/v2/repository/models/fraud/unload",
                      timeout=30).status_code == 200
    try:
        _wait(lambda: httpx.get(f"{server.url}/v2/models/fraud/ready",
                                timeout=2).status_code != 200)
        yield
    finally:  # the module's server is left as found
        assert httpx.post(f"{server.url}/v2/repository/models/fraud/load",
                          timeout=60).status_code == 200
        _wait(lambda: httpx.get(f"{server.url}/v2/models/fraud/ready",
                                timeout=2).status_code == 200)


@pytest.mark.parametrize(("user", "scheme", "port"), [("TritonHttpUser", "http", PORT),
                                                      ("TritonGrpcUser", "grpc", PORT + 1)])
def test_an_unloaded_model_is_recorded_as_failed_4xx(server: TritonServer, user: str,
                                                     scheme: str, port: int,
                                                     tmp_path: Path) -> None:
    with _unloaded(server):
        records = _locust(user, f"{scheme}://127.0.0.1:{port}", tmp_path, more_than=2,
                          users=2)
    assert len(records) > 2  # more than one each: a failed answer does not stop a user
    # Triton: HTTP 404 / gRPC NOT_FOUND ("has no available versions"), as 404
    assert {(r.ok, r.status, r.error_kind) for r in records} == {(False, 404, "http_4xx")}
    assert _versions(tmp_path) == {""}


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port whose connections are taken (the backlog) and never answered."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", SILENT_PORT))
        listener.listen(128)
        yield SILENT_PORT


@pytest.mark.parametrize(("user", "scheme"), [("TritonHttpUser", "http"),
                                              ("TritonGrpcUser", "grpc")])
def test_no_answer_is_recorded_as_timeout_and_no_server_as_connection(
        silent_port: int, user: str, scheme: str, tmp_path: Path) -> None:
    silent = _locust(user, f"{scheme}://127.0.0.1:{silent_port}", tmp_path / "silent",
                     more_than=2, users=2, GAMEDAY_TRITON_TIMEOUT_S="0.5")
    refused = _locust(user, f"{scheme}://127.0.0.1:{REFUSED_PORT}", tmp_path / "refused",
                      more_than=2, users=2)
    assert len(silent) > 2 and len(refused) > 2  # each user goes on after a failure
    assert {(r.ok, r.status, r.error_kind, r.region) for r in silent} == {
        (False, 0, "timeout", "")}
    assert {(r.ok, r.status, r.error_kind, r.region) for r in refused} == {
        (False, 0, "connection", "")}


@pytest.mark.parametrize("scores", [np.array([[1.5]]), np.array([[np.nan]]), np.array([0.5]),
                                    np.array([[0.1], [0.2]]), None],
                         ids=["above-1", "nan", "no-batch-axis", "two-rows", "no-output"])
def test_an_answer_without_one_score_in_0_1_per_row_is_a_payload_failure(
        scores: np.ndarray | None) -> None:
    assert answered(scores, 1, "1").error_kind == "payload"
    assert answered(np.array([[0.0]], dtype=np.float32), 1, "1").ok
