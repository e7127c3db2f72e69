"""The rag stack's database on kind (gameday.platforms.kind.database): where each node is
reached from the host, and the postmaster kill as the exact kubectl command, against a
recording runner (no cluster here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.errors import FaultError
from gameday.platforms.kind.commands import RecordingRunner
from gameday.platforms.kind.database import KindDatabase
from gameday.platforms.kind.env import KindEnv
from gameday.platforms.kind.kube import KubeApi


def _unreachable(region: str) -> KubeApi:
    raise AssertionError(f"the database side never asks the Kubernetes API ({region})")


class _Db(KindDatabase):
    def __init__(self, runner: RecordingRunner, home: Path) -> None:
        self.env = KindEnv(home=home, runner=runner, kube=_unreachable)


def test_each_node_is_reached_on_its_clusters_published_ports_on_loopback(
        tmp_path: Path) -> None:
    info = _Db(RecordingRunner(), tmp_path).database("rag")
    assert [(n.name, n.region, n.host, n.port, n.patroni_url) for n in info.nodes] == [
        ("rag-db-0.region-a", "region-a", "127.0.0.1", 41432, "http://127.0.0.1:41808"),
        ("rag-db-0.region-b", "region-b", "127.0.0.1", 42432, "http://127.0.0.1:42808"),
    ]
    assert info.failover == "patroni"
    assert "host=127.0.0.1,127.0.0.1 port=41432,42432" in info.dsn()


def test_the_postmaster_kill_is_one_kubectl_exec_in_the_nodes_cluster(tmp_path: Path) -> None:
    runner = RecordingRunner()
    runner.reply(["kubectl", "--context", "kind-region-b"], stdout="4711\n")
    assert _Db(runner, tmp_path).kill_postmaster("rag", "rag-db-0.region-b") == 4711
    (command,) = runner.commands
    assert command[:11] == ("kubectl", "--context", "kind-region-b", "-n", "gameday", "exec",
                            "rag-db-0", "-c", "patroni", "--", "sh")
    assert "kill -KILL" in command[-1] and "postmaster.pid" in command[-1]


def test_a_failed_exec_or_an_unknown_node_is_a_fault_error_that_says_so(
        tmp_path: Path) -> None:
    runner = RecordingRunner()
    runner.reply(["kubectl"], returncode=1, stderr='pods "rag-db-0" not found')
    db = _Db(runner, tmp_path)
    with pytest.raises(FaultError, match="not found"):
        db.kill_postmaster("rag", "rag-db-0.region-a")
    with pytest.raises(FaultError, match="no database node"):
        db.kill_postmaster("rag", "rag-db-1.region-a")
    with pytest.raises(FaultError, match="size-capped"):
        db.fill_disk("rag-db-0.region-a")
