"""The whole chain on arrays of paths: production → prices → revenue, costs, duties → collections → waterfall.

``simulate(scenario)`` is the deterministic run (one path: the scenario's decks, no uncertainty). The building
blocks take arrays shaped (paths, periods) so that the Monte Carlo runs the same code on many paths at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from naef.engine.hedge_plan import HedgePlan, build_hedge_plan, no_hedge
from naef.engine.originator import originator_multipliers
from naef.engine.prices import deck_prices
from naef.engine.production import field_volumes
from naef.engine.schedules import TrancheSchedule, build_schedule
from naef.engine.timegrid import TimeGrid, make_grid
from naef.engine.waterfall import WaterfallResult, WaterfallSpec, run_waterfall
from naef.scenario.fiscal import duty_rates
from naef.scenario.models import Scenario

if TYPE_CHECKING:
    from naef.engine.results import DeterministicSummary

__all__ = [
    "Operations",
    "PathInputs",
    "SimulationResult",
    "build_waterfall_spec",
    "deterministic_inputs",
    "field_capex_usd",
    "grid_of",
    "hedge_plan_of",
    "operations",
    "pledged_bbl",
    "simulate",
]

Array = NDArray[np.float64]
EngineName = Literal["vector", "reference"]


@dataclass(frozen=True)
class PathInputs:
    """The inputs that vary by path; arrays (paths, periods), per-field arrays (fields, paths). An input that is the
    same on every path (a fixed differential, the gas deck) may be a read-only broadcast view of one row."""

    benchmark_usd_per_bbl: Array
    differential_usd_per_bbl: Array
    gas_usd_per_mmbtu: Array
    qi_multiplier: Array
    reserves_multiplier: Array
    delay_periods: NDArray[np.int64]
    capex_multiplier: Array
    #: each path's period of the originator's default (the number of periods: none); None: no originator
    #: default drawn (the deterministic run, stress replays) — ``naef.engine.originator``
    originator_default_period: NDArray[np.int64] | None = None

    @property
    def n_paths(self) -> int:
        """Number of paths."""
        return int(self.benchmark_usd_per_bbl.shape[0])


@dataclass(frozen=True)
class Operations:
    """Field operations on every path: volumes, prices, revenue, costs, duties and collections."""

    oil_bbl: Array
    gas_mcf: Array
    oil_bbl_by_field: Array
    gas_mcf_by_field: Array
    realised_oil_usd_per_bbl: Array
    realised_gas_usd_per_mmbtu: Array
    oil_revenue_usd: Array
    gas_revenue_usd: Array
    revenue_usd: Array
    revenue_by_field_usd: Array
    opex_usd: Array
    duties_usd: Array
    pemex_operating_deficit_usd: Array
    pledged_exports_usd: Array
    collections_usd: Array
    capex_usd: Array
    hedge_net_usd: Array


def grid_of(scenario: Scenario) -> TimeGrid:
    """The scenario's time grid."""
    head = scenario.scenario
    return make_grid(start=head.start, years=head.years, periods_per_year=head.periods_per_year)


def deterministic_inputs(scenario: Scenario, grid: TimeGrid) -> PathInputs:
    """One path: the scenario's decks and no field uncertainty."""
    nf = len(scenario.fields)
    bench = deck_prices(deck=scenario.price.deck, decimal_years=grid.mid_decimal_year)[None, :]
    gas = (
        deck_prices(deck=scenario.gas_price.deck, decimal_years=grid.mid_decimal_year)[None, :]
        if scenario.gas_price is not None
        else np.zeros((1, grid.n))
    )
    return PathInputs(
        benchmark_usd_per_bbl=bench,
        differential_usd_per_bbl=np.full((1, grid.n), scenario.price.differential_usd_per_bbl),
        gas_usd_per_mmbtu=gas,
        qi_multiplier=np.ones((nf, 1)),
        reserves_multiplier=np.ones((nf, 1)),
        delay_periods=np.zeros((nf, 1), dtype=np.int64),
        capex_multiplier=np.ones((nf, 1)),
    )


def pledged_bbl(scenario: Scenario, grid: TimeGrid) -> Array:
    """Barrels of pledged export receivables in each period: the pledge of the period's calendar year (bbl/d,
    ``Collateral.pledged_bpd_in_year``) times the period's days."""
    c = scenario.collateral
    bpd = np.array([c.pledged_bpd_in_year(d.year) for d in grid.starts], dtype=np.float64)
    out: Array = bpd * grid.days
    return out


