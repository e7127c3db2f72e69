"""A fault whose injector dies without rolling back is rolled back by the platform itself.

Each fault is injected by a separate process that then hangs; the test SIGKILLs it (a crashed
harness: no rollback runs) and waits for the supervisor to undo the fault on its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from gameday.platforms.local import nft
from gameday.platforms.local.platform import LocalPlatform
from tests.faults.edge_client import until_served_only_by

_INJECT_AND_HANG = """
import importlib, json, sys, time
module, func, configuration = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
action = getattr(importlib.import_module(module), func)
print(json.dumps(action("region-a", configuration=configuration)), flush=True)
time.sleep(600)
"""


def _in_force(platform: LocalPlatform, kind: str) -> bool:
    if kind == "region_hold":
        return any(m.state != "healthy" for m in platform.members(region="region-a"))
    if kind == "nft_table":
        return bool(nft.list_tables())
    if kind == "toxics":
        return bool(platform.link_faults())
    return False  # a broken model shows as region-a not serving, checked below


@pytest.mark.parametrize(("module", "func", "kind"), [
    ("gameday.faults.region.actions", "kill_region", "region_hold"),
    ("gameday.faults.network.actions", "isolate_region", "nft_table"),
    ("gameday.faults.network.actions", "add_link_latency", "toxics"),
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
        recorded = [f["kind"] for f in local_platform.faults()]
        assert recorded and all(k == kind for k in recorded), recorded
        if kind != "model":
            assert _in_force(local_platform, kind)
        injector.kill()  # the harness crashes: no rollback runs
        injector.wait()
        deadline = time.monotonic() + 60
        while local_platform.faults() or _in_force(local_platform, kind):
            assert time.monotonic() < deadline, local_platform.faults()
            time.sleep(0.2)
        until_served_only_by(local_platform, "region-a", timeout_s=20)
    finally:
        injector.kill()
