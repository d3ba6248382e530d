"""The swap: the study's diagram as a Sankey with the deterministic run's amounts, and the same flows as a table
(the flows themselves are computed by ``naef.analysis.flows``, which the portal draws too)."""

from __future__ import annotations

import pandas as pd

from naef.report import figures as fg
from naef.report import format as fmt
from naef.report.blocks import Cell, Chart, Section, Table, figure_cell
from naef.report.format import (
    usd_bn,
)
from naef.report.sections.common import Doc, cells, spec_json

__all__ = ["build"]


def _totals_from_cashflows(cf: pd.DataFrame) -> dict[str, float]:
    def total(col: str) -> float:
        return float(cf[col].sum()) if col in cf.columns else 0.0

    def total_prefix(prefix: str) -> float:
        return float(sum(cf[c].sum() for c in cf.columns if c.startswith(prefix)))

    return {
        "issuance": total("proceeds_usd"), "capex": total("capex_usd"), "issuance_costs": total("issuance_costs_usd"),
        "revenue": total("revenue_usd"), "opex": total("opex_usd"), "duties": total("duties_usd"),
        "deficit": total("pemex_operating_deficit_usd"), "collections": total("collections_usd"),
        "fees": total("fees_usd"), "interest": total_prefix("interest_paid_usd_"),
        "principal": total_prefix("principal_paid_usd_"), "returned": total("returned_to_pemex_usd"),
        "to_mdf": total("to_mdf_usd"), "pledged": total("pledged_exports_usd"), "hedge": total("hedge_net_usd"),
    }


def _flows(det: Doc | None, cf: pd.DataFrame | None, portfolio: Doc | None) -> list[tuple[fg.Flow, str | None]]:
    """The diagram's links and, for each, the key of the deterministic summary it equals (if one)."""
    t = _totals_from_cashflows(cf) if cf is not None else {}
    keys: dict[str, str | None] = {}
    reserves = None
    surplus = 0.0
    if det is not None:
        su, tot = det["sources_and_uses"], det["totals"]
        t.update({
            "issuance": float(det["issuance_usd"]), "capex": float(su["uses"]["field_capex_usd"]),
            "issuance_costs": float(su["uses"]["issuance_costs_usd"]), "revenue": float(tot["revenue_usd"]),
            "opex": float(tot["opex_usd"]), "duties": float(tot["duties_usd"]),
            "deficit": float(tot["pemex_operating_deficit_usd"]), "collections": float(tot["collections_usd"]),
            "fees": float(tot["fees_usd"]), "interest": float(tot["interest_paid_usd"]),
            "principal": float(tot["principal_paid_usd"]), "returned": float(tot["returned_to_pemex_usd"]),
            "to_mdf": float(tot["to_mdf_usd"]),
        })
        reserves = float(su["uses"]["initial_dsra_usd"]) + float(su["uses"]["capitalised_interest_usd"])
        surplus = float(su["surplus_usd"])
        keys = {"issuance": "issuance_usd", "capex": "sources_and_uses.uses.field_capex_usd",
                "issuance_costs": "sources_and_uses.uses.issuance_costs_usd", "duties": "totals.duties_usd",
                "fees": "totals.fees_usd", "returned": "totals.returned_to_pemex_usd", "to_mdf": "totals.to_mdf_usd",
                "surplus": "sources_and_uses.surplus_usd"}
    production_net = t["revenue"] - t["opex"] - t["duties"] + t["deficit"]
    if cf is not None:
        pledged, hedge = t["pledged"], t["hedge"]
        side_basis = "cash flows: Σ pledged_exports_usd"
    else:
        pledged, hedge = t["collections"] - production_net, 0.0
        side_basis = "totals: collections − (revenue − opex − duties + PEMEX operating deficit)"
    fin, naef, prod = "Financing (NAEF investors)", "NAEF securities", "PEMEX oil and gas production"
    net, mdf = "Net revenues (collection account)", "Mexican Development Fund"
    out: list[tuple[fg.Flow, str | None]] = []

    def add(src: str, dst: str, value: float, basis: str, key: str | None = None) -> None:
        if value > 0.5:
            out.append((fg.Flow(src, dst, value, basis), key))

    add(fin, naef, t["issuance"], "securities sold (issuance_usd)", keys.get("issuance"))
    add(naef, prod, t["capex"], "field capex (sources and uses)", keys.get("capex"))
    add(naef, "Issuance costs", t["issuance_costs"], "issuance costs (sources and uses)", keys.get("issuance_costs"))
    if reserves is not None:
        add(naef, "Reserves: DSRA and capitalised interest", reserves,
            "initial DSRA + capitalised interest (sources and uses)")
    add(naef, net, surplus, "unspent proceeds released into the waterfall", keys.get("surplus"))
    add(prod, "Duties to the Federation", t["duties"], "Σ duties_usd", keys.get("duties"))
    add(prod, "Operating costs", t["opex"] - t["deficit"],
        "opex paid from revenue (opex − PEMEX operating deficit)")
    add(prod, net, production_net, "revenue − opex − duties + PEMEX operating deficit")
    add("Pledged export receivables (PEMEX)", net, pledged, side_basis)
    if hedge > 0:
        add("Hedges (net payoff)", net, hedge, "cash flows: Σ hedge_net_usd")
    elif hedge < 0:
        add(net, "Hedge premiums", -hedge, "cash flows: −Σ hedge_net_usd")
    add(net, "Debt service to NAEF investors", t["interest"] + t["principal"],
        "interest (incl. grace interest from the capitalised-interest account) + principal paid")
    add(net, "Trustee fees", t["fees"], "Σ fees_usd", keys.get("fees"))
    add(net, "Returned to PEMEX", t["returned"], "pledged receivables the waterfall did not need",
        keys.get("returned"))
    add(net, mdf, t["to_mdf"], "the residual: net revenues to the MDF", keys.get("to_mdf"))
    if portfolio is not None and portfolio["projects"]:
        by_sector: dict[str, float] = {}
        for p in portfolio["projects"]:
            by_sector[p["sector"]] = by_sector.get(p["sector"], 0.0) + float(p["cost_usd"])
        for sector, cost in sorted(by_sector.items(), key=lambda kv: -kv[1]):
            add(mdf, f"Investment: {sector}", cost, "planned cost of the selected projects (MDF portfolio)")
        add(mdf, "Not yet committed", t["to_mdf"] - sum(by_sector.values()),
            "MDF inflows less the selected projects' planned cost")
    else:
        add(mdf, "Investment (infrastructure, human capital, small enterprise)", t["to_mdf"],
            "the MDF invests its inflows (no portfolio given)")
    return out


