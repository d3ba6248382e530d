"""Scratch arrays for the compiled kernels, starting on a 64-byte cache-line boundary.

Numba's ``np.empty`` aligns an array's data to 32 bytes (``numba.core.base.BaseContext.
get_preferred_array_alignment``), so whether it also starts on a 64-byte boundary depends on where the allocator
happens to put it — a matter of the process's address layout, not of the code. An AVX-512 load or store is 64
bytes: on an array 32 bytes off a line, every one of them spans two cache lines. The Monte Carlo kernel's lane
buffers are read and written in such vectors (``waterfall_lanes``' rows of 64 paths, the collections' rows of
periods), and the kernel's time moved by up to 15 % from one process to the next with the same code and inputs
(session 12, AMD EPYC Zen 5: 3.67–4.15 µs a path, 20,000 baseline paths on one thread; 3.64–3.76 µs with every
scratch array aligned, six processes each, alternately). Alignment changes no arithmetic: the same operations
on the same values, so the same bits.

The array is a view of a larger buffer that keeps it alive (Numba's reference counting of the shared
allocation), sliced at the first cache-line boundary.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from naef.engine.kernel_cache import ensure_fresh

__all__ = ["CACHE_LINE_BYTES", "empty_aligned"]

#: the boundary arrays start on: one cache line, the width of an AVX-512 vector
CACHE_LINE_BYTES = 64


@njit(cache=True)
def empty_aligned(size: int, dtype: type) -> np.ndarray:
    """An uninitialised 1-D C-contiguous array of ``size`` items of ``dtype`` whose data starts on a
    :data:`CACHE_LINE_BYTES` boundary (reshape it for more dimensions: the view stays C-contiguous).

    Allocated with ``CACHE_LINE_BYTES`` items of slack and sliced at the first boundary: the allocation is
    aligned to at least the item size, so the distance to the boundary is a whole number of items."""
    buf: np.ndarray = np.empty(size + CACHE_LINE_BYTES, dtype)
    miss = buf.ctypes.data % CACHE_LINE_BYTES
    skip = (CACHE_LINE_BYTES - miss) % CACHE_LINE_BYTES // buf.itemsize
    return buf[skip : skip + size]


ensure_fresh(empty_aligned)  # nothing cached from other sources than these (naef.engine.kernel_cache)
