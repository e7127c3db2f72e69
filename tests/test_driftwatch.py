"""The input-drift watch against a real tabular replica (trained with a reference sample):
each poll appends what the server judged, one that does not answer is recorded so, and a
member the platform no longer lists is skipped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gameday.driftsamples import read_drift_samples
from gameday.driftwatch import DriftWatch
from gameday.platforms.base import Member, MemberState
from gameday.stacks import load_stack
from targets.tabular.home import ModelHome
from tests.targets.tabular.tabular_testing import running_replica

DRIFT = load_stack("tabular").drift
NAME = "tabular-api-a1"


@pytest.fixture(scope="module")
def replica(trained_artifacts: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("drift-replica") / "uvicorn.log"
    with running_replica(ModelHome(trained_artifacts), log, GAMEDAY_DRIFT_WINDOW="200") as url:
        yield url


def _members(url: str) -> list[Member]:
    port = int(url.rsplit(":", 1)[1])
    return [Member(name=NAME, region="region-a", stack="tabular", component="api",
                   address="127.0.0.1", port=port, pid=None, state=MemberState.HEALTHY,
                   ports={"http": port})]


def test_each_poll_appends_the_servers_judgement(replica: str, tmp_path: Path) -> None:
    assert DRIFT is not None
    with httpx.Client(base_url=replica, timeout=10) as client:
        reference = client.get("/drift/reference").json()["transactions"]
        for transaction in reference[:200]:  # the training population itself
            client.post("/predict", json=transaction).raise_for_status()
    watch = DriftWatch(NAME, lambda: _members(replica), DRIFT, tmp_path)
    sample = watch.poll_once()
    watch.stop()
    assert sample is not None and sample.status == 200
    assert sample.region == "region-a" and sample.window_rows == 200
    assert sample.dataset_drift is False and len(sample.features) == 7
    assert {f.method for f in sample.features} == {"ks", "chi2"}
    assert read_drift_samples(tmp_path) == [sample]


def test_a_member_that_does_not_answer_is_recorded_and_an_unlisted_one_skipped(
        tmp_path: Path, free_port: int) -> None:
    assert DRIFT is not None
    gone = DriftWatch(NAME, lambda: _members(f"http://127.0.0.1:{free_port}"), DRIFT, tmp_path,
                      timeout_s=0.5)
    silent = gone.poll_once()
    unlisted = DriftWatch("tabular-api-a9", lambda: _members("http://127.0.0.1:1"), DRIFT,
                          tmp_path).poll_once()
    gone.stop()
    assert silent is not None and silent.status == 0 and silent.dataset_drift is None
    assert unlisted is None
    assert read_drift_samples(tmp_path) == [silent]
