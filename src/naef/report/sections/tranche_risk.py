"""Tranche risk: PD and EL with standard errors, implied ratings, WAL, minimum DSCR, breakevens, and the MDF's
inflows (Monte Carlo).

One row per tranche, one column per entry of ``COLUMNS`` (header, key in the tranche's summary, formatter):
a new per-tranche figure is one more entry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from naef.report import format as fmt
from naef.report.blocks import Cell, Section, Table, figure_cell
from naef.report.format import (
    DASH,
    is_missing,
    pct,
    plain,
)
from naef.report.sections.common import Doc, cells

__all__ = ["build"]


def build(summary: Doc) -> Section:
    s = Section("tranche-risk", "Tranche risk and implied ratings (Monte Carlo)")
    run = summary.get("run", {})
    rows: list[tuple[Cell, ...]] = []
    for i, tr in enumerate(summary.get("tranches", [])):
        def c(key: str, fmt: Callable[[Any], str], i: int = i) -> Cell:
            return figure_cell("summary", summary, f"tranches[{i}].{key}", fmt, css="num")

        se_pd = f" ± {pct(tr.get('pd_se'))}" if not is_missing(tr.get("pd_se")) else ""
        se_el = f" ± {pct(tr.get('expected_loss_se'), 3)}" if not is_missing(tr.get("expected_loss_se")) else ""
        pd_cell = c("pd", fmt.suffixed(pct, se_pd))
        el_cell = c("expected_loss", fmt.suffixed(lambda x: pct(x, 3), se_el))
        d = tr.get("min_dscr") or {}
        rows.append((
            figure_cell("summary", summary, f"tranches[{i}].name", fmt.text),
            c("seniority", fmt.integer), c("size_usd", fmt.bn), c("coupon_rate", lambda x: pct(x)),
            c("legal_final_years", lambda x: plain(x, "{:g}")), pd_cell, el_cell,
            c("implied_rating", fmt.text), c("implied_rating_pd", fmt.text), c("wal_years", fmt.years),
            Cell(" / ".join(plain(d.get(k), "{:.2f}") for k in ("p5", "p50", "p95")), css="num"),
            c("breakeven_flat_price_usd_per_bbl", lambda x: plain(x, "{:,.2f}")),
        ))
    basis = next((tr.get("implied_rating_basis") for tr in summary.get("tranches", [])), None)
    s.blocks.append(Table(
        ("tranche", "rank", "size (USD bn)", "coupon (%/yr)", "legal final (years)", "PD ± s.e. (%)",
         "EL ± s.e. (% of size)", "implied rating (EL)", "implied rating (PD)", "mean WAL (years)",
         "min DSCR P5 / P50 / P95 (×)", "breakeven flat price (USD/bbl)"),
        tuple(rows), (False, *([True] * 11)),
        caption=(f"{plain(run.get('paths'), '{:,}')} paths, seed {run.get('seed', DASH)}. PD: share of paths on "
                 "which the tranche defaults (interest unpaid beyond the grace, or anything owed at the legal "
                 "final); EL: mean loss as a share of size, in present value at the coupon; ± one Monte Carlo "
                 f"standard error. Implied rating (EL): {basis or 'EL at the mean WAL'}; implied rating (PD): PD at "
                 "the legal final against Moody's idealized cumulative default rates. Minimum DSCR: each path's "
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

