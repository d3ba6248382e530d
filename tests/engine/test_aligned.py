"""``naef.engine.aligned``: scratch arrays on a cache-line boundary, of the size and type asked for, apart from
each other — called from compiled code, as the kernel calls it, with the allocator's state moved between calls."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from naef.engine.aligned import CACHE_LINE_BYTES, empty_aligned


@njit(cache=False)
def _allocate(size: int, shift: int, dtype: type) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two aligned arrays with an ordinary allocation of ``shift`` items between them (which moves where the next
    one lands), the second reshaped as the kernel does; both filled, so an overlap would show."""
    a = empty_aligned(size, dtype)
    pad = np.empty(shift, dtype)
    b = empty_aligned(4 * size, dtype).reshape((4, size))
    a[:] = 1
    b[:] = 2
    return a, b, pad


@pytest.mark.parametrize("dtype", [np.float64, np.int16])
def test_aligned_whatever_the_allocator_does(dtype: type) -> None:
    for size in (0, 1, 3, 7, 64, 120, 7_680):
        for shift in range(0, 12):
            a, b, _ = _allocate(size, shift, dtype)
            for x, shape in ((a, (size,)), (b, (4, size))):
                assert x.shape == shape
                assert x.dtype == np.dtype(dtype)
                assert x.flags.c_contiguous
                assert x.flags.writeable
                if size:
                    assert x.ctypes.data % CACHE_LINE_BYTES == 0
            assert (a == 1).all()
            assert (b == 2).all()


def test_the_lanes_scratch_is_aligned() -> None:
    """The lanes' state, the tranches' state, their accumulators and the per-path metric rows start on a line,
    and each row of 64 lanes is whole cache lines (the kernel's own rows are allocated the same way, inside it)."""
    from naef.engine.metric_lanes import lane_metric_rows
    from naef.engine.waterfall_lanes import LANES, lane_scratch

    pads: list[np.ndarray] = []  # ordinary allocations in between, so the arrays land at varied places
    scratch: list[np.ndarray] = []
    for n_tranches in (1, 4, 7):
        for shift in range(6):
            pads.append(np.empty(shift * 3 + 1))
            scratch.extend((*lane_scratch(n_tranches), lane_metric_rows(n_tranches)))
    for x in scratch:
        assert x.ctypes.data % CACHE_LINE_BYTES == 0
        assert x.dtype == np.float64
        assert x.size % LANES == 0
    assert LANES * 8 % CACHE_LINE_BYTES == 0
