"""The swap: the study's diagram as a Sankey with the deterministic run's amounts, and the same flows as a table.

The flows are :func:`naef.analysis.flows.swap_flows` of the deterministic run's cash flows — the one definition
the portal draws too (same names, amounts and colours). A flow whose amount is a figure of the deterministic
``summary.json`` is marked with it (``data-figure``) in the table.
"""

from __future__ import annotations

import math

import pandas as pd

import naef.format as fmt
from naef.analysis.flows import SwapFlows, swap_flows
from naef.format import lookup
from naef.report import figures as fg
from naef.report.blocks import Cell, Chart, Section, Table, figure_cell
from naef.report.sections.common import Doc, cells, spec_json

__all__ = ["build"]


def _amount_cell(flows: SwapFlows, i: int, det: Doc | None) -> Cell:
    link = flows.links[i]
    if det is not None and link.summary_key is not None:
        try:
            value = lookup(det, link.summary_key)
        except KeyError:
            value = None
        if isinstance(value, int | float) and math.isclose(float(value), link.amount_usd, rel_tol=1e-9, abs_tol=1.0):
            return figure_cell("deterministic", det, link.summary_key, fmt.bn, css="num")
    return Cell(fmt.bn(link.amount_usd), css="num")


def build(det: Doc | None, cf: pd.DataFrame | None) -> Section | None:
    """The section, when the deterministic run's cash flows are given (``None`` otherwise)."""
    if cf is None:
        return None
    flows = swap_flows(cf)
    if not flows.links:
        return None
    s = Section("swap", "The swap: where the money goes",
                "The study's diagram with this run's amounts: NAEF securities finance PEMEX's field development; "
                "the net revenues of the added production, with the pledged export receivables, pay the investors; "
                "the residual goes to the Mexican Development Fund, which invests it in infrastructure, human "
                "capital and small enterprise.")
    s.blocks.append(Chart(
        "chart-sankey", "The energy-for-infrastructure swap (totals over the horizon)",
        "Sankey diagram of nominal US dollar totals over the whole horizon from the deterministic run's cash flows "
        "(cashflows.csv, the scenario's decks); widths and amounts in USD bn. At every account money passes "
        "through, what flows in equals what flows out; money still held in the accounts at the horizon's end is "
        "shown as such. Definitions: naef.analysis.flows; the flows are listed in the table below.",
        spec_json(fg.sankey_chart(flows)),
    ))
    rows = [cells(flows.node(x.source).label, flows.node(x.target).label, _amount_cell(flows, i, det), x.basis)
            for i, x in enumerate(flows.links)]
    s.blocks.append(Table(("from", "to", "amount (USD bn)", "basis (cashflows.csv)"), tuple(rows),
                          (False, False, True, False), title="Flows in the diagram"))
    return s
