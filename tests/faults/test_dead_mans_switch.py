"""A fault whose injector dies without rolling back is rolled back by the platform itself, and
``reset_faults`` undoes every kind, both through each fault's own ``undo``.

Each fault is injected by a separate process that then hangs; the test SIGKILLs it (a crashed
harness: no rollback runs) and waits for the supervisor to undo the fault on its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import pytest

from gameday.faults.model import actions as model_actions
from gameday.faults.network import actions as network_actions
from gameday.faults.region import actions as region_actions
from gameday.platforms.local import nft
from gameday.platforms.local.platform import LocalPlatform
from tests.faults.edge_client import SAMPLE, until_served_only_by

_INJECT_AND_HANG = """
import importlib, json, sys, time
module, func, configuration = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
action = getattr(importlib.import_module(module), func)
print(json.dumps(action("region-a", configuration=configuration)), flush=True)
time.sleep(600)
"""


def _toxics(platform: LocalPlatform) -> list[str]:
    proxies = httpx.get(f"{platform.proxy_api_url()}/proxies", timeout=5).json()
    return [f"{name}: {t['name']}" for name, p in proxies.items() for t in p.get("toxics", [])]


def _region_a_predicts(platform: LocalPlatform) -> list[int]:
    return [httpx.post(f"{m.url}/predict", json=SAMPLE, timeout=3).status_code
            for m in platform.members(region="region-a", component="api")]


def _in_force(platform: LocalPlatform, kind: str) -> bool:
    """The fault's effect as the outside world sees it, not as the ledger says."""
    if kind == "region_hold":
        return any(m.state != "healthy" for m in platform.members(region="region-a"))
    if kind == "nft_table":
        return bool(nft.list_tables())
    if kind == "link_toxics":
        return bool(_toxics(platform))
    return any(status != 200 for status in _region_a_predicts(platform))


def _kinds(platform: LocalPlatform) -> list[str]:
    return [record.fault.kind for record in platform.ledger.records()]


@pytest.mark.parametrize(("module", "func", "kind"), [
    ("gameday.faults.region.actions", "kill_region", "region_hold"),
    ("gameday.faults.network.actions", "isolate_region", "nft_table"),
    ("gameday.faults.network.actions", "add_link_latency", "link_toxics"),
    ("gameday.faults.model.actions", "break_model", "model"),
], ids=["region-kill", "nft-isolation", "link-latency", "broken-model"])
def test_a_fault_left_by_a_crashed_harness_is_rolled_back_by_the_platform(
        local_platform: LocalPlatform, configuration: dict[str, str], module: str, func: str,
        kind: str) -> None:
    if kind == "nft_table" and not nft.nft_usable()[0]:
        pytest.skip(f"nftables is not usable here: {nft.nft_usable()[1]}")
    injector = subprocess.Popen([sys.executable, "-c", _INJECT_AND_HANG, module, func,
                                 json.dumps(configuration)], stdout=subprocess.PIPE, text=True)
    try:
        assert injector.stdout is not None
        assert json.loads(injector.stdout.readline())
        assert _kinds(local_platform) == [kind]
        assert _in_force(local_platform, kind)  # broken, killed, cut: not just recorded
        injector.kill()  # the harness crashes: no rollback runs
        injector.wait()
        deadline = time.monotonic() + 60
        while _kinds(local_platform) or _in_force(local_platform, kind):
            assert time.monotonic() < deadline, local_platform.faults_in_force()
            time.sleep(0.2)
        until_served_only_by(local_platform, "region-a", timeout_s=20)
    finally:
        injector.kill()


def test_reset_faults_undoes_every_kind_and_empties_the_ledger(
        local_platform: LocalPlatform, configuration: dict[str, str]) -> None:
    model_actions.break_model("region-a", configuration=configuration)
    network_actions.add_link_latency("region-b", latency_ms=50, configuration=configuration)
    network_actions.isolate_region("region-b", method="toxic", configuration=configuration)
    expected = {"model", "link_toxics"}
    if nft.nft_usable()[0]:
        network_actions.isolate_region("region-b", configuration=configuration)
        expected.add("nft_table")
    region_actions.kill_region("region-a", configuration=configuration)
    expected.add("region_hold")
    assert set(_kinds(local_platform)) == expected
    assert len(_toxics(local_platform)) == 3 * 2  # latency + two timeouts on b's two links

    undone = local_platform.reset_faults()

    assert len(undone) >= len(expected)
    assert _kinds(local_platform) == []
    assert _toxics(local_platform) == []
    assert nft.list_tables() == []
    # the supervisor's health view catches up within a check or two of the heal
    deadline = time.monotonic() + 10
    while {m.state for m in local_platform.members()} != {"healthy"}:
        assert time.monotonic() < deadline, local_platform.members()
        time.sleep(0.1)
    assert _region_a_predicts(local_platform) == [200, 200]
    until_served_only_by(local_platform, "region-a", timeout_s=20)