def field_capex_usd(scenario: Scenario, grid: TimeGrid) -> Array:
    """Capex of each field by period (fields, periods): each year's amount spread evenly over its periods."""
    ppy = grid.periods_per_year
    capex = np.zeros((len(scenario.fields), grid.n))
    for i, f in enumerate(scenario.fields):
        for year, amount in enumerate(f.capex_usd):
            capex[i, year * ppy : (year + 1) * ppy] = amount / ppy
    return capex


def operations(scenario: Scenario, grid: TimeGrid, inputs: PathInputs, hedge: HedgePlan | None = None) -> Operations:
    """Volumes, revenue, opex, duties and collections on every path (arrays (paths, periods)).

    A field with ``shut_in`` produces nothing in a period whose unit price less the duty is below its opex per
    unit. Collections are ``max(Σ_f max(revenue_f - opex_f - duties_f, 0) + hedge payoff - premium paid from
    collections, 0)`` plus the pledged export receivables: a field's operating loss is PEMEX's
    (``pemex_operating_deficit_usd``, with any part of the hedge premium collections cannot pay), never netted
    against another field's collections.
    """
    n_paths, n = inputs.n_paths, grid.n
    oil_rate, gas_rate = duty_rates(
        regime=scenario.fiscal.regime,
        rate_on_value=scenario.fiscal.rate_on_value,
        gas_rate_on_value=scenario.fiscal.gas_rate_on_value,
    )
    realised_oil = np.maximum(inputs.benchmark_usd_per_bbl + inputs.differential_usd_per_bbl, 0.0)
    gas_diff = scenario.gas_price.differential_usd_per_mmbtu if scenario.gas_price is not None else 0.0
    heat = scenario.gas_price.heat_content_mmbtu_per_mcf if scenario.gas_price is not None else 1.0
    realised_gas = np.maximum(inputs.gas_usd_per_mmbtu + gas_diff, 0.0)
    nf = len(scenario.fields)
    oil_by_field = np.zeros((nf, n_paths, n))
    gas_by_field = np.zeros((nf, n_paths, n))
    revenue_by_field = np.zeros((nf, n_paths, n))
    opex = np.zeros((n_paths, n))
    duties = np.zeros((n_paths, n))
    base_capex = field_capex_usd(scenario, grid)
    prod_mult, export_mult = originator_multipliers(scenario, inputs.originator_default_period, n_paths, n)
    capex = np.zeros((n_paths, n))
    positive = np.zeros((n_paths, n))
    field_losses = np.zeros((n_paths, n))
    for i, f in enumerate(scenario.fields):
        first = grid.period_of(max(grid.start, _jan1(f.first_production_year))) + inputs.delay_periods[i]
        vol = field_volumes(
            qi_per_day=f.initial_rate_per_day,
            di_per_year=f.decline.di,
            b=f.decline.b_exponent,
            reserves=f.reserves_units,
            days=grid.days,
            first_period=first,
            qi_multiplier=inputs.qi_multiplier[i],
            reserves_multiplier=inputs.reserves_multiplier[i],
        ) * prod_mult  # the originator's operating continuity after its default
        unit_price = realised_oil if f.product == "oil" else heat * realised_gas
        rate = oil_rate if f.product == "oil" else gas_rate
        if f.shut_in:  # below its cash cost the field is shut in for the period (the volume is lost)
            vol = np.where(unit_price - rate * unit_price - f.opex_usd_per_unit < 0.0, 0.0, vol)
        rev = vol * unit_price
        if f.product == "oil":
            oil_by_field[i] = vol
        else:
            gas_by_field[i] = vol
        duties += rate * rev
        revenue_by_field[i] = rev
        opex += vol * f.opex_usd_per_unit
        field_net = rev - rate * rev - vol * f.opex_usd_per_unit
        positive += np.maximum(field_net, 0.0)  # a field's operating loss stays with PEMEX
        field_losses += np.maximum(-field_net, 0.0)
        capex += base_capex[i][None, :] * inputs.capex_multiplier[i][:, None]
    oil = oil_by_field.sum(axis=0)
    gas = gas_by_field.sum(axis=0)
    oil_rev = (oil_by_field * realised_oil[None]).sum(axis=0)
    revenue = revenue_by_field.sum(axis=0)
    net = positive
    hedge_net = np.zeros((n_paths, n))
    if hedge is not None and hedge.active:
        hedge_net = hedge.payoff_usd(inputs.benchmark_usd_per_bbl) - hedge.premium_from_collections_usd[None, :]
    net = net + hedge_net
    pledged = np.zeros((n_paths, n))
    if scenario.collateral.source == "incremental_plus_exports":
        pledged = pledged_bbl(scenario, grid)[None, :] * export_mult * realised_oil
    return Operations(
        oil_bbl=oil,
        gas_mcf=gas,
        oil_bbl_by_field=oil_by_field,
        gas_mcf_by_field=gas_by_field,
        realised_oil_usd_per_bbl=realised_oil,
        realised_gas_usd_per_mmbtu=realised_gas,
        oil_revenue_usd=oil_rev,
        gas_revenue_usd=revenue - oil_rev,
        revenue_usd=revenue,
        revenue_by_field_usd=revenue_by_field,
        opex_usd=opex,
        duties_usd=duties,
        pemex_operating_deficit_usd=field_losses + np.maximum(-net, 0.0),
        pledged_exports_usd=pledged,
        collections_usd=np.maximum(net, 0.0) + pledged,
        capex_usd=capex,
        hedge_net_usd=hedge_net,
    )


