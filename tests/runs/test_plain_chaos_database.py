"""The database experiments under the plain ``chaos`` CLI against a rag stack stood up by
``gameday up`` in Patroni mode (Patroni fails over by itself; no gameday code runs between).

The short ones (switchover, replication cut) run in the default suite; those that wait out a
Patroni failover (about ttl = 20 s each) are end-to-end tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.platform import LocalPlatform
from tests.runs.run_helpers import all_members_healthy, run_gameday, toxics
from tests.runs.test_plain_chaos_cli import REPO, chaos_cli
from tests.runs.test_rpo_ground_truth import database_suite, reachable_home


@pytest.fixture(scope="module")
def rag_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with reachable_home() as root:
        suite = database_suite(tmp_path_factory.mktemp("suite") / "suite.yaml",
                               experiment="db-primary-kill", failover="patroni")
        up = run_gameday("up", str(suite), home=root, timeout_s=180)
        assert up.returncode == 0, up.stdout + up.stderr
        yield LocalPlatform(LocalHome(root))


def _run(platform: LocalPlatform, tmp_path: Path, name: str, fault_duration_s: int,
         **env: str) -> dict[str, object]:
    journal = tmp_path / "journal.json"
    result = chaos_cli("run", "--journal-path", str(journal),
                       str(REPO / "experiments" / f"{name}.json"), cwd=tmp_path,
                       env={"GAMEDAY_HOME": str(platform.home.root),
                            "GAMEDAY_FAULT_DURATION_S": str(fault_duration_s), **env},
                       timeout_s=300)
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(journal.read_text())
    assert document["status"] == "completed" and document["deviated"] is False, document
    assert all(run["status"] == "succeeded" for run in document["run"]
               if run["activity"]["type"] == "action")
    (rollback,) = document["rollbacks"]
    assert rollback["status"] == "succeeded"
    assert platform.faults_in_force() == [] and toxics(platform) == []
    assert all_members_healthy(platform, timeout_s=30), platform.members()
    return dict(rollback["output"])


def test_a_switchover_hands_over_and_the_old_primary_streams_from_the_new(
        rag_platform: LocalPlatform, tmp_path: Path) -> None:
    restored = _run(rag_platform, tmp_path, "db-switchover", 2)
    assert len(restored["streaming"]) == 1  # type: ignore[arg-type]


def test_a_cut_replication_link_heals_and_the_standby_streams_again(
        rag_platform: LocalPlatform, tmp_path: Path) -> None:
    restored = _run(rag_platform, tmp_path, "db-replication-cut", 2)
    assert len(restored["streaming"]) == 1  # type: ignore[arg-type]


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["db-primary-kill", "db-lagging-primary-kill",
                                  "db-primary-freeze", "db-primary-partition"])
def test_a_patroni_failover_experiment_completes_and_rolls_back(
        rag_platform: LocalPlatform, tmp_path: Path, name: str) -> None:
    restored = _run(rag_platform, tmp_path, name, 26)
    assert len(restored["streaming"]) == 1  # type: ignore[arg-type]


@pytest.mark.e2e
@pytest.mark.parametrize("side", ["minority", "majority"])
def test_an_etcd_member_cut_from_its_peers_never_leaves_two_primaries(
        rag_platform: LocalPlatform, tmp_path: Path, side: str) -> None:
    restored = _run(rag_platform, tmp_path, "db-dcs-partition", 26, GAMEDAY_DCS_SIDE=side)
    assert len(restored["streaming"]) == 1  # type: ignore[arg-type]
