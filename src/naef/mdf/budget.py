"""The MDF's budget at a confidence level, from the Monte Carlo paths of its inflows.

With C_i(y) = the cumulative inflows of path i by the end of year y, the funds available by year y with
probability c are the (1 - c) quantile of C(y) over paths:

    F_c(y) = quantile_{1-c}( C(y) ),      budget_y = F_c(y) - F_c(y - 1)     (F_c(y_0 - 1) = 0)

Unspent money is carried forward, so the selection constrains cumulative spending by F_c(y). Because every path's
C is non-decreasing in y, so is each quantile, and the yearly amounts are never negative.

**Two meanings of "with probability c".** On the ``year`` basis each F_c(y) is met with probability c, year by
year; the probability that *every* year's F_c(y) is met on the same path — the whole schedule funded — is lower:

    joint_probability = (1/n) · #{paths i : C_i(y) >= F(y) for every year y}

On the ``schedule`` basis the per-year level c' >= c is raised (bisection on the empirical quantile level) until
joint_probability >= c, so the whole schedule is funded on at least a share c of the paths.

**Monte Carlo error.** The empirical (1 - c') quantile of n paths has a distribution-free 95 % interval between
the order statistics of ranks n·q ∓ 1.96·sqrt(n·q·(1 - q)) (q = 1 - c'); half its width at the last year is the
budget's Monte Carlo error. Fewer than 20 paths below the quantile, or an error above 5 % of the budget, is
warned about.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from naef.errors import NaefError
from naef.format import usd_bn

__all__ = ["CONFIDENCE_BASES", "Budget", "BudgetError", "budget_at_confidence", "budget_for_schedule",
           "joint_probability", "parse_budget"]

#: ``--confidence-basis``: per budget year, or the whole schedule at once
CONFIDENCE_BASES: tuple[str, ...] = ("year", "schedule")
_MIN_PATHS_BELOW = 20
_MAX_RELATIVE_ERROR = 0.05

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


def joint_probability(inflows_usd: Array, cumulative_usd: Array) -> float:
    """Share of paths whose cumulative inflows reach ``cumulative_usd[y]`` in every year (a relative tolerance of
    1e-9 for rounding)."""
    cum = np.cumsum(np.asarray(inflows_usd, dtype=float), axis=1)
    need = np.asarray(cumulative_usd, dtype=float)[None, :]
    ok = cum >= need - 1e-9 * np.maximum(np.abs(need), 1.0)
    return float(ok.all(axis=1).mean())


@dataclass(frozen=True)
class Budget:
    """The budget by year and what its confidence means (see the module docstring)."""

    years: list[int]
    budget_usd: Array
    confidence: float
    basis: str
    per_year_confidence: float
    joint_probability: float
    mc_error_usd: float
    paths: int
    paths_below: int
    warning: str | None

    def cumulative_usd(self) -> Array:
        """F(y): cumulative budget by year."""
        return np.asarray(np.cumsum(self.budget_usd), dtype=float)


def _mc_error(last: Array, q: float) -> float:
    n = last.size
    srt = np.sort(last)
    half = 1.96 * math.sqrt(n * q * (1.0 - q))
    lo = int(np.clip(math.floor(n * q - half), 0, n - 1))
    hi = int(np.clip(math.ceil(n * q + half), 0, n - 1))
    return float(srt[hi] - srt[lo]) / 2.0


def budget_for_schedule(years: Sequence[int], inflows_usd: Array, *, confidence: float, basis: str = "year"
                        ) -> Budget:
    """The budget at ``confidence`` on the ``basis`` ``year`` or ``schedule``, with its joint probability, its
    Monte Carlo error and a warning when the paths are too few for the percentile."""
    if basis not in CONFIDENCE_BASES:
        raise BudgetError(f"--confidence-basis: {basis!r} is not one of {', '.join(CONFIDENCE_BASES)}")
    yrs, amounts = budget_at_confidence(years, inflows_usd, confidence=confidence)
    a = np.asarray(inflows_usd, dtype=float)
    level = confidence
    if basis == "schedule":
        lo, hi = confidence, 1.0 - 1e-12
        if joint_probability(a, np.cumsum(amounts)) < confidence:
            for _ in range(60):
                mid = (lo + hi) / 2.0
                _, trial = budget_at_confidence(years, a, confidence=mid)
                if joint_probability(a, np.cumsum(trial)) >= confidence:
                    hi = mid
                else:
                    lo = mid
            level = hi
            _, amounts = budget_at_confidence(years, a, confidence=level)
    n = a.shape[0]
    q = 1.0 - level
    last = np.cumsum(a, axis=1)[:, -1]
    err = _mc_error(last, q)
    below = math.floor(n * q + 1e-9)
    total = float(np.sum(amounts))
    warning = None
    if below < _MIN_PATHS_BELOW or (total > 0 and err > _MAX_RELATIVE_ERROR * total):
        warning = (f"only {n:,} paths ({below} below the P{q * 100:.3g} percentile): the budget's Monte Carlo "
                   f"error is about {usd_bn(err)} (95 %) on {usd_bn(total)}; use more --paths")
    return Budget(years=yrs, budget_usd=amounts, confidence=confidence, basis=basis, per_year_confidence=level,
                  joint_probability=joint_probability(a, np.cumsum(amounts)), mc_error_usd=err, paths=n,
                  paths_below=below, warning=warning)


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
