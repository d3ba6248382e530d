"""The swap's money flows over the whole horizon of a deterministic run: one builder for every diagram of it.

``report.html``'s Sankey and the portal's Sankey both draw :func:`swap_flows` of the same cash-flow table
(``cashflows.csv``, ``SimulationResult.table``), so they show the same amounts under the same names and colours.

The definition: nominal US$ summed over every period; each node is an account or a party, and at every node that
money passes through, what flows in equals what flows out (to rounding; the test holds them to a dollar):

* **NAEF securities** (the construction account): in, the securities' proceeds from **NAEF investors**; out, the
  field capex it pays (capex − capex funded by PEMEX), the issuance costs (incl. a hedge premium paid from the
  proceeds), the reserves funded at issuance (initial DSRA + capitalised-interest account) and the surplus released
  into the waterfall (``construction_release_usd``); whatever is still in the account at the end goes to
  "held at the horizon's end".
* **Field development (capex)**: the capex, from the proceeds and from **PEMEX's own funds** (when the proceeds are
  not there yet: ``pemex_capex_funding_usd``).
* **Field operations**: in, the **sales of the added oil and gas** (``revenue_usd``), the net hedge payoffs of the
  periods in which the hedges pay more than their premiums, and PEMEX's cash covering an operating deficit
  (``pemex_operating_deficit_usd``: costs above revenue are PEMEX's, never the fund's); out, **operating costs**
  (all of ``opex_usd``), **duties to the Federation**, the net hedge premiums of the other periods, and the net
  revenues paid into the collection account (``collections_usd − pledged_exports_usd``). Per period
  ``revenue + hedge⁺ + deficit = opex + duties + hedge⁻ + max(revenue − opex − duties + hedge, 0)``.
* **Interest on the accounts** (``reinvestment_income_usd``, at ``reserve.reinvestment_rate``): shown flowing into
  the reserve accounts (the construction account's share included, as its surplus is released through them).
* **Reserve accounts** (DSRA, capitalised-interest account, cash trap): funded at issuance; over the horizon
  everything they hold is drawn for debt service or released into the waterfall, except the balances left at the
  end. Money moves both ways between them and the collection account (top-ups and trapped cash in; draws and
  releases out), so the diagram shows the net: reserves funded at issuance − closing balances.
* **Collection account** (the waterfall): in, net revenues, **pledged export receivables** (``pledged_exports_usd``),
  the construction surplus and the reserves' net; out, **debt service** (interest + principal, all tranches),
  **trustee fees**, export receivables **returned to PEMEX**, and the residual to the **Mexican Development
  Fund**. That it balances is the waterfall's cash identity (``naef.engine.waterfall``) summed over the periods.

The MDF's own investment is not a flow of this run (the portfolio section shows what it buys); the MDF is where
the diagram ends. Links of half a dollar or less are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from naef.errors import NaefError

__all__ = [
    "FLOW_COLUMNS",
    "MIN_LINK_USD",
    "NODES",
    "FlowLink",
    "FlowNode",
    "FlowsError",
    "SwapFlows",
    "balance_usd",
    "swap_flows",
]

#: the columns of the cash-flow table the flows read (``tranche`` columns: ``interest_paid_usd_<name>`` and
#: ``principal_paid_usd_<name>`` for every tranche)
FLOW_COLUMNS = (
    "proceeds_usd", "issuance_costs_usd", "capex_usd", "pemex_capex_funding_usd", "construction_release_usd",
    "construction_balance_usd", "cia_balance_usd", "dsra_balance_usd", "trap_balance_usd", "revenue_usd",
    "opex_usd", "duties_usd", "hedge_net_usd", "pemex_operating_deficit_usd", "pledged_exports_usd",
    "collections_usd", "fees_usd", "returned_to_pemex_usd", "to_mdf_usd",
)

#: the diagram's palette by role: financing (navy), PEMEX (teal), production (orange), costs and leakages (grey),
#: the Federation (plum), the MDF (gold, the point of the swap)
_NAVY, _TEAL, _ORANGE, _GREY, _PLUM, _GOLD = "#1f3b73", "#2a9d8f", "#e76f51", "#6c757d", "#8e5572", "#d4a017"


class FlowsError(NaefError):
    """A cash-flow table the flows cannot be read from (a column missing)."""


@dataclass(frozen=True)
class FlowNode:
    """A party or an account of the swap: ``id`` (stable, for code), ``label`` (for people), ``colour`` (hex)."""

    id: str
    label: str
    colour: str


@dataclass(frozen=True)
class FlowLink:
    """Money from one node to another over the horizon (nominal US$); ``basis`` says how it is computed from the
    cash-flow table, ``summary_key`` names the figure of the run's ``summary.json`` with the same amount (if one)."""

    source: str
    target: str
    amount_usd: float
    basis: str
    summary_key: str | None = None


