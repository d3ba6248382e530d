"""Pure view functions: the MDF by sector and state from ledger payloads, the Sankey from a deterministic run."""

from __future__ import annotations

import math

import pytest

from naef import load_scenario, simulate
from naef.analysis.flows import swap_flows
from naef.report.figures import sankey_chart
from naef.web.mdf_view import sector_of, state_from_id, summarise
from naef.web.results import jsonable, sankey


@pytest.mark.parametrize(
    ("project_id", "state"),
    [
        ("road-oaxaca-coast", "MX-OAX"),
        ("schools-chihuahua", "MX-CHH"),
        ("rail_nuevo_leon_2", "MX-NLE"),
        ("baja-california-sur-airport", "MX-BCS"),  # the longest matching name wins
        ("baja-california-port", "MX-BCN"),
        ("Puerto de Veracruz", "MX-VER"),
        ("michoacán-roads", "MX-MIC"),
        ("mx-zac-water", "MX-ZAC"),
        ("scholarships-2029", None),
        ("mexico-wide-fund", None),  # "mexico" alone is the country, not the state
        ("oaxacan", None),  # whole words only
    ],
)
def test_state_from_project_id(project_id: str, state: str | None) -> None:
    assert state_from_id(project_id) == state


def test_sector_of_unit_cost_types() -> None:
    assert [sector_of(t) for t in ("road_new_two_lane", "railway_high_speed", "seaport_container_terminal",
                                   "airport_terminal", "school_construction", "scholarship",
                                   "small_enterprise_loans", None, "water_plant")] == [
        "road", "railway", "seaport", "airport", "education", "education", "small_enterprise", "unspecified",
        "water_plant"]


def _proposed(pid: str, project: str, amount: str, ptype: str | None = None) -> tuple[str, dict[str, object]]:
    proposal: dict[str, object] = {"proposal_id": pid, "project_id": project, "payee": "p", "amount_usd": amount,
                                   "purpose": "x", "proposer": "a"}
    if ptype:
        proposal["unit_cost"] = {"project_type": ptype, "unit": "u", "quantity": 1, "contract_cost_usd": amount}
    return "disbursement_proposed", {"proposal": proposal, "proposal_sha256": "0" * 64, "signature": ""}


def test_summarise_folds_projects() -> None:
    entries = [
        _proposed("P1", "road-oaxaca-1", "100.00", "road_new_two_lane"),
        _proposed("P2", "road-oaxaca-1", "50.50", "road_new_two_lane"),
        _proposed("P3", "hub-x", "10.00"),
        ("project_register", {"project_id": "hub-x", "state": "MX-JAL", "sector": "airport"}),
        ("disbursement_executed", {"proposal_id": "P1", "amount_usd": "100.00"}),
        ("disbursement_executed", {"proposal_id": "unknown", "amount_usd": "7.00"}),
        ("project_milestone", {"project_id": "hub-x", "milestone": "works started", "status": "started",
                               "on": "2030-01-01"}),
        ("waterfall_payment", {"step": "mdf_residual", "amount_usd": "1000.00", "payee": "MDF", "period": "q"}),
        ("waterfall_payment", {"step": "interest", "amount_usd": "5.00", "payee": "x", "period": "q"}),
        # the flat base payload shape of naef.ledger.entries
        ("disbursement_proposed", {"proposal_id": "P4", "project_id": "rail-x", "payee": "q", "amount_usd": "1.00",
                                   "purpose": "y", "proposer": "b", "details": {"project_type": "railway_x"}}),
    ]
    s = summarise(entries)
    by_id = {p.project_id: p for p in s.projects}
    road = by_id["road-oaxaca-1"]
    assert (road.sector, road.state, road.state_inferred) == ("road", "MX-OAX", True)
    assert str(road.proposed_usd) == "150.50"
    assert str(road.disbursed_usd) == "100.00"
    assert road.status == "disbursing"
    hub = by_id["hub-x"]
    assert (hub.sector, hub.state, hub.state_inferred, hub.status) == ("airport", "MX-JAL", False, "started")
    assert by_id["rail-x"].sector == "railway"
    assert by_id["rail-x"].state == "unknown"
    assert str(s.received_usd) == "1000.00"
    assert str(s.disbursed_usd) == "100.00"
    assert s.by_sector["road"] == {"projects": 1, "proposed_usd": "150.50", "disbursed_usd": "100.00"}
    assert set(s.by_state) == {"MX-OAX", "MX-JAL", "unknown"}


def test_sankey_carries_the_runs_totals() -> None:
    result = simulate(load_scenario("baseline"))
    s = sankey(result.summary, result.table)
    links = {(s["nodes"][link["source"]], s["nodes"][link["target"]]): link["value_usd"] for link in s["links"]}
    tot = result.summary["totals"]
    su = result.summary["sources_and_uses"]
    assert links[("NAEF investors", "NAEF securities")] == su["sources"]["securities_proceeds_usd"]
    assert links[("Collection account", "Mexican Development Fund")] == pytest.approx(tot["to_mdf_usd"], rel=1e-12)
    assert links[("Collection account", "Debt service to NAEF investors")] == pytest.approx(
        tot["interest_paid_usd"] + tot["principal_paid_usd"])
    assert links[("Field operations", "Duties to the Federation")] == pytest.approx(tot["duties_usd"], rel=1e-12)
    # operating costs are all of opex (PEMEX's cash covering a deficit comes in as its own flow)
    assert links[("Field operations", "Operating costs")] == pytest.approx(tot["opex_usd"], rel=1e-12)
    # money into the collection account = money out of it, to the cent of a rounding (balances end at zero)
    into = sum(v for (a, b), v in links.items() if b == "Collection account")
    out = sum(v for (a, b), v in links.items() if a == "Collection account")
    assert into == pytest.approx(out, rel=1e-9)
    assert all(v > 0 for v in links.values())
    # the portal draws the figure report.html draws, from the same flows
    assert s["figure"] == sankey_chart(swap_flows(result.table))
    assert s["node_colours"] == [n.colour for n in swap_flows(result.table).nodes]


def test_jsonable_makes_strict_json() -> None:
    import numpy as np

    out = jsonable({"a": np.float64("nan"), "b": [np.int64(3), math.inf], "c": np.array([1.5, np.nan])})
    assert out == {"a": None, "b": [3, None], "c": [1.5, None]}
