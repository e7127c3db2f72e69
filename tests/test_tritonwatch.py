"""The Triton watch against a real Triton server: its samples follow the requests sent, the
dynamic batcher's batches show under concurrent load, a server that does not answer is
skipped, and a restarted server's counters add up to what was sent (the ground truth for the
counter-reset rule of ``gameday.measure.triton``)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import httpx
import pytest

from gameday.measure.triton import triton_figures
from gameday.records import EVENTS_FILE
from gameday.tritonrecords import read_triton_samples
from gameday.tritonwatch import TritonWatch
from tests.targets.triton.triton_testing import TritonServer, infer, triton_server

PORT, RESTART_PORT = 28340, 28350  # no other test uses these
ROW = [42.0, 13, 0.2, 3.0, 400, 0, 2]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    with triton_server(tmp_path_factory.mktemp("triton-watch"), port=PORT) as running:
        yield running


def _watch(run_dir: Path, *members: tuple[str, str, str], interval_s: float = 1.0
           ) -> TritonWatch:
    return TritonWatch(list(members), run_dir, interval_s=interval_s)


def _send(url: str, requests: int, rows: int = 1) -> None:
    with httpx.Client(trust_env=False) as client:
        for _ in range(requests):
            assert infer(url, [ROW] * rows, client=client).status_code == 200


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_samples_follow_the_requests_sent_and_land_in_triton_jsonl(
        server: TritonServer, tmp_path: Path) -> None:
    watch = _watch(tmp_path, ("triton-server-a1", "region-a", server.metrics_url))
    [before] = watch.poll_once()
    _send(server.url, 5, rows=2)
    [after] = watch.poll_once()
    watch.stop()
    assert (before.member, before.region, before.model) == ("triton-server-a1", "region-a",
                                                             "fraud")
    assert after.request_success - before.request_success == 5
    assert after.inference_count - before.inference_count == 10  # two rows a request
    assert after.queue_us > before.queue_us and after.compute_infer_us > before.compute_infer_us
    assert after.queue_p99_us is not None and after.gpu_utilization is None  # a CPU server
    assert read_triton_samples(tmp_path) == [before, after]


def test_concurrent_single_row_requests_are_batched_by_the_dynamic_batcher(
        server: TritonServer, tmp_path: Path) -> None:
    watch = _watch(tmp_path, ("triton-server-a1", "region-a", server.metrics_url))
    watch.poll_once()
    senders = [threading.Thread(target=_send, args=(server.url, 25)) for _ in range(16)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    watch.poll_once()
    watch.stop()
    samples = read_triton_samples(tmp_path)
    every = triton_figures(samples, [], warmup_end_s=None, origin_s=samples[0].t_s,
                           bucket_s=5.0).scopes["all"]
    assert every.requests == 400 and every.inferences == 400  # what was sent
    # 16 in flight, a 2 ms queue delay: measured 3.5 rows an execution on this host
    assert every.batch_size is not None and every.batch_size > 1.5
    assert every.queue_per_request_s is not None and every.compute_per_request_s is not None


def test_a_server_that_does_not_answer_is_skipped_and_nothing_is_logged(
        server: TritonServer, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{_free_port()}/metrics"
    watch = _watch(tmp_path, ("triton-server-a1", "region-a", dead),
                   ("triton-server-b1", "region-b", server.metrics_url))
    samples = watch.poll_once() + watch.poll_once()
    watch.stop()
    assert [s.member for s in samples] == ["triton-server-b1", "triton-server-b1"]
    assert not (tmp_path / EVENTS_FILE).exists()


def test_started_it_scrapes_in_the_background_until_stopped(server: TritonServer,
                                                            tmp_path: Path) -> None:
    watch = _watch(tmp_path, ("triton-server-a1", "region-a", server.metrics_url),
                   interval_s=0.2)
    watch.start()
    deadline_s = time.monotonic() + 10
    while len(read_triton_samples(tmp_path)) < 3:
        assert time.monotonic() < deadline_s, "no three samples in 10 s"
        time.sleep(0.1)
    watch.stop()
    stopped = len(read_triton_samples(tmp_path))
    time.sleep(0.5)
    assert len(read_triton_samples(tmp_path)) == stopped
    times = [s.t_s for s in read_triton_samples(tmp_path)]
    assert times == sorted(times) and min(b - a for a, b in pairwise(times)) > 0.1


def test_a_restarted_servers_counters_add_up_to_every_request_sent(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    watch = _watch(run_dir, ("triton-server-a1", "region-a",
                             f"http://127.0.0.1:{RESTART_PORT + 2}/metrics"))
    with triton_server(tmp_path / "first", port=RESTART_PORT) as first:
        watch.poll_once()
        _send(first.url, 12)
        watch.poll_once()
    assert watch.poll_once() == []  # down: skipped
    with triton_server(tmp_path / "second", port=RESTART_PORT) as second:
        _send(second.url, 5)
        watch.poll_once()
    watch.stop()
    samples = read_triton_samples(run_dir)
    assert [s.request_success for s in samples] == [0, 12, 5]  # the counter restarted
    every = triton_figures(samples, [], warmup_end_s=None, origin_s=samples[0].t_s,
                           bucket_s=5.0).scopes["all"]
    assert every.requests == 12 + 5 and every.inferences == 12 + 5
