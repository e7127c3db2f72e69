"""The declared side containers (clusters/containers/*.yaml): strict parsing and their docker
run on the kind network, published on 127.0.0.1 only."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.errors import ConfigError
from gameday.platforms.kind.containers import CONTAINERS_DIR, load_containers, run_argv
from gameday.platforms.kind.layout import CLUSTERS_DIR

WITNESS = """\
name: gameday-etcd-witness
image: quay.io/coreos/etcd:v3.5.15
stacks: [rag]
args: [etcd, --name, witness, --listen-client-urls, "http://gameday-etcd-witness:2379"]
env: {ETCD_LOG_LEVEL: warn, ALLOW_NONE_AUTHENTICATION: "yes"}
publish:
  - {host_port: 32379, container_port: 2379}
"""


def _folder(tmp_path: Path, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / f"{name}.yaml").write_text(text)
    return tmp_path


def test_a_declared_container_runs_on_the_kind_network_published_on_loopback(
        tmp_path: Path) -> None:
    [witness] = load_containers(_folder(tmp_path, witness=WITNESS))
    assert witness.wanted(["tabular", "rag"]) and not witness.wanted(["tabular"])
    assert run_argv(witness) == (
        "docker", "run", "-d", "--name", "gameday-etcd-witness", "--network", "kind",
        "-p", "127.0.0.1:32379:2379", "-e", "ALLOW_NONE_AUTHENTICATION=yes",
        "-e", "ETCD_LOG_LEVEL=warn", "quay.io/coreos/etcd:v3.5.15", "etcd", "--name",
        "witness", "--listen-client-urls", "http://gameday-etcd-witness:2379")


def test_a_misspelt_key_is_refused_naming_the_file_and_field(tmp_path: Path) -> None:
    folder = _folder(tmp_path, witness=WITNESS.replace("publish:", "publsh:"))
    with pytest.raises(ConfigError, match=r"witness\.yaml: publsh") as raised:
        load_containers(folder)
    assert "unknown key (check its spelling)" in str(raised.value)


def test_a_publish_without_a_host_port_is_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path, witness=WITNESS.replace("host_port: 32379, ", ""))
    with pytest.raises(ConfigError, match=r"publish\.0\.host_port"):
        load_containers(folder)


def test_an_unknown_stack_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"stacks\.0"):
        load_containers(_folder(tmp_path, witness=WITNESS.replace("[rag]", "[ragg]")))


def test_a_name_declared_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="declared twice"):
        load_containers(_folder(tmp_path, a=WITNESS, b=WITNESS))


def test_no_folder_declares_no_containers(tmp_path: Path) -> None:
    assert load_containers(tmp_path / "absent") == []


def test_the_shipped_declarations_parse() -> None:
    for container in load_containers(CLUSTERS_DIR / CONTAINERS_DIR):
        assert all(p.host_port >= 1024 for p in container.publish)
