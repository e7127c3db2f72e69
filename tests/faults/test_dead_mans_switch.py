"""A fault whose injector dies without rolling back is rolled back by the platform itself."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from gameday.platforms.local.platform import LocalPlatform
from tests.faults.edge_client import until_served_only_by

_INJECT_AND_HANG = """
import json, sys, time
from gameday.faults.region.actions import kill_region
print(json.dumps(kill_region("region-a", configuration=json.loads(sys.argv[1]))), flush=True)
time.sleep(600)
"""


def test_region_killed_by_a_crashed_harness_comes_back_by_itself(
        local_platform: LocalPlatform, configuration: dict[str, str]) -> None:
    injector = subprocess.Popen([sys.executable, "-c", _INJECT_AND_HANG,
                                 json.dumps(configuration)], stdout=subprocess.PIPE, text=True)
    try:
        assert injector.stdout is not None
        assert json.loads(injector.stdout.readline())["fault"] == "region-outage"
        assert any(f["kind"] == "region_hold" for f in local_platform.faults())
        injector.kill()  # the harness crashes: no rollback runs
        injector.wait()
        deadline = time.monotonic() + 60
        while any(m.state != "healthy" for m in local_platform.members(region="region-a")):
            assert time.monotonic() < deadline, local_platform.members(region="region-a")
            time.sleep(0.2)
        assert not local_platform.faults()
        until_served_only_by(local_platform, "region-a", timeout_s=15)
    finally:
        injector.kill()
