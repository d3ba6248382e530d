"""The MDF's budget at a confidence level, from the Monte Carlo paths of its inflows.

With C_i(y) = the cumulative inflows of path i by the end of year y, the funds available by year y with
probability c are the (1 - c) quantile of C(y) over paths:

    F_c(y) = quantile_{1-c}( C(y) ),      budget_y = F_c(y) - F_c(y - 1)     (F_c(y_0 - 1) = 0)

Unspent money is carried forward, so the selection constrains cumulative spending by F_c(y). Because every path's
C is non-decreasing in y, so is each quantile, and the yearly amounts are never negative. The confidence holds
year by year (each F_c(y) is met with probability c), not jointly for all years at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from naef.errors import NaefError

__all__ = ["BudgetError", "budget_at_confidence", "parse_budget"]

Array = NDArray[np.float64]


class BudgetError(NaefError):
    """A bad budget (confidence, amounts, years)."""


def budget_at_confidence(years: Sequence[int], inflows_usd: Array, *, confidence: float) -> tuple[list[int], Array]:
    """(years, yearly budget US$) at ``confidence`` from inflows (paths, years)."""
    if not (math.isfinite(confidence) and 0.0 < confidence < 1.0):
        raise BudgetError(f"--confidence: must be strictly between 0 and 1 (got {confidence})")
    a = np.asarray(inflows_usd, dtype=float)
    if a.ndim != 2 or a.shape[1] != len(years) or a.shape[0] < 1:
        raise BudgetError(f"inflows: expected an array (paths, {len(years)} years), got shape {a.shape}")
    cum = np.cumsum(a, axis=1)
    q = np.quantile(cum, 1.0 - confidence, axis=0, method="linear")
    q = np.maximum.accumulate(np.maximum(q, 0.0))
    return [int(y) for y in years], np.diff(q, prepend=0.0)


def parse_budget(text: str) -> tuple[list[int], Array]:
    """``--budget-usd-by-year Y:AMOUNT,...`` as consecutive years and amounts (missing years in between are 0).
    Amounts may use ``_`` separators or exponents (``2030:1.5e9``)."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise BudgetError("--budget-usd-by-year: give at least one YEAR:AMOUNT")
    amounts: dict[int, float] = {}
    for item in items:
        year_text, sep, amount_text = item.partition(":")
        if not sep:
            raise BudgetError(f"--budget-usd-by-year: {item!r} is not YEAR:AMOUNT")
        try:
            year = int(year_text.strip())
        except ValueError:
            raise BudgetError(f"--budget-usd-by-year: {year_text.strip()!r} is not a year") from None
        if not 1900 <= year <= 2200:
            raise BudgetError(f"--budget-usd-by-year: year {year} is out of range (1900-2200)")
        try:
            amount = float(amount_text.strip().replace("_", ""))
        except ValueError:
            raise BudgetError(f"--budget-usd-by-year: {amount_text.strip()!r} (year {year}) is not an amount") from None
        if not math.isfinite(amount) or amount < 0:
            raise BudgetError(f"--budget-usd-by-year: the amount for {year} must be a finite number >= 0 "
                              f"(got {amount_text.strip()!r})")
        if year in amounts:
            raise BudgetError(f"--budget-usd-by-year: year {year} given twice")
        amounts[year] = amount
    years = list(range(min(amounts), max(amounts) + 1))
    return years, np.array([amounts.get(y, 0.0) for y in years])
