"""Tranche schedules (naef.engine.schedules.build_schedule) against QuantLib's bonds.

For each naef schedule we build the bond QuantLib would build for the same security and compare every period's
interest and principal cash flow:

* ``level``    — ``ql.AmortizingFixedRateBond`` with notionals from ``ql.sinkingNotionals`` (a mortgage-style
  constant instalment), preceded by ``g`` constant notionals for the grace (interest-only) periods;
* ``straight`` — ``ql.AmortizingFixedRateBond`` with notionals falling by ``size / m`` after the grace periods;
* ``bullet``   — ``ql.FixedRateBond``.

Conventions: payment dates on the first day of each period (NullCalendar, Unadjusted), 30/360 Bond Basis so that
every period accrues exactly ``1 / periods_per_year`` of a year, as naef's schedules assume; quarterly, annual
and monthly frequencies. Cash-flow tolerance: 1e-9 relative to the tranche size (≈ 1e-6 USD on a USD 1 bn
tranche); differences observed are at rounding level.

Bond value: QuantLib's clean price of its bond at a flat yield (``ql.BondFunctions.cleanPrice``, Compounded at the
coupon frequency, settlement on the issue date) equals a plain discounting of naef's scheduled cash flows at
``(1 + y / f)^-k``; at yield = coupon both are par (100).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import QuantLib as ql
from hypothesis import given, settings
from hypothesis import strategies as st

from naef.engine.schedules import TrancheSchedule, build_schedule
from naef.engine.timegrid import make_grid

FREQ = {1: ql.Annual, 4: ql.Quarterly, 12: ql.Monthly}
DC = ql.Thirty360(ql.Thirty360.BondBasis)
START = dt.date(2027, 1, 1)
REL = 1e-9


def _qd(day: dt.date) -> ql.Date:
    return ql.Date(day.day, day.month, day.year)


def naef_schedule(
    *, amortization: str, size: float, coupon: float, ppy: int, years: int, grace_years: int, issue_period: int,
    horizon_years: int = 40,
) -> TrancheSchedule:
    return build_schedule(
        name="T", seniority=1, size_usd=size, coupon_rate=coupon, amortization=amortization,
        issue_period=issue_period, maturity_periods=years * ppy, grace_periods=grace_years * ppy,
        n_periods=horizon_years * ppy, periods_per_year=ppy,
    )


def quantlib_bond(
    *, amortization: str, size: float, coupon: float, ppy: int, years: int, grace_years: int, issue: dt.date
) -> ql.Bond:
    """The bond QuantLib builds for the same security (issued on ``issue``)."""
    ql.Settings.instance().evaluationDate = _qd(issue)
    freq = FREQ[ppy]
    issue_d = _qd(issue)
    maturity = issue_d + ql.Period(years, ql.Years)
    schedule = ql.Schedule(issue_d, maturity, ql.Period(freq), ql.NullCalendar(), ql.Unadjusted, ql.Unadjusted,
                           ql.DateGeneration.Forward, False)
    n, g = years * ppy, grace_years * ppy
    m = n - g
    if amortization == "bullet":
        return ql.FixedRateBond(0, size, schedule, [coupon], DC, ql.Unadjusted, 100.0, issue_d)
    if amortization == "level":
        sinking = list(ql.sinkingNotionals(ql.Period(m * 12 // ppy, ql.Months), freq, coupon, size))
    elif amortization == "straight":
        sinking = [size * (1.0 - i / m) for i in range(m + 1)]
    else:  # pragma: no cover - test misuse
        raise AssertionError(amortization)
    notionals = [size] * g + sinking
    assert len(notionals) == n + 1
    return ql.AmortizingFixedRateBond(0, notionals, schedule, [coupon], DC, ql.Unadjusted, issue_d)


def quantlib_flows(bond: ql.Bond) -> tuple[list[ql.Date], np.ndarray, np.ndarray, np.ndarray]:
    """Payment dates, interest, principal and the coupon notional of each period of a QuantLib bond."""
    dates: list[ql.Date] = []
    interest: dict[ql.Date, float] = {}
    principal: dict[ql.Date, float] = {}
    notional: dict[ql.Date, float] = {}
    for cf in bond.cashflows():
        d = cf.date()
        if d not in dates:
            dates.append(d)
        coupon = ql.as_coupon(cf)
        if coupon is not None:
            interest[d] = interest.get(d, 0.0) + cf.amount()
            notional[d] = coupon.nominal()
        else:
            principal[d] = principal.get(d, 0.0) + cf.amount()
    dates.sort()
    return (
        dates,
        np.array([interest.get(d, 0.0) for d in dates]),
        np.array([principal.get(d, 0.0) for d in dates]),
        np.array([notional.get(d, 0.0) for d in dates]),
    )


CASES = [
    # (amortization, ppy, years, grace_years, coupon)
    ("level", 4, 15, 0, 0.0625),
    ("level", 4, 15, 3, 0.0625),
    ("level", 1, 10, 0, 0.08),
    ("level", 1, 12, 2, 0.045),
    ("level", 12, 7, 1, 0.07),
    ("straight", 4, 16, 4, 0.09),
    ("straight", 4, 10, 0, 0.05),
    ("straight", 1, 8, 0, 0.11),
    ("straight", 1, 9, 3, 0.03),
    ("straight", 12, 5, 2, 0.065),
    ("bullet", 4, 10, 0, 0.055),
    ("bullet", 4, 10, 2, 0.055),
    ("bullet", 1, 7, 0, 0.12),
    ("bullet", 12, 3, 1, 0.04),
]
IDS = [f"{a}-{p}ppy-{y}y-grace{g}-{c}" for a, p, y, g, c in CASES]


@pytest.mark.parametrize(("amortization", "ppy", "years", "grace", "coupon"), CASES, ids=IDS)
def test_cash_flows_match_quantlib(amortization: str, ppy: int, years: int, grace: int, coupon: float) -> None:
    size = 1.0e9
    k0 = 3 if ppy > 1 else 2
    grid = make_grid(start=START, years=40, periods_per_year=ppy)
    sch = naef_schedule(amortization=amortization, size=size, coupon=coupon, ppy=ppy, years=years,
                        grace_years=grace, issue_period=k0)
    bond = quantlib_bond(amortization=amortization, size=size, coupon=coupon, ppy=ppy, years=years,
                         grace_years=grace, issue=grid.starts[k0])
    dates, q_int, q_pr, q_notional = quantlib_flows(bond)
    n = years * ppy
    assert len(dates) == n
    # QuantLib pays period k at the start of naef's period k0 + k + 1
    for k, d in enumerate(dates[:-1]):
        assert d == _qd(grid.starts[k0 + k + 1])
    window = slice(k0, k0 + n)
    tol = REL * size
    np.testing.assert_allclose(sch.interest_usd[window], q_int, rtol=0, atol=tol)
    np.testing.assert_allclose(sch.principal_usd[window], q_pr, rtol=0, atol=tol)
    np.testing.assert_allclose(sch.balance_usd[window], q_notional, rtol=0, atol=tol)
    # nothing outside the tranche's life, all principal repaid, grace periods are interest only
    for arr in (sch.interest_usd, sch.principal_usd, sch.balance_usd):
        assert np.all(arr[:k0] == 0.0)
        assert np.all(arr[k0 + n:] == 0.0)
    assert sch.principal_usd.sum() == pytest.approx(size, rel=1e-12)
    g = grace * ppy
    assert np.all(sch.principal_usd[k0:k0 + g] == 0.0)
    assert sch.grace[k0:k0 + g].all()
    assert not sch.grace[k0 + g:].any()
    assert sch.capitalised_interest_usd == pytest.approx(q_int[:g].sum(), rel=1e-12, abs=tol)
    if amortization == "level":
        # the instalment (interest + principal) is constant after the grace periods
        inst = (q_int + q_pr)[g:]
        np.testing.assert_allclose((sch.interest_usd + sch.principal_usd)[k0 + g:k0 + n], inst, rtol=0, atol=tol)
        assert np.ptp(inst) < tol


def _plain_price(sch: TrancheSchedule, *, yield_rate: float, ppy: int) -> float:
    """Price per 100 of naef's scheduled flows at a flat yield compounded ppy times a year, at issue."""
    n = int(sch.active.sum())
    flows = (sch.interest_usd + sch.principal_usd)[sch.issue_period:sch.issue_period + n]
    k = np.arange(1, n + 1, dtype=np.float64)
    return float((flows / (1.0 + yield_rate / ppy) ** k).sum() / sch.size_usd * 100.0)


