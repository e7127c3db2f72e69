"""``gameday up/down --platform kind``: the dry run prints the plan and needs no binary; a
missing binary or a Docker client without a daemon is exit 2 in clear words, no traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import CliResult

REPO = Path(__file__).resolve().parents[2]
EXCLUSIONS = REPO / "targets" / "edge" / "crs-exclusions.conf"
Cli = Callable[..., CliResult]
_MAIN = "import sys; from gameday.cli import main; sys.exit(main(sys.argv[1:]))"


def _expected_tabular(home: Path) -> list[str]:
    user = f"{os.getuid()}:{os.getgid()}"
    return [
        "# region-a's cluster",
        "kind create cluster --name region-a --config clusters/kind/region-a.yaml --wait 180s",
        "# region-b's cluster",
        "kind create cluster --name region-b --config clusters/kind/region-b.yaml --wait 180s",
        "# build gameday/tabular:dev",
        "docker build -t gameday/tabular:dev -f clusters/docker/tabular.Dockerfile "
        f"--build-arg CHECKOUT={REPO} .",
        "# gameday/tabular:dev into region-a's nodes",
        "kind load docker-image gameday/tabular:dev --name region-a",
        "# gameday/tabular:dev into region-b's nodes",
        "kind load docker-image gameday/tabular:dev --name region-b",
        "# the fault proxy on every cross-region link; its API on 127.0.0.1",
        "docker run -d --name gameday-toxiproxy --network kind -p 127.0.0.1:8474:8474 "
        "ghcr.io/shopify/toxiproxy:2.9.0",
        "# link tabular.api (http) into region-a",
        'POST http://127.0.0.1:8474/proxies {"name":"tabular-api-region-a","listen":'
        '"gameday-toxiproxy:20100","upstream":"region-a-control-plane:30100","enabled":true}',
        "# link tabular.api (http) into region-b",
        'POST http://127.0.0.1:8474/proxies {"name":"tabular-api-region-b","listen":'
        '"gameday-toxiproxy:21100","upstream":"region-b-control-plane:30100","enabled":true}',
        "# the edge's HAProxy: health-checked failover between the regions' links",
        f"docker run -d --network kind --user {user} --name gameday-edge-haproxy "
        "-p 127.0.0.1:8081:8081 -p 127.0.0.1:8404:8404 "
        f"-v {home}/edge/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro "
        f"-v {home}/edge/regions.map:/usr/local/etc/haproxy/regions.map:ro "
        f"-v {home}/edge/run:/var/run/gameday haproxy:2.8",
        "# the edge's nginx + ModSecurity (WAF, cache) in front of HAProxy",
        f"docker run -d --network kind --user {user} --name gameday-edge-nginx "
        "-p 127.0.0.1:8080:8080 -p 127.0.0.1:8082:8082 "
        f"-v {home}/edge/nginx-home:/etc/gameday "
        f"-v {home}/edge/nginx.conf:/etc/gameday/nginx.conf:ro "
        f"-v {home}/edge/modsecurity.conf:/etc/gameday/modsecurity.conf:ro "
        "-v /usr/share/modsecurity-crs:/usr/share/modsecurity-crs:ro "
        "-v /etc/nginx/unicode.mapping:/etc/nginx/unicode.mapping:ro "
        f"-v {EXCLUSIONS}:{EXCLUSIONS}:ro --entrypoint nginx "
        "owasp/modsecurity-crs:4.7.0-nginx-202410090410 -c /etc/gameday/nginx.conf "
        "-g 'daemon off;'",
        "# Prometheus and metrics-server in region-a",
        "kubectl --context kind-region-a apply -k clusters/manifests/metrics/overlays/region-a",
        "# the tabular stack in region-a",
        "kubectl --context kind-region-a apply -k clusters/manifests/tabular/overlays/region-a",
        "# Prometheus and metrics-server in region-b",
        "kubectl --context kind-region-b apply -k clusters/manifests/metrics/overlays/region-b",
        "# the tabular stack in region-b",
        "kubectl --context kind-region-b apply -k clusters/manifests/tabular/overlays/region-b",
        "# then: every workload ready in both regions (KubeApi), within 900 s",
    ]


@pytest.fixture
def no_binaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def test_a_kind_dry_run_prints_the_exact_plan_and_needs_no_binary(
        cli: Cli, untouched_home: Path, monkeypatch: pytest.MonkeyPatch,
        no_binaries: None) -> None:
    monkeypatch.chdir(REPO)  # inside the checkout the plan's paths are relative
    result = cli("up", "--platform", "kind", "--dry-run")
    assert result.code == 0, result.output
    assert result.stdout.splitlines() == _expected_tabular(untouched_home)
    assert not untouched_home.exists()


def test_a_dry_run_of_the_local_platform_points_at_gameday_run(
        cli: Cli, untouched_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = cli("up", "--platform", "local", "--dry-run")
    assert result.code == 2
    assert "`gameday run SUITE --dry-run`" in result.output
    assert not untouched_home.exists()


def test_down_without_kind_and_nothing_stood_up_has_nothing_to_do(
        cli: Cli, untouched_home: Path, no_binaries: None) -> None:
    # a failed `gameday run` tears its platform down: without kind, no stand-up of ours began
    result = cli("down", "--platform", "kind")
    assert result.code == 0, result.output
    assert "not found on PATH" not in result.output


def test_down_without_kind_after_a_stand_up_began_is_exit_2_naming_what_to_install(
        cli: Cli, untouched_home: Path, no_binaries: None) -> None:
    untouched_home.mkdir(parents=True)
    (untouched_home / "kind-state.json").write_text('{"stacks": ["tabular"], "replicas": 2}')
    result = cli("down", "--platform", "kind", "--home", str(untouched_home))
    assert result.code == 2
    assert "`kind`, not found on PATH: install kind (https://kind.sigs.k8s.io" in result.output


def _fake_bin(folder: Path, *names: str) -> Path:
    folder.mkdir(exist_ok=True)
    for name in names:
        script = folder / name
        script.write_text("#!/bin/sh\nexit 0\n")
        script.chmod(0o755)
    return folder


def _gameday(*argv: str, path: Path, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI as its own process, on a PATH of our choosing, in the checkout."""
    environment = {"PATH": str(path), "HOME": str(home.parent), "GAMEDAY_HOME": str(home),
                   **env}
    return subprocess.run([sys.executable, "-c", _MAIN, *argv], cwd=REPO, env=environment,
                          capture_output=True, text=True, timeout=120, check=False)


