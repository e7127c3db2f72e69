"""The local autoscaler on a real platform: a load step scales the component out through the
HPA algorithm on Prometheus's CPU figures, and the new replica takes traffic through HAProxy
without a request failing."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

from gameday.autoscale.options import AutoscalingOptions
from gameday.autoscaler import AUTOSCALER_FILE, start_autoscalers
from gameday.platforms.local.platform import LocalPlatform
from tests.platforms.local.test_scale import _open_load

_OPTIONS = {"stack": "tabular", "component": "api", "regions": ["region-a"],
            "min_replicas": 2, "max_replicas": 3, "metric": "cpu_utilization",
            "target": 0.6, "cpu_request_cores": 0.05}


def test_a_load_step_scales_out_and_the_new_replica_serves(local_platform: LocalPlatform,
                                                           tmp_path: Path) -> None:
    options = AutoscalingOptions.model_validate(_OPTIONS)
    [scaler] = start_autoscalers([options], local_platform, tmp_path)
    try:
        with _open_load(local_platform) as load:
            load.rate_per_s = 5.0
            time.sleep(4)
            step_s = time.time()
            load.rate_per_s = 150.0
            deadline_s = time.monotonic() + 40
            scaled: list[dict[str, object]] = []
            while not scaled and time.monotonic() < deadline_s:
                time.sleep(0.5)
                lines = [json.loads(line) for line in
                         (tmp_path / AUTOSCALER_FILE).read_text().splitlines()]
                scaled = [r for r in lines if r["kind"] == "scaled"]
            time.sleep(3)  # traffic on the grown set
    finally:
        scaler.stop()
        local_platform.scale("tabular", "api", "region-a", 2)
    records = [json.loads(line) for line in (tmp_path / AUTOSCALER_FILE).read_text().splitlines()]
    decisions = [r for r in records if r["kind"] == "decision"]
    assert scaled, records[-5:]
    assert scaled[0]["from"] == 2 and scaled[0]["to"] == 3
    assert scaled[0]["members"] == ["tabular-api-a3"]
    first_up = next(r for r in decisions if r["desired"] > r["current"])
    assert first_up["t_s"] >= step_s - 1.0  # nothing scaled before the step
    assert all(r["desired"] == r["current"] for r in decisions if r["t_s"] < step_s - 1.0)
    assert first_up["metric"] > 0.6 * 1.1 and first_up["raw_desired"] >= 3
    assert scaled[0]["started_s"] == first_up["t_s"]
    served = Counter(server for t_s, status, server in load.answers
                     if status == 200 and t_s > float(scaled[0]["t_s"]))  # type: ignore[arg-type]
    assert served["tabular-api-a3"] > 0, served
    failed = [a for a in load.answers if a[1] != 200]
    assert not failed, failed[:5]
    assert not [r for r in records if r["kind"] == "problem"]
    print(f"reaction {first_up['t_s'] - step_s:.2f} s, ready "
          f"{float(scaled[0]['t_s']) - first_up['t_s']:.2f} s after the decision; "  # type: ignore[arg-type]
          f"served {dict(served)}")