@pytest.mark.parametrize(("amortization", "ppy", "years", "grace", "coupon"), CASES, ids=IDS)
@pytest.mark.parametrize("spread", [0.0, -0.02, 0.015, 0.04])
def test_bond_value_matches_quantlib(
    amortization: str, ppy: int, years: int, grace: int, coupon: float, spread: float
) -> None:
    size = 2.5e10
    grid = make_grid(start=START, years=40, periods_per_year=ppy)
    sch = naef_schedule(amortization=amortization, size=size, coupon=coupon, ppy=ppy, years=years,
                        grace_years=grace, issue_period=4)
    issue = grid.starts[4]
    bond = quantlib_bond(amortization=amortization, size=size, coupon=coupon, ppy=ppy, years=years,
                         grace_years=grace, issue=issue)
    y = max(coupon + spread, 0.001)
    ql_price = ql.BondFunctions.cleanPrice(bond, y, DC, ql.Compounded, FREQ[ppy], _qd(issue))
    naef_price = _plain_price(sch, yield_rate=y, ppy=ppy)
    assert naef_price == pytest.approx(ql_price, rel=1e-10)
    if spread == 0.0:
        assert naef_price == pytest.approx(100.0, rel=1e-11)
        assert ql_price == pytest.approx(100.0, rel=1e-11)
    elif y > coupon:
        assert naef_price < 100.0
    else:
        assert naef_price > 100.0


