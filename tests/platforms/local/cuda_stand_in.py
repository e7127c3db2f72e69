"""A stand-in for the CUDA driver (``libcuda.so.1``) with the few calls the GPU memory hog makes,
built with the C compiler where there is one: a pretend device of ``FAKE_CUDA_TOTAL_MIB``
(default 8192) that refuses any single allocation over 256 MiB (so the hog must shrink its
chunks) and, with ``FAKE_CUDA_DEVICES=0``, has no device at all. No memory is really taken.

It lets the hog's side process and the fault's inject, verify and undo run on a machine without
a GPU; what only a real driver shows is in the ``@requires_gpu`` tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

__all__ = ["build_stand_in"]

_SOURCE = r"""
#include <stdlib.h>
#include <stddef.h>
static size_t total_bytes, free_bytes;
static unsigned long long next_pointer = 1ULL << 32;
static int env_int(const char *name, int fallback) {
    const char *text = getenv(name);
    return text ? atoi(text) : fallback;
}
int cuInit(unsigned int flags) {
    if (env_int("FAKE_CUDA_DEVICES", 1) == 0) return 100; /* CUDA_ERROR_NO_DEVICE */
    total_bytes = free_bytes = (size_t)env_int("FAKE_CUDA_TOTAL_MIB", 8192) << 20;
    return 0;
}
int cuDeviceGetCount(int *count) { *count = env_int("FAKE_CUDA_DEVICES", 1); return 0; }
int cuDeviceGet(int *device, int ordinal) { *device = ordinal; return 0; }
int cuCtxCreate_v2(void **context, unsigned int flags, int device) {
    *context = (void *)0x1; free_bytes -= 64 << 20; return 0;  /* a context costs memory */
}
int cuCtxDestroy_v2(void *context) { return 0; }
int cuMemGetInfo_v2(size_t *free_out, size_t *total_out) {
    *free_out = free_bytes; *total_out = total_bytes; return 0;
}
int cuMemAlloc_v2(unsigned long long *pointer, size_t size) {
    if (size > ((size_t)256 << 20) || size > free_bytes) return 2; /* OUT_OF_MEMORY */
    free_bytes -= size; *pointer = next_pointer; next_pointer += size; return 0;
}
int cuMemFree_v2(unsigned long long pointer) { return 0; }
int cuGetErrorName(int code, const char **name) {
    *name = code == 100 ? "CUDA_ERROR_NO_DEVICE" : code == 2 ? "CUDA_ERROR_OUT_OF_MEMORY"
                                                              : "CUDA_ERROR_UNKNOWN";
    return 0;
}
"""


def build_stand_in(folder: Path) -> Path | None:
    """``folder``/libcuda.so.1 built from the source above; None without a C compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None
    source = folder / "fake_cuda.c"
    source.write_text(_SOURCE)
    library = folder / "libcuda.so.1"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(library), str(source)],
                   check=True, capture_output=True)
    return library
