"""The GPU memory hog (gameday.platforms.local.faults.gpumemory): refused where there is no GPU
driver before anything starts; its side process and the fault's inject, verify and undo on a
stand-in driver (tests/platforms/local/cuda_stand_in.py) anywhere there is a C compiler; the
real thing, held and given back as nvidia-smi sees it, where there is a GPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from gameday.errors import FaultError
from gameday.platforms.local.faults import FaultContext, GpuMemoryHog
from gameday.platforms.local.faults.gpumemory import nvidia_smi_memory
from gameday.platforms.local.home import LocalHome
from tests.gpu import gpu_missing, requires_gpu
from tests.platforms.local.cuda_stand_in import build_stand_in


@pytest.fixture
def ctx(tmp_path: Path) -> FaultContext:
    def no_supervisor(op: str, **arguments: object) -> None:
        raise AssertionError(f"this fault needs no supervisor ({op})")
    return FaultContext(home=LocalHome(tmp_path), proxy_api_url="", call=no_supervisor)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.skipif(gpu_missing() is None, reason="a GPU is present: the refusal cannot show")
def test_the_gpu_hog_refuses_without_a_gpu_before_it_starts_anything(
        ctx: FaultContext) -> None:
    fault = GpuMemoryHog(region="region-a", stack="triton")
    with pytest.raises(FaultError, match=r"no GPU: libcuda\.so\.1 not found"):
        fault.inject(ctx)
    assert not fault.side(ctx).folder.exists()
    assert "was not running" in fault.undo(ctx)


# the fault's inject, verify and undo in a process whose libcuda.so.1 is the stand-in
_HOG_RUN = """
import json, sys, time
from pathlib import Path
from gameday.errors import FaultError
from gameday.platforms.local.faults import FaultContext, GpuMemoryHog
from gameday.platforms.local.home import LocalHome
ctx = FaultContext(home=LocalHome(Path(sys.argv[1])), proxy_api_url="", call=print)
fault = GpuMemoryHog(region="region-a", stack="triton", **json.loads(sys.argv[2]))
out = {}
try:
    out["inject"] = fault.inject(ctx)
    out["verify"] = fault.verify(ctx)
    if sys.argv[3] == "outlive":
        deadline_s = time.monotonic() + 15
        while fault.side(ctx).process() is not None and time.monotonic() < deadline_s:
            time.sleep(0.1)
        out["last_state"] = (fault.side(ctx).status() or {}).get("state")
except FaultError as exc:
    out["error"] = str(exc)
out["undo"] = fault.undo(ctx)
out["running_after_undo"] = fault.side(ctx).process() is not None
print(json.dumps(out))
"""


def _hog_on_stand_in(tmp_path: Path, fields: dict[str, Any], *, outlive: bool = False,
                     **env: str) -> dict[str, Any]:
    """What the fault did, with ``fields``, in a process on the stand-in driver; ``outlive``:
    it waits for the hog to end by itself before the undo."""
    if build_stand_in(tmp_path) is None:
        pytest.skip("no C compiler to build the CUDA driver stand-in")
    done = subprocess.run([sys.executable, "-c", _HOG_RUN, str(tmp_path / "home"),
                           json.dumps(fields), "outlive" if outlive else "undo"],
                          capture_output=True, text=True, timeout=60, check=True,
                          env={**os.environ, "LD_LIBRARY_PATH": str(tmp_path), **env})
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_the_gpu_hog_takes_its_fraction_in_shrinking_chunks_on_a_stand_in_driver(
        tmp_path: Path) -> None:
    run = _hog_on_stand_in(tmp_path, {"fraction": 0.5}, FAKE_CUDA_TOTAL_MIB="4096")
    gpu = run["verify"]["gpu"]
    # the stand-in refuses chunks over 256 MiB: the hog halves its 1 GiB chunks and still
    # takes all it set out to
    assert run["inject"]["held_bytes"] == run["inject"]["target_bytes"] \
        == int(gpu["free_before_bytes"] * 0.5)
    assert gpu["free_bytes"] == gpu["free_before_bytes"] - gpu["held_bytes"]
    assert not _alive(run["inject"]["hog_pid"])
    assert "stopped" in run["undo"] and run["running_after_undo"] is False


def test_the_gpu_hog_fails_with_the_drivers_word_when_it_finds_no_device(
        tmp_path: Path) -> None:
    run = _hog_on_stand_in(tmp_path, {}, FAKE_CUDA_DEVICES="0")
    assert "cuInit: CUDA_ERROR_NO_DEVICE (100)" in run["error"]
    assert "inject" not in run and run["running_after_undo"] is False


def test_the_gpu_hog_ends_by_itself_at_its_deadline_on_a_stand_in_driver(
        tmp_path: Path) -> None:
    run = _hog_on_stand_in(tmp_path, {"fraction": 0.2, "max_duration_s": 1.5}, outlive=True)
    assert run["last_state"] == "deadline" and not _alive(run["inject"]["hog_pid"])
    assert "ended by itself" in run["undo"]


@requires_gpu
def test_the_gpu_hog_holds_the_memory_and_the_undo_gives_it_back(ctx: FaultContext) -> None:
    fault = GpuMemoryHog(region="region-a", stack="triton", fraction=0.5)
    done = fault.inject(ctx)
    try:
        gpu = fault.verify(ctx)["gpu"]
        smi = nvidia_smi_memory(0)
    finally:
        undone = fault.undo(ctx)
    assert done["held_bytes"] >= 0.9 * done["target_bytes"] > 0
    assert gpu["free_bytes"] <= gpu["free_before_bytes"] - 0.9 * gpu["held_bytes"]
    if smi is not None:  # the driver's view from outside the hog agrees
        assert smi["free_bytes"] <= gpu["free_before_bytes"] - 0.8 * gpu["held_bytes"]
    assert "stopped" in undone and not _alive(done["hog_pid"])
    freed = nvidia_smi_memory(0)
    if freed is not None:
        assert freed["free_bytes"] >= gpu["free_before_bytes"] - 0.1 * gpu["held_bytes"]


@requires_gpu
def test_the_gpu_hog_ends_by_itself_at_its_deadline(ctx: FaultContext) -> None:
    fault = GpuMemoryHog(region="region-a", stack="triton", fraction=0.2, max_duration_s=2)
    pid = fault.inject(ctx)["hog_pid"]
    side = fault.side(ctx)
    deadline_s = time.monotonic() + 15
    while side.process() is not None and time.monotonic() < deadline_s:
        time.sleep(0.1)
    assert not _alive(pid) and (side.status() or {}).get("state") == "deadline"
    assert "ended by itself" in fault.undo(ctx)
