"""Whether this machine has a GPU the tests may use, and the marker for tests that need one:
``@requires_gpu`` marks a test ``gpu`` and skips it, with the reason, where there is none."""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Callable
from typing import TypeVar

import pytest

from gameday.platforms.local.cuda import driver_problem

__all__ = ["gpu_missing", "requires_gpu"]

_T = TypeVar("_T", bound=Callable[..., object])


@functools.cache
def gpu_missing() -> str | None:
    """Why no GPU test can run here (no CUDA driver, no GPU nvidia-smi lists), or None."""
    problem = driver_problem()
    if problem is not None:
        return f"no GPU: {problem}"
    binary = shutil.which("nvidia-smi")
    if binary is None:
        return None  # the driver loads; a container may lack nvidia-smi
    try:
        listed = subprocess.run([binary, "-L"], capture_output=True, text=True, timeout=10,
                                check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"no GPU: nvidia-smi -L failed ({exc})"
    if listed.returncode != 0 or "GPU" not in listed.stdout:
        return f"no GPU: nvidia-smi -L lists none ({(listed.stderr or listed.stdout).strip()})"
    return None


def requires_gpu(test: _T) -> _T:
    missing = gpu_missing()
    marked: _T = pytest.mark.gpu(pytest.mark.skipif(missing is not None,
                                                    reason=missing or "")(test))
    return marked
