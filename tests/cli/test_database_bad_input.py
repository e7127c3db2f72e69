"""A database suite that cannot mean what it says exits 2 naming the file and the field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import CliResult, assert_suite_error

Cli = Callable[..., CliResult]
RAG_FAILOVER = Path(__file__).resolve().parents[2] / "suites" / "rag-failover.yaml"


def test_the_shipped_rag_failover_suite_is_valid(cli: Cli) -> None:
    result = cli("validate", str(RAG_FAILOVER))
    assert result.code == 0, result.output


@pytest.mark.parametrize(("edit", "field", "expected"), [
    (lambda d: d["database"].update(failover="pacemaker"), "database.failover", "'patroni'"),
    (lambda d: d["database"]["patroni"].update(ttl=10), "database.patroni.ttl",
     "ttl >= 20"),
    (lambda d: d["database"].update(replication="sync", nodes=1), "database.replication",
     "needs a standby"),
    (lambda d: d["database"].update(failover="promote", replication="sync", nodes=1),
     "database.replication", "needs a standby"),
    (lambda d: d["database"].update(synchronous_commit="maybe"),
     "database.synchronous_commit", "remote_apply"),
    (lambda d: d["database"]["patroni"].update(tll=30), "database.patroni.tll", "unknown key"),
    (lambda d: d.pop("database"), "load.target", "database"),
    (lambda d: d["load"].update(endpoint="predict"), "load.endpoint", "'write'"),
    (lambda d: d["load"].update(target="edge"), "slos.0.kind", "load.target: database"),
], ids=["unknown-failover-mode", "ttl-below-patroni-floor", "sync-with-one-node",
        "sync-with-one-node-promote", "bad-synchronous-commit", "misspelt-patroni-key",
        "database-load-without-section", "write-load-wrong-endpoint", "rpo-slo-on-edge-load"])
def test_a_wrong_database_suite_names_the_file_and_field(tmp_path: Path, cli: Cli,
                                                         edit: Callable[[dict], object],
                                                         field: str, expected: str) -> None:
    assert_suite_error(cli, tmp_path, RAG_FAILOVER, edit, field, expected)
