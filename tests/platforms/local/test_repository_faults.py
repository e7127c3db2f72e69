"""The model-repository faults (gameday.platforms.local.faults.repository) against a real Triton
server: each is in effect when verify says so, and its undo leaves the model answering as the
server's own config says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gameday.errors import FaultError
from gameday.faults.serving.samples import sample_for
from gameday.platforms.local.faults import (
    BackendStalled,
    FaultContext,
    MemberRef,
    ModelUnloaded,
    VersionLoaded,
)
from gameday.platforms.local.home import LocalHome
from tests.targets.triton.triton_testing import TritonServer, infer, triton_server

PORT = 28360
ROW = [[42.0, 13, 0.2, 3.0, 400, 0, 2]]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    with triton_server(tmp_path_factory.mktemp("triton-faults"), port=PORT) as running:
        yield running


@pytest.fixture
def ctx(tmp_path: Path) -> FaultContext:
    def no_supervisor(op: str, **arguments: object) -> None:
        raise AssertionError(f"these faults need no supervisor ({op})")
    return FaultContext(home=LocalHome(tmp_path), proxy_api_url="", call=no_supervisor)


def _where(server: TritonServer) -> dict[str, object]:
    sample = sample_for("triton", "infer")
    config = httpx.get(f"{server.url}/v2/models/fraud/config", timeout=5).text
    return {"region": "region-a", "stack": "triton", "model": "fraud",
            "members": (MemberRef(name="triton-server-a1", address="127.0.0.1",
                                  ports={"http": PORT}),),
            "probe_path": "/v2/models/fraud/infer", "probe_body": sample.body,
            "restore_configs": (config,)}


def _version(server: TritonServer) -> str:
    answer = infer(server.url, ROW)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["model_version"])


def test_an_unloaded_model_is_verified_gone_and_the_undo_brings_it_back(
        server: TritonServer, ctx: FaultContext) -> None:
    fault = ModelUnloaded(**_where(server))  # type: ignore[arg-type]
    fault.inject(ctx)
    assert fault.verify(ctx)["model_ready"] == {"triton-server-a1": False}
    assert infer(server.url, ROW).status_code >= 400
    assert httpx.get(f"{server.url}/v2/health/live", timeout=2).status_code == 200
    assert "reloaded fraud as it was" in fault.undo(ctx)
    assert _version(server) == "1"


def test_a_hot_swap_serves_the_new_version_and_the_undo_the_configured_one(
        server: TritonServer, ctx: FaultContext) -> None:
    fault = VersionLoaded(**_where(server), version=2)  # type: ignore[arg-type]
    assert fault.inject(ctx)["loads"]["triton-server-a1"]["status"] == 200
    assert fault.verify(ctx) == {"serving_versions": {"triton-server-a1": "2"}, "loaded": True}
    fault.undo(ctx)
    assert _version(server) == "1"


def test_a_broken_release_fails_to_load_and_the_old_version_keeps_serving(
        server: TritonServer, ctx: FaultContext) -> None:
    fault = VersionLoaded(**_where(server), version=3)  # type: ignore[arg-type]
    load = fault.inject(ctx)["loads"]["triton-server-a1"]
    assert load["status"] == 400 and "no weights.npz" in load["error"]
    assert fault.verify(ctx) == {"serving_versions": {"triton-server-a1": "1"},
                                 "loaded": False}
    fault.undo(ctx)
    assert _version(server) == "1"


def test_a_stalled_backend_hangs_while_ready_and_the_undo_lifts_it(
        server: TritonServer, ctx: FaultContext) -> None:
    fault = BackendStalled(**_where(server),  # type: ignore[arg-type]
                           control_dirs=(str(server.control),))
    fault.inject(ctx)
    observed = fault.verify(ctx)["members"]["triton-server-a1"]
    assert observed == {"inference": "no answer", "model_ready": True}
    assert fault.undo(ctx) == "removed the stall on 1 triton members in region-a"
    assert not (server.control / "stall").exists()
    assert _version(server) == "1"


def test_verify_refuses_a_stall_that_did_not_take(server: TritonServer,
                                                   ctx: FaultContext,
                                                   tmp_path: Path) -> None:
    # the stall file written where the model does not look: inference still answers
    fault = BackendStalled(**_where(server),  # type: ignore[arg-type]
                           control_dirs=(str(tmp_path),))
    fault.inject(ctx)
    with pytest.raises(FaultError, match="still answer inference"):
        fault.verify(ctx)
    fault.undo(ctx)


def test_a_plain_load_after_an_override_keeps_the_override_so_the_undo_loads_the_config(
        server: TritonServer, ctx: FaultContext) -> None:
    """Why the undo sends the config it saved: Triton reloads the overridden config."""
    where = _where(server)
    fault = VersionLoaded(**where, version=2)  # type: ignore[arg-type]
    fault.inject(ctx)
    plain = httpx.post(f"{server.url}/v2/repository/models/fraud/load", timeout=60)
    assert plain.status_code == 200
    kept = _version(server)
    fault.undo(ctx)
    assert _version(server) == "1"
    assert kept == "2", "Triton now reloads config.pbtxt on a plain load: simplify the undo"
