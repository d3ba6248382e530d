"""Path-by-path arithmetic of the price models computed in cache-sized blocks of paths.

The models' outputs are C-ordered (paths, periods) arrays: a path is a row. A chunk of tens of thousands of paths
is tens of megabytes, larger than the caches, so every whole-array step (scale the normals, add a drift, take
``exp``) streams it from and to memory again, and a recursion over periods, which walks the columns (one element
per path and period, each in its own 64-byte cache line), has a column's lines evicted before the next seven
columns come back to them, so each line is fetched eight times. :func:`in_path_blocks` runs all of a model's steps
on :data:`PATHS_PER_BLOCK` paths at a time instead, while they are in cache.

Each element still sees the same floating-point operations in the same order as the whole-array formulas (every
step is elementwise, or a recursion or cumulative sum along one path's periods), so the results are bit-identical
to them. :func:`accumulate_periods` replaces numpy's accumulations along the periods (same sums, faster), and
:func:`paths_first` the transposing copy of the draws (same numbers, faster). All pinned, bit for bit, to the
straightforward formulas in ``tests/scenario/test_path_blocks.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray: TypeAlias = npt.NDArray[np.float64]

__all__ = ["PATHS_PER_BLOCK", "accumulate_periods", "in_path_blocks", "mean_revert", "paths_first"]

#: paths computed together: a column of a block touches one 64-byte cache line per path, 4,096 lines = 256 KiB,
#: which stays in a core's L2 cache (with a few scratch rows of 32 KiB) while the next columns reuse the lines; a
#: block of 120 periods is 3.75 MiB, within the L3 cache for the block's whole-array steps
PATHS_PER_BLOCK = 4096


def in_path_blocks(
    *, n_paths: int, n_periods: int, fill: Callable[[slice, FloatArray], None], paths_per_block: int | None = None
) -> FloatArray:
    """A (n_paths, n_periods) array whose rows ``rows`` (a slice of at most ``paths_per_block`` paths, by default
    :data:`PATHS_PER_BLOCK`) are written by ``fill(rows, out)``, ``out`` being those rows (C-contiguous). ``fill``
    must compute each path from that path's numbers alone, so that the blocks' bounds change no bit."""
    import numpy as np

    step = PATHS_PER_BLOCK if paths_per_block is None else paths_per_block
    out = np.empty((n_paths, n_periods))
    for lo in range(0, n_paths, step):
        hi = min(n_paths, lo + step)
        fill(slice(lo, hi), out[lo:hi])
    return out


def mean_revert(levels: FloatArray, *, decay: FloatArray, start: float, theta: float,
                normals: FloatArray | None = None, scale: FloatArray | None = None) -> None:
    """In place, the mean-reverting (AR(1)) recursion of the Ornstein–Uhlenbeck models on a (paths, periods)
    array: ``y_i = e_i + y_{i-1} decay_i`` from ``y_{-1} = start``, then ``levels_i = y_i + theta``, where the
    scaled innovation ``e_i`` is ``normals_i × scale_i`` when both are given (formed in the same pass; ``levels``'
    contents are not read), else what ``levels`` holds. Compiled, a few paths at a time through every period
    (``naef.scenario.recursions``)."""
    import numpy as np

    from naef.scenario.recursions import ou_recursion

    if (normals is None) != (scale is None):
        raise ValueError("mean_revert: normals and scale are given together or not at all")
    n = levels.shape[1] if levels.ndim == 2 else -1
    scale_shape = None if scale is None else scale.shape
    normals_shape = None if normals is None else normals.shape
    if (levels.dtype != np.float64 or np.shape(decay) != (n,)
            or (normals is not None and (scale_shape != (n,) or normals_shape != levels.shape))):
        raise ValueError(f"mean_revert: needs float64 levels (paths, periods), got {levels.dtype} {levels.shape}, with "
                         f"decay {np.shape(decay)} and scale {scale_shape} of (periods,) and normals "
                         f"{normals_shape} of the levels' shape (the compiled recursion does not check bounds)")
    if normals is None:
        ou_recursion(levels, np.ones(n), decay, start, theta, levels)
    else:
        ou_recursion(normals, scale, decay, start, theta, levels)


def accumulate_periods(values: npt.NDArray[Any], ufunc: np.ufunc) -> None:
    """In place along each path's periods (axis 1), ``values_i = ufunc(values_{i-1}, values_i)``: the same results
    as ``ufunc.accumulate(values, axis=1, out=values)``, which also applies ``ufunc`` sequentially with the
    running value first (operands in that order, so even the bits a commutative ``ufunc`` may pick between —
    the payload of two NaNs, the sign of ``maximum(0.0, -0.0)`` — are numpy's). One vectorised
    operation per period over all the paths, where numpy runs one short inner loop per path (about four times
    slower on 4,096 paths x 120 periods)."""
    for i in range(1, values.shape[1]):
        col = values[:, i]
        ufunc(values[:, i - 1], col, out=col)


#: periods :func:`paths_first` copies at a time
TRANSPOSE_TILE = 16


def paths_first(values: FloatArray, *, kept_axis: int) -> FloatArray:
    """A C-contiguous copy of the 3-d ``values`` (periods first, paths in the other axis than ``kept_axis``) with
    its periods and paths axes swapped: ``np.ascontiguousarray(np.swapaxes(values, *others))``, the same numbers.

    The models draw period by period and hand out (paths, periods, ...) arrays. Numpy's one strided copy of a
    whole 120 x 256 block reads across all 120 periods' rows for every path; copied :data:`TRANSPOSE_TILE` periods
    at a time (for each index of ``kept_axis``: 2-d slices, whose inner loops are long), the tile's rows stay in
    cache: measured 0.12 against 0.41 µs a path on the floor's blocks of 256 paths x 120 periods x 1 normal, and
    0.33 against 0.67 with 2 normals."""
    import numpy as np

    periods_axis, paths_axis = (a for a in range(3) if a != kept_axis)
    shape = list(values.shape)
    shape[periods_axis], shape[paths_axis] = shape[paths_axis], shape[periods_axis]
    out = np.empty(shape, dtype=values.dtype)
    for j in range(values.shape[kept_axis]):
        at = (slice(None),) * kept_axis + (j,)
        source, dest = values[at], out[at]  # (periods, paths) and (paths, periods)
        for lo in range(0, source.shape[0], TRANSPOSE_TILE):
            dest[:, lo : lo + TRANSPOSE_TILE] = source[lo : lo + TRANSPOSE_TILE].T
    return out