def hedge_plan_of(scenario: Scenario, grid: TimeGrid) -> HedgePlan:
    """The scenario's hedges on the grid, sized on the deterministic case's oil production."""
    if not scenario.hedges:
        return no_hedge(grid.n)
    expected = operations(scenario, grid, deterministic_inputs(scenario, grid)).oil_bbl[0]
    return build_hedge_plan(scenario, grid, expected_oil_bbl=expected)


def _jan1(year: int) -> dt.date:
    return dt.date(year, 1, 1)


def _issue_period(grid: TimeGrid, issue_year: int) -> int:
    return grid.period_of(max(grid.start, _jan1(issue_year)))


def build_waterfall_spec(
    scenario: Scenario, grid: TimeGrid, *, base_collections_usd: Array, hedge_premium_from_proceeds_usd: float = 0.0
) -> WaterfallSpec:
    """Schedules, fees, reserve targets and construction flows; ``base_collections_usd`` (periods,) is the
    deterministic base case used to sculpt tranches; a hedge premium paid from the proceeds is an issuance cost
    of the first issuance."""
    n, ppy = grid.n, grid.periods_per_year
    order = sorted(range(len(scenario.tranches)), key=lambda i: (scenario.tranches[i].seniority, i))
    issue = {i: _issue_period(grid, scenario.tranches[i].issue_year) for i in order}
    first_issue = min(issue.values())
    last_maturity = max(issue[i] + scenario.tranches[i].maturity_years * ppy - 1 for i in order)
    trustee = np.zeros(n)
    trustee[first_issue : last_maturity + 1] = scenario.fees.trustee_usd_per_year / ppy
    cfads_left = base_collections_usd - trustee
    schedules: list[TrancheSchedule] = []
    for i in order:
        t = scenario.tranches[i]
        sch = build_schedule(
            name=t.name,
            seniority=t.seniority,
            size_usd=t.size_usd,
            coupon_rate=t.coupon_rate,
            amortization=t.amortization,
            issue_period=issue[i],
            maturity_periods=t.maturity_years * ppy,
            grace_periods=t.grace_years * ppy,
            n_periods=n,
            periods_per_year=ppy,
            target_dscr=t.target_dscr,
            cfads_usd=cfads_left,
        )
        schedules.append(sch)
        cfads_left = cfads_left - sch.debt_service_from_collections_usd
    classes: list[tuple[int, ...]] = []
    for k, sch in enumerate(schedules):
        if classes and schedules[classes[-1][0]].seniority == sch.seniority:
            classes[-1] = (*classes[-1], k)
        else:
            classes.append((k,))
    size_n = scenario.reserve.dsra_target_periods
    proceeds = np.zeros(n)
    costs = np.zeros(n)
    initial_dsra = np.zeros(n)
    cia_funding = np.zeros(n)
    target = np.zeros(n)
    for sch in schedules:
        ds = sch.debt_service_from_collections_usd
        k0 = sch.issue_period
        first_paid = k0 + int(sch.grace.sum())
        proceeds[k0] += sch.size_usd
        costs[k0] += sch.size_usd * scenario.fees.issuance_pct
        cia_funding[k0] += sch.capitalised_interest_usd
        initial_dsra[k0] += ds[first_paid : first_paid + size_n].sum()
        for period in range(k0, sch.last_period + 1):
            a = max(period + 1, first_paid)
            target[period] += ds[a : a + size_n].sum()
    costs[first_issue] += hedge_premium_from_proceeds_usd
    capex_periods = np.nonzero(field_capex_usd(scenario, grid).sum(axis=0) > 0)[0]
    cons_release = max(int(capex_periods.max()) if capex_periods.size else 0, max(issue.values()))
    grace_ends = [sch.issue_period + int(sch.grace.sum()) - 1 for sch in schedules if sch.grace.any()]
    return WaterfallSpec(
        periods_per_year=ppy,
        tranches=tuple(schedules),
        classes=tuple(classes),
        proceeds_usd=proceeds,
        issuance_costs_usd=costs,
        initial_dsra_usd=initial_dsra,
        cia_funding_usd=cia_funding,
        construction_release_period=cons_release,
        cia_release_period=max(grace_ends) if grace_ends else -1,
        trustee_fee_usd=trustee,
        dsra_target_usd=target,
        scheduled_ds_usd=sum((s.debt_service_from_collections_usd for s in schedules), np.zeros(n)),
        cash_trap_dscr=scenario.triggers.cash_trap_dscr,
        lookback_periods=scenario.triggers.lookback_periods,
        lockup_until_period=(
            0 if scenario.triggers.distributions_before_first_repayment
            else max(int(np.argmax(s.principal_usd > 0)) for s in schedules)
        ),
        default_grace_periods=scenario.triggers.default_grace_periods,
        legal_final_periods=tuple(
            min(issue[i] + scenario.tranches[i].legal_final_years_or_maturity * ppy - 1, n - 1) for i in order
        ),
        default_interest_margin=scenario.triggers.default_interest_margin,
        reinvestment_rate=scenario.reserve.reinvestment_rate,
        trap_sweep=scenario.triggers.trap_sweep,
        release_periods=scenario.triggers.release_periods,
        release_keep_periods=scenario.reserve.dsra_target_periods,
    )