#: every node the diagram can have, in drawing order (a run shows those its links use)
NODES: tuple[FlowNode, ...] = (
    FlowNode("investors", "NAEF investors", _NAVY),
    FlowNode("pemex_funds", "PEMEX's own funds", _TEAL),
    FlowNode("sales", "Sales of added oil & gas", _ORANGE),
    FlowNode("hedge_payoffs", "Hedge payoffs (net)", _GREY),
    FlowNode("exports", "Pledged exports (PEMEX)", _TEAL),
    FlowNode("income", "Interest on the accounts", _GREY),
    FlowNode("naef", "NAEF securities", _NAVY),
    FlowNode("operations", "Field operations", _ORANGE),
    FlowNode("capex", "Field development (capex)", _TEAL),
    FlowNode("issuance_costs", "Issuance costs", _GREY),
    FlowNode("opex", "Operating costs", _GREY),
    FlowNode("duties", "Duties to the Federation", _PLUM),
    FlowNode("hedge_premiums", "Hedge premiums (net)", _GREY),
    FlowNode("reserves", "Reserve accounts", _NAVY),
    FlowNode("collection", "Collection account", _NAVY),
    FlowNode("debt_service", "Debt service to NAEF investors", _NAVY),
    FlowNode("fees", "Trustee fees", _GREY),
    FlowNode("returned", "Returned to PEMEX", _TEAL),
    FlowNode("closing", "Held at the horizon's end", _GREY),
    FlowNode("mdf", "Mexican Development Fund", _GOLD),
)
_BY_ID = {n.id: n for n in NODES}

#: links of this amount (US$) or less are left out
MIN_LINK_USD = 0.5


@dataclass(frozen=True)
class SwapFlows:
    """The swap's flows of one deterministic run: the nodes its links use (in :data:`NODES` order) and the links."""

    nodes: tuple[FlowNode, ...]
    links: tuple[FlowLink, ...]
    unit: str = field(default="US$, nominal, summed over the horizon")

    def node(self, node_id: str) -> FlowNode:
        """The node ``node_id`` (``KeyError`` if the run has none)."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def inflow_usd(self, node_id: str) -> float:
        """What flows into ``node_id``."""
        return float(sum(link.amount_usd for link in self.links if link.target == node_id))

    def outflow_usd(self, node_id: str) -> float:
        """What flows out of ``node_id``."""
        return float(sum(link.amount_usd for link in self.links if link.source == node_id))

    def size_usd(self, node_id: str) -> float:
        """The node's size: the larger of its inflow and outflow (they are equal where money passes through)."""
        return max(self.inflow_usd(node_id), self.outflow_usd(node_id))

    def amount_usd(self, source: str, target: str) -> float:
        """The link's amount, 0 when the run has no such link."""
        return float(sum(x.amount_usd for x in self.links if x.source == source and x.target == target))

    def label(self, link: FlowLink) -> str:
        """"from → to" in people's names."""
        return f"{self.node(link.source).label} → {self.node(link.target).label}"


def _total(cf: pd.DataFrame, column: str) -> float:
    return float(cf[column].to_numpy(dtype=np.float64).sum())


def _last(cf: pd.DataFrame, column: str) -> float:
    return float(cf[column].to_numpy(dtype=np.float64)[-1]) if len(cf) else 0.0


def _tranche_total(cf: pd.DataFrame, prefix: str) -> float:
    cols = [c for c in cf.columns if str(c).startswith(prefix)]
    return float(sum(cf[c].to_numpy(dtype=np.float64).sum() for c in cols))


