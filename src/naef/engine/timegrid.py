"""The time grid: periods of 1, 3 or 12 months from the scenario's start, with their calendar days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

__all__ = ["TimeGrid", "make_grid"]


@dataclass(frozen=True)
class TimeGrid:
    """Period boundaries of a scenario.

    ``starts[i]`` is the first day of period ``i``; ``days[i]`` its calendar days; ``t_start_years[i]`` and
    ``t_end_years[i]`` are the period's bounds in years since the scenario start (``i / periods_per_year``);
    ``mid_decimal_year[i]`` is the period's midpoint as a decimal calendar year (2027.125 for 2027-Q1), used to
    read decks.
    """

    start: dt.date
    periods_per_year: int
    starts: tuple[dt.date, ...]
    days: NDArray[np.float64]
    t_start_years: NDArray[np.float64]
    t_end_years: NDArray[np.float64]
    mid_decimal_year: NDArray[np.float64]
    year_index: NDArray[np.int64]

    @property
    def n(self) -> int:
        """Number of periods."""
        return len(self.starts)

    def period_of(self, day: dt.date) -> int:
        """Index of the first period starting on or after ``day`` (``n`` if none)."""
        for i, s in enumerate(self.starts):
            if s >= day:
                return i
        return self.n


def _add_months(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + (day.month - 1) + months
    return dt.date(total // 12, total % 12 + 1, 1)


def _decimal_year(day: dt.date) -> float:
    first = dt.date(day.year, 1, 1)
    length = (dt.date(day.year + 1, 1, 1) - first).days
    return day.year + (day - first).days / length


def make_grid(*, start: dt.date, years: int, periods_per_year: int) -> TimeGrid:
    """Build the grid of ``years * periods_per_year`` periods starting on ``start``."""
    step = 12 // periods_per_year
    n = years * periods_per_year
    bounds = [_add_months(start, step * i) for i in range(n + 1)]
    days = np.array([(b - a).days for a, b in pairwise(bounds)], dtype=np.float64)
    idx = np.arange(n, dtype=np.float64)
    mid = np.array(
        [(_decimal_year(a) + _decimal_year(b)) / 2 for a, b in pairwise(bounds)],
        dtype=np.float64,
    )
    return TimeGrid(
        start=start,
        periods_per_year=periods_per_year,
        starts=tuple(bounds[:-1]),
        days=days,
        t_start_years=idx / periods_per_year,
        t_end_years=(idx + 1) / periods_per_year,
        mid_decimal_year=mid,
        year_index=(np.arange(n) // periods_per_year).astype(np.int64),
    )
