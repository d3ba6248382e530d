"""The per-period table and the summary of a deterministic run (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import brentq

from naef.engine.credit import finite_or_none, metric_arrays, period_end_date, tranche_credit, waterfall_metrics
from naef.engine.schedules import TrancheSchedule
from naef.engine.timegrid import TimeGrid
from naef.engine.waterfall import WaterfallResult, WaterfallSpec, cash_identity_residual
from naef.scenario.load import scenario_identity
from naef.scenario.models import Scenario
from naef.version import __version__

__all__ = ["DeterministicSummary", "DeterministicTranche", "TrancheRowHead", "build_summary", "build_table",
           "periodic_irr", "tranche_metrics", "tranche_row", "wal_years"]

Array = NDArray[np.float64]


class TrancheRowHead(TypedDict):
    """The keys every per-tranche summary row starts with: name, seniority (1 = most senior), size (US$) and the
    annual coupon rate (a fraction)."""

    name: str
    seniority: int
    size_usd: float
    coupon_rate: float


class DeterministicTranche(TrancheRowHead):
    """One tranche on one path (``summary.json``'s ``tranches`` of ``naef run``): dates ISO 8601, WAL in years,
    DSCRs as ratios, amounts in US$ (``None`` where a figure is not a finite number); the credit facts to the legal
    final (``naef.engine.credit``) are the last six keys."""

    issue_date: str
    legal_final_date: str
    wal_years: float | None
    min_dscr: float | None
    mean_dscr: float | None
    interest_paid_usd: float
    principal_paid_usd: float
    interest_shortfall_usd: float
    principal_outstanding_usd: float
    investor_yield: float | None
    capitalised_interest_usd: float
    scheduled_final_date: str
    defaulted: bool
    default_date: str | None
    loss: float
    unpaid_at_legal_final_usd: float
    recovered_after_legal_final_usd: float

class SourcesAndUses(TypedDict):
    """Proceeds against their uses (US$): field capex, issuance costs, initial DSRA, capitalised interest; the
    surplus or shortfall, and the capex PEMEX funds because the construction account could not."""

    sources: dict[str, float]
    uses: dict[str, float]
    total_uses_usd: float
    surplus_usd: float
    shortfall_usd: float
    balanced: bool
    capex_funded_by_pemex_usd: float
    note: str


class ProductionTotals(TypedDict):
    """Cumulative volumes (million barrels, bcf) and peak rates (barrels a day, million cubic feet a day)."""

    cumulative_oil_mmbbl: float
    cumulative_gas_bcf: float
    peak_oil_bpd: float
    peak_gas_mmcfd: float


class FieldTotals(TypedDict):
    """One field over the horizon: capex and revenue (US$), cumulative volume in ``volume_unit``."""

    name: str
    product: str
    capex_usd: float
    cumulative_volume: float
    volume_unit: str
    revenue_usd: float


class Totals(TypedDict):
    """Sums over the horizon (US$, nominal; ``to_mdf_pv_usd`` at ``discount_rate``), the MDF's first inflow
    (ISO date) and the accounts' closing balances (US$)."""

    revenue_usd: float
    opex_usd: float
    duties_usd: float
    pemex_operating_deficit_usd: float
    collections_usd: float
    fees_usd: float
    interest_paid_usd: float
    principal_paid_usd: float
    returned_to_pemex_usd: float
    reinvestment_income_usd: float
    prepayment_usd: float
    to_mdf_usd: float
    to_mdf_pv_usd: float
    discount_rate: float
    first_mdf_period: str | None
    closing_balances_usd: dict[str, float]


class DeterministicRun(TypedDict):
    kind: str
    paths: int


class DeterministicSummary(TypedDict):
    """``summary.json`` of a deterministic run (:func:`build_summary`; keys documented in the README)."""

    scenario: Mapping[str, object]
    naef_version: str
    run: DeterministicRun
    issuance_usd: float
    sources_and_uses: SourcesAndUses
    tranches: list[DeterministicTranche]
    production: ProductionTotals
    fields: list[FieldTotals]
    totals: Totals
    min_dscr: float | None
    cash_identity_max_abs_error_usd: float


_WATERFALL_COLUMNS_BEFORE = (
    "proceeds_usd", "issuance_costs_usd", "capex_usd", "pemex_capex_funding_usd", "construction_release_usd",
    "construction_balance_usd", "cia_draw_usd", "cia_release_usd", "cia_balance_usd", "cfads_usd",
    "debt_service_due_usd", "dscr", "fees_usd", "fees_shortfall_usd",
)
_WATERFALL_COLUMNS_AFTER = (
    "dsra_balance_usd", "dsra_draw_usd", "dsra_deposit_usd", "dsra_release_usd", "trapped_usd", "trap_draw_usd",
    "trap_release_usd", "trap_balance_usd", "returned_to_pemex_usd", "to_mdf_usd", "event_of_default",
    "trap_exports_balance_usd", "reinvestment_income_usd", "prepayment_usd",
)


def build_table(
    scenario: Scenario,
    grid: TimeGrid,
    spec: WaterfallSpec,
    ops: Any,
    wf: WaterfallResult,
    inputs: Any,
    *,
    path: int = 0,
) -> pd.DataFrame:
    """One row per period of one path, columns documented in the README ("cashflows.csv")."""
    days = grid.days
    cols: dict[str, object] = {
        "period_start": [d.isoformat() for d in grid.starts],
        "period_days": days.astype(np.int64),
        "production_bpd": ops.oil_bbl[path] / days,
        "gas_production_mmcfd": ops.gas_mcf[path] / days / 1000.0,
        "benchmark_usd_per_bbl": inputs.benchmark_usd_per_bbl[path],
        "price_usd_per_bbl": ops.realised_oil_usd_per_bbl[path],
        "gas_price_usd_per_mmbtu": ops.realised_gas_usd_per_mmbtu[path],
        "oil_revenue_usd": ops.oil_revenue_usd[path],
        "gas_revenue_usd": ops.gas_revenue_usd[path],
        "revenue_usd": ops.revenue_usd[path],
        "opex_usd": ops.opex_usd[path],
        "duties_usd": ops.duties_usd[path],
        "pemex_operating_deficit_usd": ops.pemex_operating_deficit_usd[path],
        "pledged_exports_usd": ops.pledged_exports_usd[path],
        "hedge_net_usd": ops.hedge_net_usd[path],
        "collections_usd": ops.collections_usd[path],
    }
    for name in _WATERFALL_COLUMNS_BEFORE:
        cols[name] = wf.path[name][path]
    for j, sch in enumerate(spec.tranches):
        for name in ("interest_paid_usd", "principal_paid_usd", "interest_shortfall_usd", "principal_shortfall_usd",
                     "principal_outstanding_usd"):
            cols[f"{name}_{sch.name}"] = wf.tranche[name][j, path]
    for name in _WATERFALL_COLUMNS_AFTER:
        cols[name] = wf.path[name][path]
    return pd.DataFrame(cols)


def wal_years(*, principal_paid_usd: Array, t_end_years: Array, t_issue_years: float) -> float:
    """Weighted average life: ``Σ (t_i - t_issue) P_i / Σ P_i`` over principal actually paid (years)."""
    total = float(principal_paid_usd.sum())
    if total <= 0:
        return float("nan")
    return float(((t_end_years - t_issue_years) * principal_paid_usd).sum() / total)


def _investor_flows(sch: TrancheSchedule, interest: Array, principal: Array) -> Array:
    flows = np.zeros(interest.shape[0] + 1)
    flows[sch.issue_period] -= sch.size_usd
    flows[1:] += interest + principal
    return flows


def periodic_irr(flows: NDArray[np.float64]) -> float | None:
    """The periodic internal rate of return of ``flows`` (NPV = 0), or ``None`` if it has no sign change.

    Solved with Brent's method on ``NPV(r) = Σ f_t / (1 + r)^t`` over ``r ∈ (-0.9, 10)`` (a narrower lower
    bound where ``-0.9`` overflows on long horizons).
    """
    nz = np.nonzero(flows)[0]
    if nz.size == 0:
        return None
    f = flows[nz[0] : nz[-1] + 1]
    if not ((f > 0).any() and (f < 0).any()):
        return None
    t = np.arange(f.size, dtype=np.float64)

    def npv(r: float) -> float:
        return float(np.sum(f / np.power(1.0 + r, t)))

    hi = 10.0
    for lo in (-0.9, -0.5, -0.2):
        with np.errstate(over="ignore", invalid="ignore"):
            if np.isfinite(npv(lo)):
                break
    else:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        if not np.isfinite(npv(lo)) or npv(lo) * npv(hi) > 0:
            return None
    return float(brentq(npv, lo, hi, xtol=1e-14, rtol=1e-12, maxiter=500))


def tranche_row(sch: TrancheSchedule, *, periods_per_year: int) -> TrancheRowHead:
    """The keys every per-tranche summary row starts with (``naef run``'s, the Monte Carlo's and the stress
    document's): name, seniority, size (US$) and annual coupon rate (the period rate × periods per year)."""
    return {
        "name": sch.name,
        "seniority": sch.seniority,
        "size_usd": sch.size_usd,
        "coupon_rate": sch.rate_per_period * periods_per_year,
    }


def tranche_metrics(
    scenario: Scenario, spec: WaterfallSpec, grid: TimeGrid, wf: WaterfallResult, *, path: int = 0
) -> list[DeterministicTranche]:
    """Per-tranche figures of one path: DSCR (senior-inclusive), amounts paid and short, investor yield, and the
    tranche's credit facts to its legal final (``naef.engine.credit``): ``legal_final_date`` (from
    ``legal_final_years``; the scheduled final payment is ``scheduled_final_date``), ``defaulted``,
    ``default_date``, ``loss``, ``unpaid_at_legal_final_usd``, ``recovered_after_legal_final_usd``, and the WAL to
    the legal final (the Monte Carlo's definition)."""
    cfads = wf.path["cfads_usd"][path]
    arrays = metric_arrays(grid=grid, spec=spec, discount_rate=scenario.scenario.discount_rate)
    one = WaterfallResult(path={k: v[path : path + 1] for k, v in wf.path.items()},
                          tranche={k: v[:, path : path + 1] for k, v in wf.tranche.items()})
    mt, _ = waterfall_metrics(spec, arrays, one)
    rows: list[DeterministicTranche] = []
    for j, (sch, credit) in enumerate(zip(spec.tranches, tranche_credit(grid, spec, mt[0]), strict=True)):
        senior_ds = sum(
            (s.debt_service_from_collections_usd for s in spec.tranches if s.seniority <= sch.seniority),
            np.zeros(grid.n),
        )
        own = sch.debt_service_from_collections_usd > 0
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            dscr = cfads[own] / senior_ds[own]
        interest = wf.tranche["interest_paid_usd"][j, path]
        principal = wf.tranche["principal_paid_usd"][j, path]
        irr = periodic_irr(_investor_flows(sch, interest, principal))
        rows.append({
            **tranche_row(sch, periods_per_year=spec.periods_per_year),
            "issue_date": grid.starts[sch.issue_period].isoformat(),
            "legal_final_date": credit.legal_final_date,
            "wal_years": credit.wal_years,
            "min_dscr": finite_or_none(float(dscr.min())) if dscr.size else None,
            "mean_dscr": finite_or_none(float(dscr.mean())) if dscr.size else None,
            "interest_paid_usd": float(interest.sum()),
            "principal_paid_usd": float(principal.sum()),
            "interest_shortfall_usd": float(wf.tranche["interest_shortfall_usd"][j, path, -1]),
            "principal_outstanding_usd": float(wf.tranche["principal_outstanding_usd"][j, path, -1]),
            "investor_yield": None if irr is None else irr * spec.periods_per_year,
            "capitalised_interest_usd": sch.capitalised_interest_usd,
            "scheduled_final_date": period_end_date(grid, sch.last_period),
            "defaulted": credit.defaulted,
            "default_date": credit.default_date,
            "loss": credit.loss,
            "unpaid_at_legal_final_usd": credit.unpaid_at_legal_final_usd,
            "recovered_after_legal_final_usd": credit.recovered_after_legal_final_usd,
        })
    return rows


def build_summary(
    scenario: Scenario, grid: TimeGrid, spec: WaterfallSpec, ops: Any, wf: WaterfallResult, *, path: int = 0
) -> DeterministicSummary:
    """The summary of one path (``summary.json``): inputs' identity, sources and uses, tranches, totals."""
    p = wf.path
    capex_total = float(ops.capex_usd[path].sum())
    issuance = float(spec.proceeds_usd.sum())
    uses = {
        "field_capex_usd": capex_total,
        "issuance_costs_usd": float(spec.issuance_costs_usd.sum()),
        "initial_dsra_usd": float(spec.initial_dsra_usd.sum()),
        "capitalised_interest_usd": float(spec.cia_funding_usd.sum()),
    }
    total_uses = sum(uses.values())
    mismatch = issuance - total_uses
    to_mdf = p["to_mdf_usd"][path]
    disc = (1.0 + scenario.scenario.discount_rate) ** -grid.t_end_years
    mdf_periods = np.nonzero(to_mdf > 0.005)[0]
    residual = cash_identity_residual(wf)[path]
    return {
        "scenario": scenario_identity(scenario),
        "naef_version": __version__,
        "run": {"kind": "deterministic", "paths": 1},
        "issuance_usd": issuance,
        "sources_and_uses": {
            "sources": {"securities_proceeds_usd": issuance},
            "uses": uses,
            "total_uses_usd": total_uses,
            "surplus_usd": mismatch if mismatch > 0 else 0.0,
            "shortfall_usd": -mismatch if mismatch < 0 else 0.0,
            "balanced": abs(mismatch) <= 1e-6 * max(issuance, 1.0),
            "capex_funded_by_pemex_usd": float(p["pemex_capex_funding_usd"][path].sum()),
            "note": (
                "proceeds = field capex + issuance costs + initial DSRA + capitalised interest; a surplus stays in "
                "the construction account and, after the last capex period, redeems the notes pro rata (it never "
                "reaches the MDF); capex the construction account cannot pay when due is funded by PEMEX and shown "
                "here"
            ),
        },
        "tranches": tranche_metrics(scenario, spec, grid, wf, path=path),
        "production": {
            "cumulative_oil_mmbbl": float(ops.oil_bbl[path].sum() / 1e6),
            "cumulative_gas_bcf": float(ops.gas_mcf[path].sum() / 1e6),
            "peak_oil_bpd": float((ops.oil_bbl[path] / grid.days).max()),
            "peak_gas_mmcfd": float((ops.gas_mcf[path] / grid.days / 1000.0).max()),
        },
        "fields": [
            {
                "name": f.name,
                "product": f.product,
                "capex_usd": float(sum(f.capex_usd)),
                "cumulative_volume": float(
                    (ops.oil_bbl_by_field[i, path].sum() / 1e6) if f.product == "oil"
                    else ops.gas_mcf_by_field[i, path].sum() / 1e6
                ),
                "volume_unit": "mmbbl" if f.product == "oil" else "bcf",
                "revenue_usd": float(ops.revenue_by_field_usd[i, path].sum()),
            }
            for i, f in enumerate(scenario.fields)
        ],
        "totals": {
            "revenue_usd": float(ops.revenue_usd[path].sum()),
            "opex_usd": float(ops.opex_usd[path].sum()),
            "duties_usd": float(ops.duties_usd[path].sum()),
            "pemex_operating_deficit_usd": float(ops.pemex_operating_deficit_usd[path].sum()),
            "collections_usd": float(ops.collections_usd[path].sum()),
            "fees_usd": float(p["fees_usd"][path].sum()),
            "interest_paid_usd": float(wf.tranche["interest_paid_usd"][:, path].sum()),
            "principal_paid_usd": float(wf.tranche["principal_paid_usd"][:, path].sum()),
            "returned_to_pemex_usd": float(p["returned_to_pemex_usd"][path].sum()),
            "reinvestment_income_usd": float(p["reinvestment_income_usd"][path].sum()),
            "prepayment_usd": float(p["prepayment_usd"][path].sum()),
            "to_mdf_usd": float(to_mdf.sum()),
            "to_mdf_pv_usd": float((to_mdf * disc).sum()),
            "discount_rate": scenario.scenario.discount_rate,
            "first_mdf_period": grid.starts[int(mdf_periods[0])].isoformat() if mdf_periods.size else None,
            "closing_balances_usd": {
                k: float(p[f"{k}_balance_usd"][path, -1]) for k in ("construction", "cia", "dsra", "trap")
            },
        },
        "min_dscr": (
            float(np.nanmin(p["dscr"][path][np.isfinite(p["dscr"][path])]))
            if np.isfinite(p["dscr"][path]).any() else None
        ),
        "cash_identity_max_abs_error_usd": float(np.abs(residual).max()),
    }
