"""Fan charts: the Monte Carlo's percentiles by period (P5–P95, P25–P75, P50), the deterministic run dashed."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from naef.format import (
    plain,
)
from naef.report import figures as fg
from naef.report.blocks import Chart, Section
from naef.report.sections.common import MCF_PER_BOE, PERIOD_NAME, Doc, column, dates, kind, spec_json
from naef.scenario.models import Scenario

__all__ = ["build"]


def build(summary: Doc, percentiles: pd.DataFrame, cf: pd.DataFrame | None, scenario: Scenario) -> Section:
    s = Section("fan-charts", "Fan charts: the Monte Carlo by period")
    run = summary.get("run", {}) if kind(summary) == "monte_carlo" else {}
    ppy = scenario.scenario.periods_per_year
    period = PERIOD_NAME.get(ppy, "period")
    paths = run.get("paths")
    who = (f"across {paths:,} Monte Carlo paths (seed {run.get('seed')})" if isinstance(paths, int)
           else "across the Monte Carlo's paths")
    bands_text = "bands P5–P95 (light) and P25–P75 (dark), line P50"
    det_text = "; dashed: the deterministic run (the scenario's decks)" if cf is not None else ""
    src = "percentiles.csv (per-period percentiles from fixed-bin histograms, exact to one bin)"
    x_dates = dates(percentiles)
    model = run.get("price_model", "the scenario's [price.stochastic]")
    params = run.get("price_model_parameters") or {}
    param_text = ", ".join(f"{k} {v:g}" if isinstance(v, int | float) else f"{k} {v}" for k, v in params.items())
    field_unc = run.get("field_uncertainty")
    field_text = ("each field's rate, reserves, capex and start drawn from [uncertainty]" if field_unc
                  else "no field uncertainty" if field_unc is not None else "the scenario's [uncertainty]")

    def bands(var: str) -> dict[int, Sequence[object]] | None:
        cols = {q: column(percentiles, f"{var}_p{q}") for q in (5, 25, 50, 75, 95)}
        if any(v is None for v in cols.values()):
            return None
        return {q: v for q, v in cols.items() if v is not None}

    def det(col: str) -> list[object] | None:
        return None if cf is None else column(cf, col)

    b = bands("benchmark_usd_per_bbl")
    if b is not None:
        s.blocks.append(Chart("chart-fan-price", f"Benchmark oil price ({scenario.price.benchmark}), USD/bbl",
                              f"The benchmark price by {period} {who}: {bands_text}{det_text}. Inputs: price model "
                              f"{model}{f' ({param_text})' if param_text else ''}, started from the deck's "
                              f"{plain(run.get('spot_usd_per_bbl'))} USD/bbl at the start; {src}.",
                              spec_json(fg.fan_chart(dates=x_dates, bands=b, scale=1.0, y_title="USD/bbl",
                                                      value_format=",.2f", deterministic=det(
                                                          "benchmark_usd_per_bbl")))))
    b = bands("production_boe_per_day")
    if b is not None:
        boe = None
        if cf is not None and "production_bpd" in cf.columns and "gas_production_mmcfd" in cf.columns:
            boe = (cf["production_bpd"] + cf["gas_production_mmcfd"] * 1000.0 / MCF_PER_BOE).tolist()
        s.blocks.append(Chart("chart-fan-production", "Production of the funded fields, thousand boe/d",
                              f"Oil plus gas (at {MCF_PER_BOE:g} Mcf/boe) of the funded fields by {period} {who}: "
                              f"{bands_text}{det_text}. Inputs: the scenario's [[fields]] (initial rates, Arps "
                              f"declines, reserves, first-production years), {field_text}; {src}.",
                              spec_json(fg.fan_chart(dates=x_dates, bands=b, scale=1e3, y_title="thousand boe/d",
                                                      value_format=",.1f", deterministic=boe))))
    b = bands("collections_usd")
    if b is not None:
        s.blocks.append(Chart("chart-fan-collections", f"Collections, USD m per {period}",
                              f"What reaches the collection account each {period} (revenue − opex − duties + hedge "
                              f"payoffs, floored at 0, plus pledged export receivables) {who}: {bands_text}"
                              f"{det_text}. Inputs: prices, production and costs as above, [fiscal], [collateral] "
                              f"and [[hedges]]; {src}.",
                              spec_json(fg.fan_chart(dates=x_dates, bands=b, scale=1e6,
                                                      y_title=f"USD m per {period}", value_format=",.1f",
                                                      deterministic=det("collections_usd")))))
    b = bands("dscr")
    if b is not None:
        refs: list[tuple[float, str]] = [(1.0, "DSCR 1.00×")]
        trap = scenario.triggers.cash_trap_dscr
        if trap and trap != 1.0:
            refs.append((float(trap), f"cash trap {trap:.2f}×"))
        s.blocks.append(Chart("chart-fan-dscr", "Debt-service coverage ratio (DSCR), ×",
                              f"Collections less the trustee fee over the scheduled debt service payable from "
                              f"collections, by {period} {who}, in the {period}s with debt service due (the column "
                              f"dscr_paths counts the paths that define it): {bands_text}{det_text}. Dotted: a DSCR "
                              f"of 1 and the cash-trap level ([triggers] cash_trap_dscr). Inputs: collections as "
                              f"above and the [[tranches]]' schedules; {src} (resolution 0.005; range 0–10).",
                              spec_json(fg.fan_chart(dates=x_dates, bands=b, scale=1.0, y_title="DSCR (×)",
                                                      value_format=".2f", deterministic=det("dscr"),
                                                      reference_lines=refs))))
    b = bands("to_mdf_usd")
    if b is not None:
        s.blocks.append(Chart("chart-fan-mdf", f"Inflows to the Mexican Development Fund, USD m per {period}",
                              f"The residual of the waterfall paid to the MDF each {period} {who}: {bands_text}"
                              f"{det_text}. Inputs: collections as above, the [[tranches]], [reserve], [triggers] "
                              f"(cash trap, lock-up) and [fees]; {src}.",
                              spec_json(fg.fan_chart(dates=x_dates, bands=b, scale=1e6,
                                                      y_title=f"USD m per {period}", value_format=",.1f",
                                                      deterministic=det("to_mdf_usd")))))
    return s

