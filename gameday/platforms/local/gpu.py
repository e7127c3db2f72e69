"""Whether this machine has an NVIDIA GPU a server can use: ``nvidia-smi -L`` lists one."""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Mapping
from typing import Any

__all__ = ["gpu_present", "uses_gpu"]


@functools.cache
def gpu_present() -> bool:
    binary = shutil.which("nvidia-smi")
    if binary is None:
        return False
    try:
        listed = subprocess.run([binary, "-L"], capture_output=True, text=True, timeout=10,
                                check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return listed.returncode == 0 and "GPU" in listed.stdout


def uses_gpu(settings: Mapping[str, Any]) -> bool:
    """The templates' ``gpu``: the suite's ``triton.device`` (gpu, cpu, or auto = present)."""
    device = settings.get("triton", {}).get("device", "auto")
    return device == "gpu" or (device == "auto" and gpu_present())
