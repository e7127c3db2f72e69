"""The input-drift fault on the local platform: region-a's members, their windows full of
training-like inputs and calling nothing drifted, get a shifted client population from a side
process; the drift watch sees each member call the dataset drifted within the bound, region-b
sees nothing, and the rollback ends the side process.

The bound is counted in inputs, not seconds (the machine's speed is the benchmark's business):
once a member has taken 400 shifted inputs (40 % of its 1,000-input window) every sample says
the dataset drifts. Offline, 200 of 200 windows with 300 shifted inputs of 1,000 did.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil
import pytest

from gameday.driftsamples import DriftSample, read_drift_samples
from gameday.driftwatch import DriftWatch
from gameday.errors import FaultError
from gameday.faults.drift import actions, probes
from gameday.platforms.base import Member
from gameday.platforms.local.platform import LocalPlatform
from gameday.stacks import load_stack
from targets.tabular.data import make_transactions
from targets.tabular.features import row_payload

BOUND_INPUTS = 400
WINDOW = 1000  # the service's default drift window
SHIFT = {"amount": {"scale": 100}, "hour": {"add": 6, "modulo": 24},
         "merchant_risk": {"add": 0.3, "low": 0, "high": 1}, "foreign": {"share_true": 0.9}}


def _payload(row: np.ndarray) -> dict[str, Any]:
    return row_payload(row.tolist())


def _drift(member: Member) -> dict[str, Any]:
    report: dict[str, Any] = httpx.get(f"{member.url}/drift", timeout=5).json()
    return report


def _fill_with_training_inputs(members: list[Member]) -> None:
    with httpx.Client(timeout=5) as client:
        for number, member in enumerate(members):
            for row in make_transactions(WINDOW, 500 + number).features:
                client.post(f"{member.url}/predict", json=_payload(row)).raise_for_status()


def _until(condition: Any, timeout_s: float, what: str) -> None:
    deadline_s = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline_s:
            raise AssertionError(f"not within {timeout_s:g} s: {what}")
        time.sleep(0.2)


def _shifted_inputs(sample: DriftSample, start: dict[str, int]) -> int:
    return sample.inputs_total - start[sample.member]


def test_the_watch_sees_each_shifted_member_drift_within_the_bound_and_the_rollback_ends_it(
        local_platform: LocalPlatform, configuration: dict[str, str], tmp_path: Path) -> None:
    drift = load_stack("tabular").drift
    assert drift is not None
    targets = local_platform.members(region="region-a", stack="tabular", component="api")
    others = local_platform.members(region="region-b", stack="tabular", component="api")
    _fill_with_training_inputs(targets)
    before = {m.name: _drift(m) for m in targets}
    assert all(r["dataset_drift"] is False and r["window_rows"] == WINDOW
               for r in before.values()), before
    start = {name: int(r["inputs_total"]) for name, r in before.items()}
    watches = [DriftWatch(m.name, lambda: local_platform.members(stack="tabular"), drift,
                          tmp_path) for m in [*targets, *others]]
    for watch in watches:
        watch.start()
    injected_s = time.time()
    done = actions.shift_inputs("region-a", SHIFT, rate_per_s=100, configuration=configuration)
    try:
        _until(lambda: all(any(s.member == m.name and _shifted_inputs(s, start) >= BOUND_INPUTS
                               for s in read_drift_samples(tmp_path)) for m in targets),
               60, f"{BOUND_INPUTS} shifted inputs seen by the watch on every region-a member")
        during = probes.drift_status("region-a", configuration=configuration)
    finally:
        undone = actions.restore_inputs("region-a", configuration=configuration)
        for watch in watches:
            watch.stop()
    samples = read_drift_samples(tmp_path)

    assert done["fault"] == "input-drift" and done["reference_rows"] == 5000
    assert all(m["answered"]["200"] >= 5 for m in done["members"].values())
    for member in targets:
        own = [s for s in samples if s.member == member.name and s.dataset_drift is not None]
        assert not any(s.dataset_drift for s in own if s.t_s < injected_s)
        past_bound = [s for s in own if _shifted_inputs(s, start) >= BOUND_INPUTS]
        assert past_bound and all(s.dataset_drift for s in past_bound), past_bound[:2]
        assert all({"amount", "merchant_risk", "foreign"}
                   <= {f.name for f in s.features if f.drifted} for s in past_bound)
        assert all(max(f.psi for f in s.features if f.name == "amount") >= 0.25
                   for s in past_bound)
    assert during["dataset_drift"] is True
    assert all(m["dataset_drift"] for m in during["members"].values())
    # region-b took none of it: its windows hold no input to judge, let alone a drifted one
    assert not any(s.dataset_drift for s in samples if s.region == "region-b")

    assert undone["undone"] and local_platform.faults_in_force() == []
    pid = int(done["population_pid"])
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    after = {m.name: _drift(m)["inputs_total"] for m in targets}
    time.sleep(1.0)
    assert {m.name: _drift(m)["inputs_total"] for m in targets} == after  # nobody sends


def test_a_shift_that_leaves_a_fields_range_is_refused_and_nothing_stays_injected(
        local_platform: LocalPlatform, configuration: dict[str, str]) -> None:
    # merchant_risk must be in [0, 1]: +2 without a clip makes the service answer 422
    with pytest.raises(FaultError, match=r"the shifted requests are refused .*422"):
        actions.shift_inputs("region-a", {"merchant_risk": {"add": 2}},
                             configuration=configuration)
    assert local_platform.faults_in_force() == []
    assert not list((local_platform.home.root / "sideload").glob("shifted_inputs-*.pid"))


def test_a_misspelt_shift_is_refused_before_anything_is_sent(
        local_platform: LocalPlatform, configuration: dict[str, str]) -> None:
    with pytest.raises(FaultError, match="shift: no feature amonut in the requests"):
        actions.shift_inputs("region-a", {"amonut": {"scale": 100}},
                             configuration=configuration)
    assert local_platform.faults_in_force() == []