def test_up_without_kind_is_exit_2_naming_kinds_install_hint(tmp_path: Path) -> None:
    path = _fake_bin(tmp_path / "bin", "docker", "kubectl")
    done = _gameday("up", "--platform", "kind", path=path, home=tmp_path / "home")
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert ("`kind`, not found on PATH: install kind "
            "(https://kind.sigs.k8s.io/docs/user/quick-start/#installation") in output
    assert "`kubectl`, not found" not in output and "Traceback" not in output
    assert not (tmp_path / "home").exists()


@pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker client binary")
def test_a_docker_client_without_a_daemon_is_exit_2_in_clear_words(tmp_path: Path) -> None:
    path = _fake_bin(tmp_path / "bin", "kind", "kubectl")
    (path / "docker").symlink_to(shutil.which("docker") or "docker")
    done = _gameday("up", "--platform", "kind", path=path, home=tmp_path / "home",
                    DOCKER_HOST=f"unix://{tmp_path}/no-daemon.sock")  # never a real daemon
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "the Docker daemon is not running" in output and "Traceback" not in output
    assert not (tmp_path / "home").exists()


def test_a_run_without_kind_is_exit_2_before_any_run_folder_or_verdict(tmp_path: Path) -> None:
    path = _fake_bin(tmp_path / "bin", "docker", "kubectl")
    runs = tmp_path / "runs"
    done = _gameday("run", "suites/nightly.yaml", "--platform", "kind", "--runs-dir", str(runs),
                    path=path, home=tmp_path / "home")
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "`kind`, not found on PATH: install kind" in output
    assert "Traceback" not in output and "✗" not in output and "run folder" not in output
    assert not runs.exists() and not (tmp_path / "home").exists()
