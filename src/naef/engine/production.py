"""Field production: Arps decline curves with a reserves cap, on arrays shaped (paths, periods).

Arps (1945), "Analysis of Decline Curves", Trans. AIME 160: with initial rate ``q_i``, nominal initial decline
``D_i`` and exponent ``b``, the rate and cumulative production at time ``t`` after first production are

* exponential (b = 0): ``q = q_i exp(-D_i t)``,               ``N_p = q_i / D_i (1 - exp(-D_i t))``
* hyperbolic (0<b≠1):  ``q = q_i (1 + b D_i t)^(-1/b)``,
  ``N_p = q_i / ((1 - b) D_i) (1 - (1 + b D_i t)^(1 - 1/b))``
* harmonic (b = 1):    ``q = q_i / (1 + D_i t)``,              ``N_p = q_i / D_i ln(1 + D_i t)``

Time runs in days here (``D_i`` per year / 365.25), so ``N_p`` is in the field's volume unit (bbl or Mcf) when
``q_i`` is per day. Cumulative production stops at the recoverable reserves; the volume of a period is the
difference of capped cumulatives at its ends, and its average rate is that volume over the period's calendar days
(so "barrels in a period = rate × the period's calendar days" holds exactly).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["DAYS_PER_YEAR", "arps_cumulative", "arps_rate", "field_volumes"]

DAYS_PER_YEAR = 365.25
_B_EPS = 1e-9
#: declines below this (per year) are treated as no decline, avoiding 0/0 in the closed forms
_D_EPS = 1e-9


def arps_rate(*, qi: ArrayLike, di_per_year: float, b: float, t_days: ArrayLike) -> NDArray[np.float64]:
    """Arps rate at ``t_days`` after first production (same unit as ``qi``)."""
    q = np.asarray(qi, dtype=np.float64)
    t = np.asarray(t_days, dtype=np.float64)
    d = di_per_year / DAYS_PER_YEAR
    if di_per_year < _D_EPS:
        return np.broadcast_to(q, np.broadcast_shapes(q.shape, t.shape)).astype(np.float64)
    if b < _B_EPS:
        return q * np.exp(-d * t)
    return q * np.power(1.0 + b * d * t, -1.0 / b)


def arps_cumulative(*, qi: ArrayLike, di_per_year: float, b: float, t_days: ArrayLike) -> NDArray[np.float64]:
    """Arps cumulative production from first production to ``t_days`` (``qi`` per day × days)."""
    q = np.asarray(qi, dtype=np.float64)
    t = np.maximum(np.asarray(t_days, dtype=np.float64), 0.0)
    d = di_per_year / DAYS_PER_YEAR
    if di_per_year < _D_EPS:
        return q * t
    if b < _B_EPS:
        return q / d * -np.expm1(-d * t)
    if abs(b - 1.0) < _B_EPS:
        return q / d * np.log1p(d * t)
    # 1 - (1 + b d t)^(1 - 1/b) as -expm1(...) keeps its digits when d t is small
    return q / ((1.0 - b) * d) * -np.expm1((1.0 - 1.0 / b) * np.log1p(b * d * t))


def field_volumes(
    *,
    qi_per_day: float,
    di_per_year: float,
    b: float,
    reserves: float,
    days: NDArray[np.float64],
    first_period: NDArray[np.int64],
    qi_multiplier: NDArray[np.float64],
    reserves_multiplier: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Volume produced in each period, shaped (paths, periods).

    ``days`` holds the calendar days of each period; ``first_period`` (paths,) the index of the first producing
    period on each path; the multipliers (paths,) scale the initial rate and the reserves on each path (1.0 for a
    deterministic run). Production starts at the beginning of ``first_period``.
    """
    cum_end = np.cumsum(days)
    cum_start = cum_end - days
    n = days.shape[0]
    first = np.clip(first_period, 0, n)
    offset = np.where(first < n, np.concatenate([cum_start, [np.inf]])[first], np.inf)
    elapsed = np.maximum(cum_end[None, :] - offset[:, None], 0.0)
    cum = arps_cumulative(qi=qi_per_day * qi_multiplier[:, None], di_per_year=di_per_year, b=b, t_days=elapsed)
    cum = np.minimum(cum, (reserves * reserves_multiplier)[:, None])
    return np.diff(cum, axis=1, prepend=0.0)