@settings(max_examples=60, deadline=None)
@given(
    amortization=st.sampled_from(["level", "straight", "bullet"]),
    ppy=st.sampled_from([1, 4, 12]),
    years=st.integers(1, 25),
    grace_frac=st.floats(0.0, 0.99),
    coupon=st.floats(0.005, 0.2),
    size=st.floats(1e6, 5e10),
)
def test_random_schedules_match_quantlib(
    amortization: str, ppy: int, years: int, grace_frac: float, coupon: float, size: float
) -> None:
    grace = int(grace_frac * years) if amortization != "bullet" else int(grace_frac * (years - 1))
    grid = make_grid(start=START, years=40, periods_per_year=ppy)
    sch = naef_schedule(amortization=amortization, size=size, coupon=coupon, ppy=ppy, years=years,
                        grace_years=grace, issue_period=1)
    bond = quantlib_bond(amortization=amortization, size=size, coupon=coupon, ppy=ppy, years=years,
                         grace_years=grace, issue=grid.starts[1])
    _, q_int, q_pr, _ = quantlib_flows(bond)
    n = years * ppy
    np.testing.assert_allclose(sch.interest_usd[1:1 + n], q_int, rtol=0, atol=REL * size)
    np.testing.assert_allclose(sch.principal_usd[1:1 + n], q_pr, rtol=0, atol=REL * size)


def test_zero_coupon_level_is_straight_line() -> None:
    """At a zero coupon the annuity degenerates to equal principal (QuantLib's straight-line bond)."""
    grid = make_grid(start=START, years=40, periods_per_year=4)
    sch = naef_schedule(amortization="level", size=1e9, coupon=0.0, ppy=4, years=5, grace_years=1, issue_period=0)
    bond = quantlib_bond(amortization="straight", size=1e9, coupon=0.0, ppy=4, years=5, grace_years=1,
                         issue=grid.starts[0])
    _, q_int, q_pr, _ = quantlib_flows(bond)
    np.testing.assert_allclose(sch.principal_usd[:20], q_pr, rtol=0, atol=1e-6)
    assert np.all(q_int == 0.0)
    assert np.all(sch.interest_usd == 0.0)


@pytest.mark.parametrize("amortization", ["bullet", "level", "straight"])
def test_grace_covering_the_whole_life_is_refused(amortization: str) -> None:
    """With grace = maturity no period is left to repay principal in: refused with a ValueError (the scenario
    model refuses it too, see tests/test_cli_run.py), never a ZeroDivisionError from the annuity formula."""
    with pytest.raises(ValueError, match="grace"):
        naef_schedule(amortization=amortization, size=1e9, coupon=0.05, ppy=4, years=4, grace_years=4,
                      issue_period=2)
