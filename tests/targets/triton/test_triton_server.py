"""The Triton stack's server as clients see it: a real tritonserver (the nvidia-pytriton wheel's
binary), the fraud model in its own numpy<2 environment, answers checked against the models
the versions were built from (the tabular registry's version 1, the scikit-learn pipeline of
version 2), not against our own formula."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import numpy as np
import pytest

from gameday.load.payloads import _tabular_transaction, triton_features
from tests.prometheus_text import metric_sum
from tests.targets.triton.triton_testing import REPO, TritonServer, infer, triton_server

ROWS = [triton_features(_tabular_transaction(np.random.default_rng(seed))) for seed in range(64)]


def _reference(version: int) -> np.ndarray:
    if version == 1:
        from targets.tabular.home import ModelHome
        from targets.tabular.loader import ModelLoader

        home = ModelHome(REPO / "artifacts")
        model = ModelLoader(home.tracking_uri, home.root).load("models:/fraud/1").estimator
    else:
        import skops.io

        path = REPO / "artifacts" / "triton" / "fraud-v2.skops"
        model = skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))
    return np.asarray(model.predict_proba(np.array(ROWS))[:, 1])


def _scores(response: httpx.Response) -> np.ndarray:
    assert response.status_code == 200, response.text
    (output,) = response.json()["outputs"]
    assert output["name"] == "fraud_score" and output["shape"] == [len(ROWS), 1]
    return np.array(output["data"])


def test_version_1_scores_as_the_tabular_stacks_version_1(server: TritonServer) -> None:
    response = infer(server.url, ROWS)
    assert response.json()["model_version"] == "1"
    scores = _scores(response)
    np.testing.assert_allclose(scores, _reference(1), atol=1e-5)
    assert scores.std() > 0.01  # varied inputs give varied scores (not a constant)


def test_the_numpy_2_trap_is_caught_by_the_reference_check(tmp_path: Path) -> None:
    """With numpy 2 in the model's environment the backend reads inputs as zeros or answers
    empty, silently (FACTS.md): the reference check above must fail there."""
    harness_env = Path(__import__("sys").prefix)
    assert int(np.__version__.split(".")[0]) >= 2
    with triton_server(tmp_path, port=28310, env_path=harness_env) as trapped:
        response = infer(trapped.url, ROWS)
    if response.status_code == 200:
        scores = np.array(response.json()["outputs"][0]["data"])
        assert scores.shape != _reference(1).shape or not np.allclose(scores, _reference(1),
                                                                      atol=1e-5)
    else:
        assert response.status_code >= 400  # answered empty: the shape does not match


def test_a_hot_swap_to_version_2_then_a_broken_version_keeps_serving(
        server: TritonServer) -> None:
    try:
        assert _load(server, 2).status_code == 200
        response = infer(server.url, ROWS)
        assert response.json()["model_version"] == "2"
        np.testing.assert_allclose(_scores(response), _reference(2), atol=1e-5)
        broken = _load(server, 3)
        assert broken.status_code == 400 and "no weights.npz" in broken.text
        # the server calls itself not ready from now on (strict readiness counts the versions
        # swapped out); the model is ready: why the platform checks the model
        assert httpx.get(f"{server.url}/v2/health/ready", timeout=5).status_code == 400
        assert httpx.get(f"{server.url}/v2/models/fraud/ready", timeout=5).status_code == 200
        # Triton keeps the version it had: still version 2, still right
        response = infer(server.url, ROWS)
        assert response.json()["model_version"] == "2"
        np.testing.assert_allclose(_scores(response), _reference(2), atol=1e-5)
    finally:
        assert _load(server, 1).status_code == 200


def _load(server: TritonServer, version: int) -> httpx.Response:
    import json

    config = (server.data / "models" / "fraud" / "config.pbtxt").read_text()
    assert "versions: [ 1 ]" in config
    # the repository API takes the config as JSON; only the version policy differs
    override = {"version_policy": {"specific": {"versions": [version]}}}
    current = httpx.get(f"{server.url}/v2/models/fraud/config", timeout=5).json()
    return httpx.post(f"{server.url}/v2/repository/models/fraud/load", timeout=60,
                      json={"parameters": {"config": json.dumps({**current, **override})}})


def test_an_unloaded_model_fails_inference_and_readiness_and_a_reload_recovers(
        server: TritonServer) -> None:
    try:
        unload = httpx.post(f"{server.url}/v2/repository/models/fraud/unload", timeout=30)
        assert unload.status_code == 200
        failed = infer(server.url, ROWS[:1])
        assert failed.status_code >= 400 and "fraud" in failed.text
        assert httpx.get(f"{server.url}/v2/models/fraud/ready", timeout=5).status_code != 200
    finally:
        assert httpx.post(f"{server.url}/v2/repository/models/fraud/load",
                          timeout=60).status_code == 200
    assert infer(server.url, ROWS[:1]).status_code == 200


def test_a_stalled_backend_hangs_inference_while_health_stays_green(
        server: TritonServer) -> None:
    stall = server.control / "stall"
    stall.touch()
    try:
        with pytest.raises(httpx.TimeoutException):
            infer(server.url, ROWS[:1], timeout_s=1)
        # what the platform and the edge check says it serves
        assert httpx.get(f"{server.url}/v2/health/live", timeout=2).status_code == 200
        assert httpx.get(f"{server.url}/v2/models/fraud/ready", timeout=2).status_code == 200
    finally:
        stall.unlink()
    assert infer(server.url, ROWS[:1], timeout_s=10).status_code == 200


def test_dynamic_batching_batches_concurrent_requests(server: TritonServer) -> None:
    labels = {"model": "fraud", "version": "1"}
    before = (metric_sum(server.metrics_url, "nv_inference_count", labels),
              metric_sum(server.metrics_url, "nv_inference_exec_count", labels))
    errors: list[str] = []

    def client() -> None:
        with httpx.Client() as session:
            for row in ROWS:
                response = infer(server.url, [row], client=session)
                if response.status_code != 200:
                    errors.append(response.text)

    threads = [threading.Thread(target=client) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    # the metrics are refreshed every second (--metrics-interval-ms 1000): wait for them
    import time

    deadline_s = time.monotonic() + 10
    while True:
        inferences = metric_sum(server.metrics_url, "nv_inference_count", labels) - before[0]
        executions = metric_sum(server.metrics_url, "nv_inference_exec_count", labels) \
            - before[1]
        if inferences >= 16 * len(ROWS) or time.monotonic() > deadline_s:
            break
        time.sleep(0.2)
    assert inferences == 16 * len(ROWS)
    assert inferences / executions > 1  # executed batches held more than one request