def swap_flows(cashflows: pd.DataFrame) -> SwapFlows:
    """The swap's flows from a deterministic run's cash-flow table (module docstring for the definition).

    Raises :class:`FlowsError` naming the first missing column.
    """
    for col in FLOW_COLUMNS:
        if col not in cashflows.columns:
            raise FlowsError(f"cashflows: no {col!r} column (pass the deterministic run's cashflows.csv)")
    cf = cashflows
    proceeds = _total(cf, "proceeds_usd")
    capex = _total(cf, "capex_usd")
    pemex_capex = _total(cf, "pemex_capex_funding_usd")
    costs = _total(cf, "issuance_costs_usd")
    surplus = _total(cf, "construction_release_usd")
    construction_left = _last(cf, "construction_balance_usd")
    # what the construction account paid into the reserve accounts at issuance (initial DSRA + capitalised-
    # interest account): the rest of its sources and uses
    reserves_funded = proceeds - (capex - pemex_capex) - costs - surplus - construction_left
    reserves_left = _last(cf, "dsra_balance_usd") + _last(cf, "cia_balance_usd") + _last(cf, "trap_balance_usd")
    # interest earned by the accounts (construction, capitalised interest, DSRA, trap) at the reinvestment rate;
    # shown as flowing into the reserve accounts (the construction account's share included), absent in old tables
    income = _total(cf, "reinvestment_income_usd") if "reinvestment_income_usd" in cf.columns else 0.0
    reserves_net = reserves_funded + income - reserves_left
    hedge = cf["hedge_net_usd"].to_numpy(dtype=np.float64)
    hedge_in, hedge_out = float(np.maximum(hedge, 0.0).sum()), float(np.maximum(-hedge, 0.0).sum())
    pledged = _total(cf, "pledged_exports_usd")
    net_revenue = _total(cf, "collections_usd") - pledged
    debt_service = _tranche_total(cf, "interest_paid_usd_") + _tranche_total(cf, "principal_paid_usd_")

    raw: list[FlowLink] = [
        FlowLink("investors", "naef", proceeds, "Σ proceeds_usd: the securities sold", "issuance_usd"),
        FlowLink("naef", "capex", capex - pemex_capex, "Σ capex_usd − Σ pemex_capex_funding_usd"),
        FlowLink("pemex_funds", "capex", pemex_capex, "Σ pemex_capex_funding_usd: capex before the proceeds arrive",
                 "sources_and_uses.capex_funded_by_pemex_usd"),
        FlowLink("naef", "issuance_costs", costs, "Σ issuance_costs_usd (incl. hedge premiums paid from proceeds)",
                 "sources_and_uses.uses.issuance_costs_usd"),
        FlowLink("naef", "reserves", reserves_funded, "initial DSRA + capitalised-interest account: proceeds − capex "
                 "paid − issuance costs − surplus released − construction balance left"),
        FlowLink("naef", "collection", surplus, "Σ construction_release_usd: unspent proceeds released into the "
                 "waterfall (they pay that period's debt service, then redeem the notes pro rata)"),
        FlowLink("income", "reserves", income, "Σ reinvestment_income_usd: interest earned by the accounts",
                 "totals.reinvestment_income_usd"),
        FlowLink("naef", "closing", construction_left, "construction_balance_usd at the end"),
        FlowLink("sales", "operations", _total(cf, "revenue_usd"), "Σ revenue_usd", "totals.revenue_usd"),
        FlowLink("hedge_payoffs", "operations", hedge_in, "Σ hedge_net_usd over the periods where it is positive"),
        FlowLink("pemex_funds", "operations", _total(cf, "pemex_operating_deficit_usd"),
                 "Σ pemex_operating_deficit_usd: PEMEX covers costs above revenue",
                 "totals.pemex_operating_deficit_usd"),
        FlowLink("operations", "opex", _total(cf, "opex_usd"), "Σ opex_usd", "totals.opex_usd"),
        FlowLink("operations", "duties", _total(cf, "duties_usd"), "Σ duties_usd", "totals.duties_usd"),
        FlowLink("operations", "hedge_premiums", hedge_out, "−Σ hedge_net_usd over the periods where it is negative"),
        FlowLink("operations", "collection", net_revenue, "Σ collections_usd − Σ pledged_exports_usd: "
                 "max(revenue − opex − duties + hedge, 0)"),
        FlowLink("exports", "collection", pledged, "Σ pledged_exports_usd"),
        FlowLink("reserves", "collection", reserves_net, "reserves funded at issuance − balances left at the end "
                 "(drawn for debt service or released, net of top-ups and trapped cash)"),
        FlowLink("reserves", "closing", reserves_left, "DSRA + capitalised-interest + cash-trap balances at the end"),
        FlowLink("collection", "debt_service", debt_service, "Σ interest_paid_usd_* + Σ principal_paid_usd_* "
                 "(all tranches; grace interest from the capitalised-interest account)"),
        FlowLink("collection", "fees", _total(cf, "fees_usd"), "Σ fees_usd", "totals.fees_usd"),
        FlowLink("collection", "returned", _total(cf, "returned_to_pemex_usd"),
                 "Σ returned_to_pemex_usd: pledged receivables the waterfall did not need",
                 "totals.returned_to_pemex_usd"),
        FlowLink("collection", "mdf", _total(cf, "to_mdf_usd"), "Σ to_mdf_usd: the waterfall's residual",
                 "totals.to_mdf_usd"),
    ]
    if reserves_net < 0:  # more trapped at the end than was funded at issuance: the net runs the other way
        raw = [x for x in raw if not (x.source == "reserves" and x.target == "collection")]
        raw.append(FlowLink("collection", "reserves", -reserves_net, "cash trapped or deposited in the reserve "
                            "accounts beyond what was funded at issuance, still held at the end"))
    links = tuple(x for x in raw if np.isfinite(x.amount_usd) and x.amount_usd > MIN_LINK_USD)
    used = {x.source for x in links} | {x.target for x in links}
    return SwapFlows(nodes=tuple(n for n in NODES if n.id in used), links=links)


def balance_usd(flows: SwapFlows, node_ids: Iterable[str] | None = None) -> dict[str, float]:
    """Inflow − outflow of every node money passes through (both flows in and out): zero to rounding."""
    ids = node_ids or [n.id for n in flows.nodes]
    return {i: flows.inflow_usd(i) - flows.outflow_usd(i) for i in ids
            if flows.inflow_usd(i) > 0 and flows.outflow_usd(i) > 0}
