"""The few CUDA driver API calls the GPU memory hog needs, through ctypes on ``libcuda.so.1``
(the driver's own library: no torch, no CUDA toolkit).

Loading the library creates no CUDA context, so ``driver_problem`` may run in the harness;
``Driver`` (cuInit, a context, allocations) runs only in the hog's own process.
"""

from __future__ import annotations

import ctypes

__all__ = ["CUDA_LIBRARY", "CudaError", "Driver", "driver_problem"]

CUDA_LIBRARY = "libcuda.so.1"
_OUT_OF_MEMORY = 2  # CUDA_ERROR_OUT_OF_MEMORY


class CudaError(Exception):
    def __init__(self, call: str, code: int, name: str) -> None:
        self.code = code
        super().__init__(f"{call}: {name} ({code})")


def driver_problem() -> str | None:
    """Why this process cannot reach a GPU's driver, or None when ``libcuda.so.1`` loads."""
    try:
        ctypes.CDLL(CUDA_LIBRARY)
    except OSError as exc:
        return f"{CUDA_LIBRARY} not found ({exc})"
    return None


class Driver:
    """One CUDA context on ``device``, made current in this thread."""

    def __init__(self, device: int) -> None:
        self.lib = ctypes.CDLL(CUDA_LIBRARY)
        self._call("cuInit", 0)
        count = ctypes.c_int()
        self._call("cuDeviceGetCount", ctypes.byref(count))
        if not 0 <= device < count.value:
            raise CudaError("cuDeviceGet", 101, f"no device {device}: {count.value} present")
        handle = ctypes.c_int()
        self._call("cuDeviceGet", ctypes.byref(handle), device)
        self.context = ctypes.c_void_p()
        self._call("cuCtxCreate_v2", ctypes.byref(self.context), 0, handle)

    def memory(self) -> tuple[int, int]:
        """(free, total) bytes of the device, as the driver sees them now."""
        free, total = ctypes.c_size_t(), ctypes.c_size_t()
        self._call("cuMemGetInfo_v2", ctypes.byref(free), ctypes.byref(total))
        return free.value, total.value

    def allocate(self, nbytes: int) -> int | None:
        """A device pointer to ``nbytes``; None when the device is out of memory."""
        pointer = ctypes.c_uint64()
        code = int(self.lib.cuMemAlloc_v2(ctypes.byref(pointer), ctypes.c_size_t(nbytes)))
        if code == _OUT_OF_MEMORY:
            return None
        self._check("cuMemAlloc_v2", code)
        return int(pointer.value)

    def release(self, pointer: int) -> None:
        self._call("cuMemFree_v2", ctypes.c_uint64(pointer))

    def close(self) -> None:
        self._call("cuCtxDestroy_v2", self.context)

    def _call(self, name: str, *arguments: object) -> None:
        self._check(name, int(getattr(self.lib, name)(*arguments)))

    def _check(self, call: str, code: int) -> None:
        if code != 0:
            raise CudaError(call, code, self._name(code))

    def _name(self, code: int) -> str:
        text = ctypes.c_char_p()
        if self.lib.cuGetErrorName(code, ctypes.byref(text)) == 0 and text.value:
            return text.value.decode()
        return "CUDA error"
