"""The swap's flows (naef.analysis.flows): a hand-computed table gives hand-computed links; on real runs (with
hedges, PEMEX funding capex, an operating deficit, cash trapped at the end) every account balances; amounts
named by the summary equal it."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

import naef
from naef.analysis.flows import FLOW_COLUMNS, FlowsError, SwapFlows, balance_usd, swap_flows
from naef.format import lookup
from naef.scenario.models import Scenario


def _hand_table() -> pd.DataFrame:
    """Three periods written by hand (US$): issuance of 100 in period 0; capex 70 (5 of it before the proceeds
    could pay: PEMEX funds it); costs 2; reserves funded 20 (so a surplus of 100 − 65 − 2 − 20 = 13 released);
    sales 50/60/40, opex 10/10/45, duties 5/6/4, hedge +3/−1/0 → net 38/43/−9 (PEMEX covers 9); pledged 7 each;
    the DSRA still holds 4 at the end; debt service 65, fees 3, 7 returned to PEMEX and 56 to the MDF."""
    return pd.DataFrame({
        "period_start": ["2030-01-01", "2030-04-01", "2030-07-01"],
        "proceeds_usd": [100.0, 0.0, 0.0],
        "issuance_costs_usd": [2.0, 0.0, 0.0],
        "capex_usd": [70.0, 0.0, 0.0],
        "pemex_capex_funding_usd": [5.0, 0.0, 0.0],
        "construction_release_usd": [13.0, 0.0, 0.0],
        "construction_balance_usd": [0.0, 0.0, 0.0],
        "cia_balance_usd": [0.0, 0.0, 0.0],
        "dsra_balance_usd": [20.0, 12.0, 4.0],
        "trap_balance_usd": [0.0, 0.0, 0.0],
        "revenue_usd": [50.0, 60.0, 40.0],
        "opex_usd": [10.0, 10.0, 45.0],
        "duties_usd": [5.0, 6.0, 4.0],
        "hedge_net_usd": [3.0, -1.0, 0.0],
        "pemex_operating_deficit_usd": [0.0, 0.0, 9.0],
        "pledged_exports_usd": [7.0, 7.0, 7.0],
        "collections_usd": [45.0, 50.0, 7.0],
        "fees_usd": [1.0, 1.0, 1.0],
        "interest_paid_usd_A": [4.0, 4.0, 4.0],
        "principal_paid_usd_A": [10.0, 20.0, 23.0],
        "returned_to_pemex_usd": [0.0, 7.0, 0.0],
        "to_mdf_usd": [33.0, 19.0, 4.0],
    })


def test_a_hand_computed_table() -> None:
    f = swap_flows(_hand_table())
    expected = {
        ("investors", "naef"): 100.0, ("naef", "capex"): 65.0, ("pemex_funds", "capex"): 5.0,
        ("naef", "issuance_costs"): 2.0, ("naef", "reserves"): 20.0, ("naef", "collection"): 13.0,
        ("sales", "operations"): 150.0, ("hedge_payoffs", "operations"): 3.0, ("pemex_funds", "operations"): 9.0,
        ("operations", "opex"): 65.0, ("operations", "duties"): 15.0, ("operations", "hedge_premiums"): 1.0,
        ("operations", "collection"): 81.0, ("exports", "collection"): 21.0, ("reserves", "collection"): 16.0,
        ("reserves", "closing"): 4.0, ("collection", "debt_service"): 65.0, ("collection", "fees"): 3.0,
        ("collection", "returned"): 7.0, ("collection", "mdf"): 56.0,
    }
    assert {(x.source, x.target): x.amount_usd for x in f.links} == expected
    # in by hand: 13 + 81 + 21 + 16 = 131 into the collection account, 65 + 3 + 7 + 56 out
    assert f.inflow_usd("collection") == f.outflow_usd("collection") == 131.0
    assert f.inflow_usd("operations") == f.outflow_usd("operations") == 162.0
    assert f.inflow_usd("naef") == f.outflow_usd("naef") == 100.0
    assert f.inflow_usd("reserves") == f.outflow_usd("reserves") == 20.0
    assert f.size_usd("mdf") == 56.0
    assert [n.id for n in f.nodes][-1] == "mdf"


def _scenarios() -> list[tuple[str, Scenario]]:
    base = naef.load_scenario("baseline")
    hedged = base.model_dump()
    hedged["hedges"] = [{"kind": "put", "share_of_expected_production": 0.5, "put_strike_usd_per_bbl": 70.0,
                         "first_year": 2028, "last_year": 2036, "premium": "collections"}]
    low = base.model_dump()
    low["price"]["deck"] = [[y, 12.0] for y, _ in low["price"]["deck"]]
    # kept producing below their cash cost (by default they would be shut in), so PEMEX covers the oil fields' losses
    low["fields"] = [{**f, "shut_in": False} for f in low["fields"]]
    early_capex = base.model_dump()
    early_capex["fields"][0]["capex_usd"] = [40e9, *early_capex["fields"][0]["capex_usd"][1:]]
    return [("baseline", base), ("hedged", Scenario.model_validate(hedged)),
            ("low price deck", Scenario.model_validate(low)),
            ("capex before the proceeds", Scenario.model_validate(early_capex))]


@pytest.fixture(scope="module")
def runs() -> list[tuple[str, Any, SwapFlows]]:
    out = []
    for name, sc in _scenarios():
        r = naef.simulate(sc)
        out.append((name, r, swap_flows(r.table)))
    return out


def test_every_account_balances_on_real_runs(runs: list[tuple[str, Any, SwapFlows]]) -> None:
    for name, r, f in runs:
        scale = float(r.table["collections_usd"].sum()) + float(r.table["proceeds_usd"].sum())
        for node, imbalance in balance_usd(f).items():
            assert abs(imbalance) <= 1e-9 * scale + 0.5 * len(f.links), (name, node, imbalance)
        # the pass-through accounts are all there, and all money ends in a final use
        assert {"naef", "operations", "collection"} <= set(balance_usd(f)), name
        sources = sum(f.outflow_usd(n.id) for n in f.nodes if f.inflow_usd(n.id) == 0)
        sinks = sum(f.inflow_usd(n.id) for n in f.nodes if f.outflow_usd(n.id) == 0)
        assert sources == pytest.approx(sinks, rel=1e-9), name
        assert all(x.amount_usd > 0.5 for x in f.links)


def test_the_variants_exercise_what_they_should(runs: list[tuple[str, Any, SwapFlows]]) -> None:
    by_name = {name: f for name, _, f in runs}
    hedged = by_name["hedged"]
    assert hedged.amount_usd("hedge_payoffs", "operations") > 0 or hedged.amount_usd("operations",
                                                                                     "hedge_premiums") > 0
    low = by_name["low price deck"]
    assert low.amount_usd("collection", "mdf") < by_name["baseline"].amount_usd("collection", "mdf")
    assert low.amount_usd("pemex_funds", "operations") > 1e9  # PEMEX covers costs above revenue
    assert by_name["capex before the proceeds"].amount_usd("pemex_funds", "capex") > 1e9


def test_amounts_named_by_the_summary_equal_it(runs: list[tuple[str, Any, SwapFlows]]) -> None:
    for name, r, f in runs:
        named = [x for x in f.links if x.summary_key is not None]
        assert len(named) >= 6, name
        for x in named:
            assert math.isclose(float(lookup(r.summary, x.summary_key)), x.amount_usd, rel_tol=1e-9,
                                abs_tol=1.0), (name, x.summary_key)
        tot = r.summary["totals"]
        assert f.amount_usd("collection", "debt_service") == pytest.approx(
            tot["interest_paid_usd"] + tot["principal_paid_usd"], rel=1e-12)
        assert f.amount_usd("operations", "opex") == pytest.approx(tot["opex_usd"], rel=1e-12)


def test_a_table_without_a_column_is_refused() -> None:
    table = _hand_table()
    for col in FLOW_COLUMNS:
        with pytest.raises(FlowsError, match=rf"^cashflows: no '{col}' column"):
            swap_flows(table.drop(columns=[col]))
