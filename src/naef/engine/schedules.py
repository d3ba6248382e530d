"""Amortization schedules of NAEF tranches on the scenario's time grid.

A tranche issued at the start of period ``k0`` pays interest at the end of each of its ``n = maturity_years ×
periods_per_year`` periods at the periodic rate ``r = coupon_rate / periods_per_year`` (a 30/360-style accrual: every
period is exactly ``1 / periods_per_year`` of a year). During the first ``g = grace_years × periods_per_year``
periods no principal is due and interest is paid from the capitalised-interest account funded by the proceeds.
Principal is then repaid over ``m = n - g`` periods:

* ``bullet``:   the whole size at the last period;
* ``straight``: ``size / m`` each period;
* ``level``:    a constant instalment ``A = size × r / (1 - (1 + r)^-m)`` (``size / m`` if ``r = 0``), of which
  principal is ``A - r × balance`` (the annuity formula; e.g. Brealey, Myers & Allen, *Principles of Corporate
  Finance*, ch. 2);
* ``sculpted``: principal ``= max(CFADS_t / target_dscr - interest_t, 0)`` on the base case's cash flow available
  for this tranche's debt service (after the scheduled debt service of more senior tranches), capped at the balance;
  what is left is due at maturity (Yescombe, *Principles of Project Finance*, 2nd ed., §14.5.3 on sculpting).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["TrancheSchedule", "build_schedule"]


@dataclass(frozen=True)
class TrancheSchedule:
    """One tranche's schedule on the grid (all arrays have one entry per period).

    ``principal_usd`` is the scheduled principal, ``interest_usd`` the interest on the scheduled balance,
    ``balance_usd`` the scheduled balance at the start of each period, ``grace`` marks the periods whose interest
    the capitalised-interest account pays, ``active`` the tranche's payment periods.
    """

    name: str
    seniority: int
    size_usd: float
    rate_per_period: float
    issue_period: int
    last_period: int
    principal_usd: NDArray[np.float64]
    interest_usd: NDArray[np.float64]
    balance_usd: NDArray[np.float64]
    grace: NDArray[np.bool_]
    active: NDArray[np.bool_]

    @property
    def debt_service_from_collections_usd(self) -> NDArray[np.float64]:
        """Scheduled interest and principal payable from collections (grace interest excluded)."""
        return np.where(self.grace, 0.0, self.interest_usd) + self.principal_usd

    @property
    def capitalised_interest_usd(self) -> float:
        """Interest of the grace periods, funded from the proceeds at issuance."""
        return float(self.interest_usd[self.grace].sum())


def build_schedule(
    *,
    name: str,
    seniority: int,
    size_usd: float,
    coupon_rate: float,
    amortization: str,
    issue_period: int,
    maturity_periods: int,
    grace_periods: int,
    n_periods: int,
    periods_per_year: int,
    target_dscr: float | None = None,
    cfads_usd: NDArray[np.float64] | None = None,
) -> TrancheSchedule:
    """Schedule of one tranche; ``cfads_usd`` (per period) is required for ``sculpted``."""
    r = coupon_rate / periods_per_year
    k0, n, g = issue_period, maturity_periods, grace_periods
    last = k0 + n - 1
    if last >= n_periods:
        raise ValueError(f"tranche {name} matures after the horizon")
    m = n - g
    if m <= 0:
        raise ValueError(f"tranche {name}: grace ({g} periods) must be shorter than the maturity ({n} periods)")
    principal = np.zeros(n_periods)
    interest = np.zeros(n_periods)
    balance = np.zeros(n_periods)
    grace = np.zeros(n_periods, dtype=bool)
    active = np.zeros(n_periods, dtype=bool)
    active[k0 : last + 1] = True
    grace[k0 : k0 + g] = True
    # 1 - (1 + r)^-m computed as -expm1(-m log1p(r)) so that tiny rates keep their precision
    annuity = size_usd / m if r < 1e-15 else size_usd * r / -math.expm1(-m * math.log1p(r))
    bal = size_usd
    for t in range(k0, last + 1):
        balance[t] = bal
        interest[t] = bal * r
        if t < k0 + g:
            continue
        if t == last:
            pay = bal
        elif amortization == "bullet":
            pay = 0.0
        elif amortization == "straight":
            pay = size_usd / m
        elif amortization == "level":
            pay = annuity - interest[t]
        elif amortization == "sculpted":
            if cfads_usd is None or target_dscr is None:
                raise ValueError("a sculpted schedule needs cfads_usd and target_dscr")
            pay = max(float(cfads_usd[t]) / target_dscr - interest[t], 0.0)
        else:
            raise ValueError(f"unknown amortization {amortization!r}")
        pay = min(max(pay, 0.0), bal)
        principal[t] = pay
        bal -= pay
    return TrancheSchedule(
        name=name,
        seniority=seniority,
        size_usd=size_usd,
        rate_per_period=r,
        issue_period=k0,
        last_period=last,
        principal_usd=principal,
        interest_usd=interest,
        balance_usd=balance,
        grace=grace,
        active=active,
    )
