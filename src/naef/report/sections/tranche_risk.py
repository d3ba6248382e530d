"""Tranche risk: PD and EL with standard errors, implied ratings, WAL, minimum DSCR, breakevens, and the MDF's
inflows (Monte Carlo).

One row per tranche, one column per entry of ``COLUMNS`` (header, key in the tranche's summary, formatter):
a new per-tranche figure is one more entry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import naef.format as fmt
from naef.format import (
    DASH,
    pct,
    plain,
)
from naef.report.blocks import Section, Table, figure_cell
from naef.report.sections.common import Column, Doc, cells, item_table

__all__ = ["COLUMNS", "build"]


def _pct3(x: Any) -> str:
    return pct(x, 3)


#: the columns of the tranche-risk table, in order: (header with unit, key in summary.json's tranches[i], format);
#: a new per-tranche figure of the Monte Carlo is one more entry here
COLUMNS: tuple[Column, ...] = (
    Column("tranche", "name", fmt.text, numeric=False),
    Column("rank", "seniority", fmt.integer),
    Column("size (USD bn)", "size_usd", fmt.bn),
    Column("coupon (%/yr)", "coupon_rate", pct),
    Column("legal final (years)", "legal_final_years", lambda x: plain(x, "{:g}")),
    Column("PD ± s.e. (%)", "pd", pct, se_key="pd_se"),
    Column("EL ± s.e. (% of size)", "expected_loss", _pct3, se_key="expected_loss_se"),
    Column("structural rating (EL)", "structural_rating", fmt.text),
    Column("structural rating (PD)", "structural_rating_pd", fmt.text),
    Column("implied rating (EL)", "implied_rating", fmt.text),
    Column("implied rating (PD)", "implied_rating_pd", fmt.text),
    Column("implied (EL) set by", "implied_rating_binds", fmt.text),
    Column("mean WAL (years)", "wal_years", fmt.years),
    Column("min DSCR P5 / P50 / P95 (×)", "min_dscr", fmt.number, joined=("p5", "p50", "p95")),
    Column("breakeven flat price (USD/bbl)", "breakeven_flat_price_usd_per_bbl", lambda x: plain(x, "{:,.2f}")),
    Column("legal final", "legal_final_date", fmt.text, numeric=False),
    Column("default date P10 / P50 / P90", "default_date", fmt.text, numeric=False, joined=("p10", "p50", "p90")),
    Column("unpaid at legal final: mean / mean if defaulted (USD bn)", "unpaid_at_legal_final_usd", fmt.bn,
           joined=("mean", "mean_given_default")),
    Column("paid after legal final, mean (USD bn)", "recovered_after_legal_final_usd.mean", fmt.bn),
)


def build(summary: Doc) -> Section:
    """The section of a Monte Carlo's summary."""
    s = Section("tranche-risk", "Tranche risk and implied ratings (Monte Carlo)")
    run = summary.get("run", {})
    basis = next((tr.get("implied_rating_basis") for tr in summary.get("tranches", [])), None)
    s.blocks.append(item_table(
        "summary", summary, "tranches", COLUMNS,
        caption=(f"{plain(run.get('paths'), '{:,}')} paths, seed {run.get('seed', DASH)}. PD: share of paths on "
                 "which the tranche defaults (interest unpaid beyond the grace, or anything owed at the legal "
                 "final); EL: mean loss as a share of size, the present value at the coupon of what was promised and "
                 "not received by the legal final (money paid after it is shown apart, never netted); ± one Monte "
                 f"Carlo standard error. Implied rating (EL): {basis or 'EL at the mean WAL'}; implied rating (PD): "
                 "PD at the legal final against Moody's idealized cumulative default rates. Minimum DSCR: each path's "
                 "smallest senior-inclusive DSCR. Breakeven: the lowest flat benchmark at which the tranche is paid "
                 "in full and on time on the deterministic production. Method: docs/risk.md."),
    ))
    mdf = summary.get("mdf")
    if isinstance(mdf, Mapping):
        rows = []
        for label, key in (("nominal", "nominal_usd"), (f"PV at {fmt.rate(mdf.get('discount_rate'))}", "pv_usd")):
            rows.append(cells(label, *(figure_cell("summary", summary, f"mdf.{key}.{q}", fmt.bn, css="num")
                                        for q in ("p10", "p50", "p90", "mean"))))
        s.blocks.append(Table(("MDF inflows (total on a path)", "P10 (USD bn)", "P50 (USD bn)", "P90 (USD bn)",
                               "mean (USD bn)"), tuple(rows), (False, True, True, True, True),
                              title="The Mexican Development Fund's inflows",
                              caption="Exact quantiles over paths of each path's total inflows, nominal and "
                                      "discounted to the scenario's start at its discount rate."))
    return s

