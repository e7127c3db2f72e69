"""GPU memory exhaustion: a side process (``gameday.platforms.local.gpuhog``) takes ``fraction``
of a GPU's free memory through the CUDA driver API and holds it until undone or its own
deadline, so the serving engine's next allocation (a bigger batch, a model load) fails.

The local platform's regions share the host's GPUs: the hog takes the memory from whatever
uses that GPU, in either region. Without a GPU driver (no ``libcuda.so.1``) ``inject`` refuses
before it starts anything.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any, Literal

from pydantic import Field

from gameday.errors import FaultError
from gameday.platforms.local.cuda import driver_problem
from gameday.platforms.local.faults.base import FaultContext
from gameday.platforms.local.faults.sideprocess import SideLoadFault

__all__ = ["GpuMemoryHog", "nvidia_smi_memory"]

_HOLD_WAIT_S = 120.0  # cuInit and a context take seconds; the allocations are quick
_HELD_AT_LEAST = 0.9  # of the target: a little may go to others between the two calls
_MIB = 1 << 20


def nvidia_smi_memory(device: int) -> dict[str, int] | None:
    """The device's used, free and total memory in bytes as nvidia-smi reports them; None
    without nvidia-smi or an answer from it."""
    binary = shutil.which("nvidia-smi")
    if binary is None:
        return None
    try:
        answer = subprocess.run(
            [binary, "-i", str(device), "--query-gpu=memory.used,memory.free,memory.total",
             "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=10,
            check=False)
        used, free, total = (int(v) * _MIB for v in answer.stdout.strip().split(","))
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    return {"used_bytes": used, "free_bytes": free, "total_bytes": total}


class GpuMemoryHog(SideLoadFault):
    kind: Literal["gpu_memory_hog"] = "gpu_memory_hog"
    side_module = "gameday.platforms.local.gpuhog"
    device: int = Field(0, ge=0)
    fraction: float = Field(0.95, gt=0, le=1)

    def target(self) -> str:
        return (f"GPU {self.device} ({self.stack} in {self.region}): {self.fraction:.0%} of "
                "its free memory held")

    def inject(self, ctx: FaultContext) -> dict[str, Any]:
        problem = driver_problem()
        if problem is not None:
            raise FaultError(f"no GPU: {problem}; the gpu_memory_hog fault needs an NVIDIA "
                             "driver")
        side = self.side(ctx)
        pid = side.start(["--device", str(self.device), "--fraction", str(self.fraction),
                          "--max-duration-s", str(self.max_duration_s)])
        status = side.wait_status("holding", _HOLD_WAIT_S)
        return {"hog_pid": pid, "device": self.device, "fraction": self.fraction,
                "target_bytes": status["target_bytes"], "held_bytes": status["held_bytes"],
                "max_duration_s": self.max_duration_s}

    def verify(self, ctx: FaultContext) -> dict[str, Any]:
        side = self.side(ctx)
        status = side.status() or {}
        if side.process() is None or status.get("state") != "holding":
            said = status or "no status"
            raise FaultError(f"the GPU memory hog holds nothing ({said}): {side.log_tail()}")
        held, target = int(status["held_bytes"]), int(status["target_bytes"])
        free_before, free_now = int(status["free_before_bytes"]), int(status["free_bytes"])
        if held < _HELD_AT_LEAST * target or free_now > free_before - _HELD_AT_LEAST * held:
            raise FaultError(f"GPU {self.device}: the hog holds {held} of {target} bytes and "
                             f"{free_now} are still free (of {free_before} before)")
        return {"gpu": {"device": self.device, "held_bytes": held,
                        "free_before_bytes": free_before, "free_bytes": free_now,
                        "total_bytes": int(status["total_bytes"]),
                        "nvidia_smi": nvidia_smi_memory(self.device)}}

    def undo(self, ctx: FaultContext) -> str:
        return f"{self.side(ctx).stop()}: GPU {self.device} memory given back"
