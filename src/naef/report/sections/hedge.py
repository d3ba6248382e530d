"""The hedge effect: the same Monte Carlo paths with and without the scenario's hedges."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import naef.format as fmt
from naef.format import (
    DASH,
    pct,
    plain,
    usd_bn,
)
from naef.report.blocks import Cell, Section, Table, figure_cell
from naef.report.sections.common import Doc, cells

__all__ = ["build"]


def build(summary: Doc) -> Section | None:
    hedge = summary.get("hedge")
    if not isinstance(hedge, Mapping):
        return None
    s = Section("hedge", "Hedge effect: the same paths with and without the hedges",
                str(hedge.get("note", "")))
    rows: list[tuple[Cell, ...]] = []
    for i, h in enumerate(hedge.get("hedges", [])):
        yrs = h.get("years") or [None, None]
        rows.append(cells(
            str(h.get("kind", DASH)), f"{yrs[0]}–{yrs[1]}",
            Cell(plain(h.get("put_strike_usd_per_bbl")), css="num"),
            Cell(plain(h.get("call_strike_usd_per_bbl")), css="num"),
            Cell(plain(h.get("notional_bbl"), "{:,.0f}"), css="num"),
            figure_cell("summary", summary, f"hedge.hedges[{i}].premium_value_usd", fmt.bn, css="num"),
            Cell(plain(h.get("premium_usd_per_bbl")), css="num"), str(h.get("premium_paid_from", DASH)),
        ))
    if rows:
        s.blocks.append(Table(("kind", "years", "put strike (USD/bbl)", "call strike (USD/bbl)", "notional (bbl)",
                               "premium value (USD bn)", "premium (USD/bbl)", "premium paid from"),
                              tuple(rows), (False, False, True, True, True, True, True, False),
                              title="The hedges"))
    rows = []
    for i, tr in enumerate(hedge.get("tranches", [])):
        def c(key: str, fmt: Callable[[Any], str], i: int = i) -> Cell:
            return figure_cell("summary", summary, f"hedge.tranches[{i}].{key}", fmt, css="num")

        rows.append(cells(str(tr.get("name")), c("with_hedge.pd", pct), c("without_hedge.pd", pct),
                           c("with_hedge.expected_loss", lambda x: pct(x, 3)),
                           c("without_hedge.expected_loss", lambda x: pct(x, 3)),
                           c("with_hedge.implied_rating", fmt.text), c("without_hedge.implied_rating", fmt.text)))
    s.blocks.append(Table(("tranche", "PD with (%)", "PD without (%)", "EL with (% of size)",
                           "EL without (% of size)", "rating with", "rating without"), tuple(rows),
                          (False, True, True, True, True, True, True), title="Tranches with and without"))
    rows = [cells(label, *(figure_cell("summary", summary, f"hedge.{k}.nominal_usd.{q}", fmt.bn, css="num")
                            for q in ("p10", "p50", "p90", "mean")))
            for label, k in (("with the hedges", "mdf_with_hedge"), ("without", "mdf_without_hedge"))]
    s.blocks.append(Table(("MDF inflows, nominal", "P10 (USD bn)", "P50 (USD bn)", "P90 (USD bn)", "mean (USD bn)"),
                          tuple(rows), (False, True, True, True, True),
                          caption=f"Premium value {usd_bn(hedge.get('premium_value_usd'))}; mean net payoff per path "
                                  f"{usd_bn(hedge.get('mean_net_payoff_usd'))}."))
    return s

