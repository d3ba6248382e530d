"""The Ornstein–Uhlenbeck recursion of the price models over a block of paths, compiled (Numba).

A recursion over periods walks the columns of a C-ordered (paths, periods) block: done with one whole-column
numpy operation per period, each column of a 4,096-path block touches 4,096 cache lines, and the scaling of the
normals and the adding of the long-run level are passes of their own over the block. Here a tile of
:data:`TILE` paths is carried through every period at once (the cache lines it is reading and writing stay in the
L1 cache), each value read and written once. The arithmetic is the formula's, in its order: ``e_i = z_i ×
scale_i`` (one product), then ``y_i = e_i + y_{i-1} × decay_i`` (two products' sum, never fused into one rounding:
Numba leaves floating-point contraction off), then ``y_i + theta``; so the results are bit for bit the
whole-array formula's (``tests/scenario/test_path_blocks.py``), but for the sign of a NaN made from two NaNs (which
operand's NaN an addition keeps is the compiler's choice; the numpy code's own blocks of other sizes differ there
too). Nothing is bounds-checked here: ``path_blocks.mean_revert`` checks the shapes first.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["TILE", "ou_recursion"]

#: paths carried through the periods together: independent chains, so the processor overlaps their latencies —
#: and their memory accesses. Each period reads and writes one value in each of the tile's rows (960 bytes apart
#: for 120 periods), so a tile keeps one cache line a path in flight, two when the normals are read from another
#: array than the one written (16 KiB for 128 paths: half a 32 KiB L1 cache, a third of a 48 KiB one). Measured
#: on a 20,000-path chunk, whose normals are no longer all in cache (session 12, AMD EPYC Zen 5, one thread):
#: 0.44 µs a path with tiles of 8, 0.31 with 16, 0.28 with 32, 0.19-0.23 with 64, 0.18 with 128, 0.17 with 256,
#: 0.19 with 512; in cache all are about 0.10 µs. 128 keeps what is in flight within half of Zen 4's L1.
TILE = 128


@njit(cache=True, error_model="numpy")
def ou_recursion(src: np.ndarray, scale: np.ndarray, decay: np.ndarray, start: float, theta: float,
                 out: np.ndarray) -> None:
    """``out[p, i] = y_i + theta`` with ``y_i = src[p, i] × scale[i] + y_{i-1} × decay[i]`` from ``y_{-1} =
    start``, for every path ``p`` (rows) and period ``i`` (columns). ``src`` may be ``out`` itself (each value is
    read before it is written); ``scale`` of ones leaves ``src`` as it is (``x × 1.0 == x``)."""
    n_paths, n = out.shape
    y = np.empty(TILE)
    for p0 in range(0, n_paths, TILE):
        m = min(TILE, n_paths - p0)
        for k in range(m):
            y[k] = start
        for i in range(n):
            s = scale[i]
            d = decay[i]
            for k in range(m):
                e = src[p0 + k, i] * s
                yk = e + y[k] * d
                y[k] = yk
                out[p0 + k, i] = yk + theta