def _waterfall_runner(engine: EngineName) -> Callable[..., WaterfallResult]:
    if engine == "vector":
        return run_waterfall
    if engine == "reference":
        from naef.engine.reference import run_waterfall_reference

        return run_waterfall_reference
    raise ValueError(f"unknown engine {engine!r}")


@dataclass(frozen=True)
class SimulationResult:
    """A deterministic run: the per-period table, the summary and the arrays behind them."""

    scenario: Scenario
    grid: TimeGrid
    spec: WaterfallSpec
    ops: Operations
    waterfall: WaterfallResult
    table: pd.DataFrame
    summary: DeterministicSummary


def simulate(scenario: Scenario, *, engine: EngineName = "vector") -> SimulationResult:
    """Run the scenario's deterministic case through the whole chain.

    ``engine="reference"`` runs the pure-Python oracle of the waterfall instead of the vectorised one.
    """
    from naef.engine.results import build_summary, build_table

    grid = grid_of(scenario)
    inputs = deterministic_inputs(scenario, grid)
    hedge = hedge_plan_of(scenario, grid)
    ops = operations(scenario, grid, inputs, hedge)
    spec = build_waterfall_spec(scenario, grid, base_collections_usd=ops.collections_usd[0],
                                hedge_premium_from_proceeds_usd=hedge.premium_from_proceeds_usd)
    wf = _waterfall_runner(engine)(
        spec,
        collections_usd=ops.collections_usd,
        capex_usd=ops.capex_usd,
        pledged_exports_usd=ops.pledged_exports_usd,
    )
    table = build_table(scenario, grid, spec, ops, wf, inputs)
    summary = build_summary(scenario, grid, spec, ops, wf)
    return SimulationResult(scenario=scenario, grid=grid, spec=spec, ops=ops, waterfall=wf, table=table,
                            summary=summary)
