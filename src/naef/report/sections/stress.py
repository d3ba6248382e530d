"""Stress: historical price episodes and user decks replayed through the deterministic chain."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import naef.format as fmt
from naef.format import (
    DASH,
    pct,
    plain,
)
from naef.report import figures as fg
from naef.report.blocks import Cell, Chart, Section, Table, figure_cell
from naef.report.sections.common import Doc, spec_json

__all__ = ["build"]


def build(stress: Doc) -> Section:
    run = stress.get("run", {})
    s = Section("stress", "Stress: historical episodes and decks replayed",
                f"Each path replays an oil-price episode or a user deck through the deterministic chain "
                f"({run.get('inputs', '')}); {run.get('after_episode', '')}. The base case is the scenario's deck.")
    rows: list[tuple[Cell, ...]] = []
    paths = stress.get("paths", [])
    for i, p in enumerate(paths):
        def c(key: str, fmt: Callable[[Any], str], i: int = i) -> Cell:
            return figure_cell("stress", stress, f"paths[{i}].{key}", fmt, css="num")

        bad = bool(p.get("event_of_default_date"))
        b = p.get("benchmark_usd_per_bbl", {})
        rows.append((
            Cell(str(p.get("name")), css="bad" if bad else ""), Cell(str(p.get("mode") or p.get("kind") or DASH)),
            c("benchmark_usd_per_bbl.first", lambda x: plain(x)),
            Cell(f"{plain(b.get('min'))} ({b.get('min_date', DASH)})", css="num"),
            c("mdf.inflows_usd", fmt.bn), c("mdf.inflows_pv_usd", fmt.bn),
            c("mdf.loss_vs_base_share", lambda x: pct(x, 1)), c("mdf.first_inflow_date", lambda x: x or "never"),
            c("min_dscr", lambda x: plain(x)), c("cash_trap_periods", fmt.integer),
            c("event_of_default_date", lambda x: x or "no"),
        ))
    s.blocks.append(Table(("path", "mode", "first price (USD/bbl)", "min price (USD/bbl, period)",
                           "MDF nominal (USD bn)", f"MDF PV at {fmt.rate(run.get('discount_rate'))} (USD bn)",
                           "MDF loss vs base (%)", "first MDF inflow", "min DSCR (×)", "trapped periods",
                           "event of default"), tuple(rows),
                          (False, False, *([True] * 9)), title="Paths and the Mexican Development Fund"))
    spec = fg.bar_chart(
        categories=[str(p.get("name")) for p in paths],
        series=[("MDF inflows, nominal", [p.get("mdf", {}).get("inflows_usd") for p in paths]),
                (f"MDF inflows, PV at {fmt.rate(run.get('discount_rate'))}",
                 [p.get("mdf", {}).get("inflows_pv_usd") for p in paths])],
        scale=1e9, value_title="USD bn", value_format=",.2f")
    src = stress.get("episodes_source", {})
    s.blocks.append(Chart("chart-stress-mdf", "The MDF's inflows on each stress path",
                          "Total inflows to the MDF over the horizon on each path, nominal and discounted, in USD bn "
                          f"(stress.json). Inputs: the scenario's deterministic chain with the benchmark replaced by "
                          f"each episode ({src.get('source', 'naef/data/stress_episodes.toml')}; "
                          f"{src.get('derivation', '')}) or deck, from the scenario's first quarter unless "
                          "--at-year says otherwise.", spec_json(spec)))
    rows = []
    for i, p in enumerate(paths):
        for j, tr in enumerate(p.get("tranches", [])):
            def t(key: str, fmt: Callable[[Any], str], i: int = i, j: int = j) -> Cell:
                return figure_cell("stress", stress, f"paths[{i}].tranches[{j}].{key}", fmt, css="num")

            rows.append((Cell(str(p.get("name")), css="bad" if tr.get("defaulted") else ""), Cell(str(tr.get("name"))),
                         t("default_date", lambda x: x or "no"), t("loss", lambda x: pct(x, 2)),
                         t("first_shortfall_date", lambda x: x or DASH), t("interest_shortfall_max_usd", fmt.bn),
                         t("unpaid_at_legal_final_usd", fmt.bn), t("recovered_after_legal_final_usd", fmt.bn)))
    s.blocks.append(Table(("path", "tranche", "default", "loss (% of size)", "first shortfall",
                           "max interest shortfall (USD bn)", "unpaid at legal final (USD bn)",
                           "paid after legal final (USD bn)"),
                          tuple(rows), (False, False, True, True, True, True, True, True),
                          title="Tranches under stress", caption="Dates are the first day of the period in which "
                          "the event happens; interest shortfalls are arrears carried to later periods."))
    return s

