"""Deterministic price decks: linear between points, flat before the first and after the last."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["deck_prices"]


def deck_prices(*, deck: Sequence[tuple[float, float]], decimal_years: NDArray[np.float64]) -> NDArray[np.float64]:
    """Price of ``deck`` (points ``(decimal year, price)``) at each of ``decimal_years``.

    Linear interpolation between points, flat outside them (``numpy.interp``). The engine reads a deck at each
    period's midpoint, so a point ``[2027, 70]`` is the price on 1 January 2027 and a flat deck is a flat price.
    """
    xs = np.array([p[0] for p in deck], dtype=np.float64)
    ys = np.array([p[1] for p in deck], dtype=np.float64)
    return np.interp(decimal_years, xs, ys)
