"""Releases on the real local platform: HAProxy's weights, the members' models and the MLflow
registry's aliases moved by a release and all put back by its end; a canary's analysis over
Prometheus rolls a bad version back and promotes a good one."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from gameday.faults.release import actions
from gameday.faults.release.weights import canary_weights
from gameday.platforms.local import registry
from gameday.platforms.local.platform import LocalPlatform
from tests.faults.edge_client import SAMPLE

ANALYSIS = {"interval_s": 2, "count": 2, "metrics": [
    {"name": "error-rate", "provider": "prometheus", "query": "error_rate",
     "success_condition": "result <= 0.01", "failure_condition": "result > 0.05"}]}


def _state(platform: LocalPlatform) -> tuple[dict[str, str], dict[str, Any], dict[str, int]]:
    tracking_uri, model = platform.model_registry("tabular")
    versions = {m.name: httpx.get(f"{m.url}/model", timeout=3).json()["model_version"]
                for m in platform.release_members("tabular")}
    return registry.aliases(tracking_uri, model), versions, platform.edge_weights("tabular")


def _versions_through_the_edge(platform: LocalPlatform, requests: int) -> Counter[str]:
    seen: Counter[str] = Counter()
    with httpx.Client(timeout=3) as client:
        for _ in range(requests):
            answer = client.post(platform.edge_url("tabular") + "/predict", json=SAMPLE)
            seen[answer.headers.get("x-model-version", f"status {answer.status_code}")] += 1
    return seen


@contextmanager
def _traffic(platform: LocalPlatform, rate_per_s: float = 40.0,
             max_s: float = 120.0) -> Iterator[Counter[str]]:
    """Requests through the edge at about ``rate_per_s`` until the block ends (at most
    ``max_s``): the canary's metrics need someone to serve."""
    seen: Counter[str] = Counter()
    stop = threading.Event()

    def send() -> None:
        deadline_s = time.monotonic() + max_s
        sent = 0
        with httpx.Client(timeout=3) as client:
            while not stop.wait(1 / rate_per_s) and time.monotonic() < deadline_s:
                sent += 1  # a new amount each time: bad-errors fails on some transactions
                try:
                    answer = client.post(platform.edge_url("tabular") + "/predict",
                                         json={**SAMPLE, "amount": 1.0 + sent % 997})
                    seen[answer.headers.get("x-model-version", "none")] += 1
                except httpx.HTTPError as exc:
                    seen[type(exc).__name__] += 1

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        yield seen
    finally:
        stop.set()
        sender.join()


def test_a_release_moves_weights_models_and_aliases_and_its_end_puts_them_all_back(
        local_platform: LocalPlatform) -> None:
    before = _state(local_platform)
    members = local_platform.release_members("tabular")
    canary = members[0]
    local_platform.begin_release("tabular")
    try:
        version = local_platform.resolve_version("tabular", "bad-errors")
        local_platform.move_alias("tabular", "challenger", version)
        assert local_platform.load_version("tabular", canary.name,
                                           "models:/fraud@challenger") == version
        weights = canary_weights(before[2], {m.name: m.region for m in members}, canary.name,
                                 0.25)
        assert local_platform.set_edge_weights("tabular", weights) == weights
        # HAProxy's weighted round robin: the canary answers its share of its region's
        # requests (region-a takes them all: active-passive)
        seen = _versions_through_the_edge(local_platform, 200)
        answered_by_canary = seen[version] + seen["status 500"]
        assert 40 <= answered_by_canary <= 60, seen
    finally:
        local_platform.end_release("tabular")
    assert _state(local_platform) == before
    assert local_platform.faults_in_force() == []


def test_a_second_release_while_one_is_in_progress_is_refused(
        local_platform: LocalPlatform) -> None:
    local_platform.begin_release("tabular")
    try:
        with pytest.raises(Exception, match="already in progress"):
            local_platform.begin_release("tabular")
    finally:
        local_platform.end_release("tabular")


def test_a_bad_canary_is_rolled_back_by_its_analysis_and_a_good_one_promoted(
        local_platform: LocalPlatform, configuration: dict[str, str]) -> None:
    before = _state(local_platform)
    with _traffic(local_platform):
        started = actions.start_canary(version="bad-errors", steps=[0.5],
                                       configuration=configuration)
        try:
            bad = actions.analyse_canary(version="bad-errors", steps=[0.5], analysis=ANALYSIS,
                                         configuration=configuration)
        finally:
            actions.end_release(configuration=configuration)
        assert bad["outcome"] == "rolled back", bad
        (step,) = bad["steps"]
        assert step["phase"] == "Failed"
        failed = [m for m in step["measurements"] if m["phase"] == "Failed"]
        assert failed and failed[0]["value"] > 0.05  # about 30 % of its predictions fail
        assert bad["decision"]["t_s"] - started["traffic_s"] < 3 * ANALYSIS["interval_s"] + 5
        assert _state(local_platform) == before

        actions.start_canary(version="challenger", steps=[0.25, 0.5],
                             configuration=configuration)
        try:
            good = actions.analyse_canary(version="challenger", steps=[0.25, 0.5],
                                          analysis=ANALYSIS, configuration=configuration)
            assert good["outcome"] == "promoted", good
            tracking_uri, model = local_platform.model_registry("tabular")
            assert registry.aliases(tracking_uri, model)["champion"] == good["version"]
            assert set(_state(local_platform)[1].values()) == {good["version"]}
        finally:
            actions.end_release(configuration=configuration)
    assert _state(local_platform) == before