def build(det: Doc | None, cf: pd.DataFrame | None, portfolio: Doc | None) -> Section | None:
    if det is None and cf is None:
        return None
    flows = _flows(det, cf, portfolio)
    if not flows:
        return None
    s = Section("swap", "The swap: where the money goes",
                "The study's diagram with this run's amounts: NAEF securities finance PEMEX developments; the net "
                "revenues of the added production, with the pledged export receivables, pay the investors; the "
                "residual goes to the Mexican Development Fund, which invests it.")
    origin = ("the deterministic run's summary (the scenario's decks)" if det is not None
              else "the deterministic run's cash flows (the scenario's decks)")
    s.blocks.append(Chart(
        "chart-sankey", "The energy-for-infrastructure swap (totals over the horizon)",
        f"Sankey diagram of nominal US dollar totals over the whole horizon from {origin}; link widths in USD bn. "
        "Node sizes are the larger of what flows in and out, so money that stays in accounts (reserves, trapped "
        "cash, closing balances) and debt service paid from the reserves show as imbalances. The flows are "
        "listed in the table below.",
        spec_json(fg.sankey_chart([f for f, _ in flows])),
    ))
    rows: list[tuple[Cell, ...]] = []
    for f, key in flows:
        cell = (figure_cell("deterministic", det, key, fmt.bn, css="num") if (key and det is not None)
                else Cell(usd_bn(f.value_usd, unit=False), css="num"))
        rows.append(cells(f.source, f.target, cell, f.basis))
    s.blocks.append(Table(("from", "to", "USD bn", "basis"), tuple(rows), (False, False, True, False),
                          title="Flows in the diagram"))
    return s

