"""Credit facts computed by hand: a bullet left partly unpaid at its legal final (default flagged there, loss = PV
of the shortfall, arrears at default interest, recoveries after it reported apart), a level annuity paid on
schedule (the annuity from numpy-financial, no loss, no default), and an oil field below its cash cost shut in
while a gas field pays. Both engines (compiled kernel and pure-Python
oracle) give the same figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import numpy_financial as npf
import pytest

from naef.engine.credit import metric_arrays, waterfall_metrics
from naef.engine.metrics import T_AFTER_LF, T_DEFAULT, T_DEFAULT_AT, T_LOSS, T_UNPAID_LF, T_WAL
from naef.engine.montecarlo import deterministic_setup_inputs, monte_carlo_collections, prepare
from naef.engine.montecarlo_reference import collections_reference
from naef.engine.reference import run_waterfall_reference
from naef.engine.schedules import build_schedule
from naef.engine.simulate import deterministic_inputs, grid_of, operations
from naef.engine.timegrid import make_grid
from naef.engine.waterfall import WaterfallResult, WaterfallSpec, cash_identity_residual, run_waterfall
from naef.scenario.models import Scenario

ENGINES: dict[str, Callable[..., WaterfallResult]] = {"kernel": run_waterfall, "oracle": run_waterfall_reference}
N = 5  # annual periods 2030..2034


def _spec(*, amortization: str, maturity: int, legal_final: int, coupon: float, margin: float) -> WaterfallSpec:
    sch = build_schedule(name="A", seniority=1, size_usd=100.0, coupon_rate=coupon, amortization=amortization,
                         issue_period=0, maturity_periods=maturity, grace_periods=0, n_periods=N,
                         periods_per_year=1)
    zeros = np.zeros(N)
    proceeds = zeros.copy()
    proceeds[0] = 100.0
    return WaterfallSpec(
        periods_per_year=1, tranches=(sch,), classes=((0,),), proceeds_usd=proceeds, issuance_costs_usd=zeros,
        initial_dsra_usd=zeros, cia_funding_usd=zeros, construction_release_period=0, cia_release_period=-1,
        trustee_fee_usd=zeros, dsra_target_usd=zeros, scheduled_ds_usd=sch.debt_service_from_collections_usd,
        cash_trap_dscr=0.0, lookback_periods=1, lockup_until_period=0, default_grace_periods=1,
        legal_final_periods=(legal_final,), default_interest_margin=margin,
    )


def _run(engine: str, spec: WaterfallSpec, collections: list[float]) -> tuple[WaterfallResult, np.ndarray]:
    coll = np.array([collections], dtype=np.float64)
    capex = np.zeros((1, N))
    capex[0, 0] = 100.0  # the proceeds are spent on the fields in the first period
    wf = ENGINES[engine](spec, collections_usd=coll, capex_usd=capex, pledged_exports_usd=np.zeros((1, N)))
    grid = make_grid(start=dt.date(2030, 1, 1), years=N, periods_per_year=1)
    mt, _ = waterfall_metrics(spec, metric_arrays(grid=grid, spec=spec, discount_rate=0.1), wf)
    assert np.abs(cash_identity_residual(wf)).max() < 1e-9
    return wf, mt[0, 0]


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_bullet_partly_unpaid_at_its_legal_final(engine: str) -> None:
    """100 at 10 %, bullet due at the end of year 2 (period 1), legal final at the end of year 3 (period 2),
    default margin 2 %. Collections 10, 60, 30, 100, 0.

    * year 1: interest 10 paid.
    * year 2: interest 10 then principal 50 of 100 paid; 50 overdue.
    * year 3: default interest on the overdue 50 at the margin, 1.00; interest due 50 × 10 % + 1 = 6 paid,
      principal 24 of 50; 26 still owed at the legal final: the tranche defaults in year 3, and an event of
      default is declared (acceleration).
    * year 4: default interest 26 × 2 % = 0.52; interest 26 × 10 % + 0.52 = 3.12 and principal 26 paid after
      the legal final (29.12 recovered after it, not netted).
    Loss = 1 − (10 v + 60 v² + 30 v³) / 100 with v = 1/1.1 = (26 v³ − 1.00 v³) / 100: the unpaid 26 at the legal
    final less the default interest received by then, in present value at the coupon.
    """
    spec = _spec(amortization="bullet", maturity=2, legal_final=2, coupon=0.10, margin=0.02)
    wf, m = _run(engine, spec, [10.0, 60.0, 30.0, 100.0, 0.0])
    ip = wf.tranche["interest_paid_usd"][0, 0]
    pp = wf.tranche["principal_paid_usd"][0, 0]
    np.testing.assert_allclose(ip, [10.0, 10.0, 6.0, 3.12, 0.0], atol=1e-12)
    np.testing.assert_allclose(pp, [0.0, 50.0, 24.0, 26.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(wf.tranche["principal_shortfall_usd"][0, 0], [0.0, 50.0, 26.0, 0.0, 0.0], atol=1e-12)
    # the event of default marks the periods in default: declared at the legal final, until repaid, not after
    np.testing.assert_array_equal(wf.path["event_of_default"][0], [0.0, 0.0, 1.0, 1.0, 0.0])
    v = 1.0 / 1.1
    assert m[T_DEFAULT] == 1.0
    assert m[T_DEFAULT_AT] == 2
    assert m[T_LOSS] == pytest.approx(1.0 - (10 * v + 60 * v**2 + 30 * v**3) / 100.0, rel=1e-12)
    assert m[T_LOSS] == pytest.approx((26.0 - 1.0) * v**3 / 100.0, rel=1e-12)
    assert m[T_UNPAID_LF] == pytest.approx(26.0, rel=1e-12)
    assert m[T_AFTER_LF] == pytest.approx(29.12, rel=1e-12)
    # WAL: 50 at 2 years, 24 at 3, and the 26 unpaid at the legal final counted at 3
    assert m[T_WAL] == pytest.approx((2 * 50 + 3 * 24 + 3 * 26) / 100.0, rel=1e-12)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_interest_arrears_compound_at_coupon_plus_margin(engine: str) -> None:
    """100 at 10 %, bullet at the end of year 2, legal final year 4, margin 2 %; collections 10, 4, 0, 200.

    * year 2: interest 10 due, 4 paid: arrears 6; principal 100 overdue.
    * year 3: arrears 6 × (1 + 12 %) + 100 × 2 % = 8.72, plus the coupon 10 on the 100 outstanding, nothing paid:
      arrears 18.72 at the end of year 3, two periods of unpaid interest (> 1 of grace): an event of default, and
      the tranche defaults then, before its legal final.
    * year 4 (accelerated): arrears 18.72 × 1.12 + 100 × 2 % = 22.9664, plus the coupon 10: 32.9664 of
      interest, then 100 of principal, all paid by the legal final: nothing unpaid then.
    """
    spec = _spec(amortization="bullet", maturity=2, legal_final=3, coupon=0.10, margin=0.02)
    wf, m = _run(engine, spec, [10.0, 4.0, 0.0, 200.0, 0.0])
    np.testing.assert_allclose(wf.tranche["interest_shortfall_usd"][0, 0], [0.0, 6.0, 18.72, 0.0, 0.0],
                               atol=1e-12)
    np.testing.assert_allclose(wf.tranche["interest_paid_usd"][0, 0], [10.0, 4.0, 0.0, 32.9664, 0.0], atol=1e-12)
    np.testing.assert_array_equal(wf.path["event_of_default"][0], [0.0, 0.0, 1.0, 1.0, 0.0])
    assert m[T_DEFAULT] == 1.0
    assert m[T_DEFAULT_AT] == 2
    assert m[T_UNPAID_LF] == 0.0
    assert m[T_AFTER_LF] == 0.0
    # paid in full by the legal final with default interest, so no loss in present value at the coupon
    v = 1.0 / 1.1
    assert 10 * v + 4 * v**2 + 132.9664 * v**4 > 100.0
    assert m[T_LOSS] == 0.0


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_level_annuity_paid_on_schedule_is_unchanged(engine: str) -> None:
    """A level annuity of 100 at 7 % over 4 years paid in full on time: each payment is numpy-financial's
    ``pmt``, no arrears, no default interest, no loss, no default, no event of default; WAL from the schedule."""
    spec = _spec(amortization="level", maturity=4, legal_final=3, coupon=0.07, margin=0.02)
    wf, m = _run(engine, spec, [40.0, 40.0, 40.0, 40.0, 40.0])
    pmt = -float(npf.pmt(0.07, 4, 100.0))
    paid = wf.tranche["interest_paid_usd"][0, 0] + wf.tranche["principal_paid_usd"][0, 0]
    np.testing.assert_allclose(paid[:4], pmt, rtol=1e-12)
    assert paid[4] == 0.0
    principal = -np.array([npf.ppmt(0.07, k, 4, 100.0) for k in range(1, 5)])
    np.testing.assert_allclose(wf.tranche["principal_paid_usd"][0, 0, :4], principal, rtol=1e-12)
    assert not wf.path["event_of_default"].any()
    assert m[T_DEFAULT] == 0.0
    assert m[T_LOSS] == 0.0
    assert m[T_UNPAID_LF] == 0.0
    assert m[T_WAL] == pytest.approx(float(np.dot(np.arange(1, 5), principal) / 100.0), rel=1e-12)


def _two_fields(*, oil_shut_in: bool) -> Scenario:
    return Scenario.model_validate({
        "scenario": {"name": "two fields", "start": dt.date(2030, 1, 1), "years": 3, "periods_per_year": 1},
        "price": {"deck": [[2029.0, 20.0]]},
        "gas_price": {"deck": [[2029.0, 4.0]], "heat_content_mmbtu_per_mcf": 1.0},
        "fiscal": {"regime": "custom", "rate_on_value": 0.3, "gas_rate_on_value": 0.1},
        "fields": [
            {"name": "Oil", "product": "oil", "capex_usd": [0.0], "first_production_year": 2030,
             "initial_rate_bpd": 1000.0, "reserves_mmbbl": 1000.0, "opex_usd_per_bbl": 30.0,
             "decline": {"model": "exponential", "di": 0.0}, "shut_in": oil_shut_in},
            {"name": "Gas", "product": "gas", "capex_usd": [0.0], "first_production_year": 2030,
             "initial_rate_mmcfd": 10.0, "reserves_bcf": 1000.0, "opex_usd_per_mcf": 0.5,
             "decline": {"model": "exponential", "di": 0.0}},
        ],
        "tranches": [{"name": "A", "size_usd": 1e6, "coupon_rate": 0.05, "amortization": "bullet",
                      "issue_year": 2030, "maturity_years": 3}],
    })


@pytest.mark.parametrize("oil_shut_in", [True, False])
def test_an_oil_field_below_cash_cost_is_shut_in_while_the_gas_field_pays(oil_shut_in: bool) -> None:
    """Oil at 20 USD/bbl with a 30 % duty nets 14 USD/bbl against an opex of 30: below its cash cost. Shut in,
    it produces nothing; left on, it loses 16 USD/bbl, which stays with PEMEX. Either way the collections are
    the gas field's alone: 10,000 Mcf/d × 365 days × (4.0 × 0.9 − 0.5) = USD 11.315 m a year (2030; 366 days in
    2032), never reduced by the oil field's loss."""
    sc = _two_fields(oil_shut_in=oil_shut_in)
    grid = grid_of(sc)
    ops = operations(sc, grid, deterministic_inputs(sc, grid))
    days = grid.days
    gas_net = 10_000.0 * days * (4.0 * 0.9 - 0.5)
    np.testing.assert_allclose(ops.collections_usd[0], gas_net, rtol=1e-12)
    oil_bbl = 1000.0 * days
    if oil_shut_in:
        np.testing.assert_array_equal(ops.oil_bbl[0], 0.0)
        np.testing.assert_array_equal(ops.pemex_operating_deficit_usd[0], 0.0)
    else:
        np.testing.assert_allclose(ops.oil_bbl[0], oil_bbl, rtol=1e-12)
        np.testing.assert_allclose(ops.pemex_operating_deficit_usd[0], oil_bbl * 16.0, rtol=1e-12)
    # the compiled collections and the plain-Python oracle say the same
    setup = prepare(sc)
    inputs = deterministic_setup_inputs(setup, ops.realised_oil_usd_per_bbl.copy())
    np.testing.assert_allclose(monte_carlo_collections(setup, inputs).collections_usd[0], gas_net, rtol=1e-12)
    np.testing.assert_allclose(collections_reference(setup, inputs)[0][0], gas_net, rtol=1e-12)
