"""OC4IDS 0.9.4 project package from the demo ledger: valid against the official JSON schema (its ``$ref`` to the
project schema resolved locally), codes from the official codelists, beneficial owners from BODS."""

from __future__ import annotations

import copy
import csv
import json
from typing import Any

import pytest

from naef.disclosure import oc4ids
from naef.disclosure.common import ExportCheckpoint
from naef.disclosure.errors import DisclosureError

from .conftest import OC4IDS_DIR, DemoLayout, read_ledger


def codelist(name: str) -> set[str]:
    with (OC4IDS_DIR / "codelists" / f"{name}.csv").open(encoding="utf-8") as fh:
        return {row["Code"] for row in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def package(demo_url: str) -> dict[str, Any]:
    entries, checkpoint = read_ledger(demo_url, oc4ids.INPUT_TYPES)
    data = oc4ids.render(entries, checkpoint).files[oc4ids.FILE]
    parsed: dict[str, Any] = json.loads(data)
    return parsed


def project(package: dict[str, Any], ledger_id: str) -> dict[str, Any]:
    (found,) = [p for p in package["projects"] if p["id"] == oc4ids.project_id(ledger_id)]
    return found


def test_demo_package_is_valid_against_the_official_schema(package: dict[str, Any]) -> None:
    assert oc4ids.validate(package, OC4IDS_DIR) == []
    assert package["version"] == "0.9"
    # scholarships are not infrastructure: three of the four MDF projects
    assert [p["identifiers"][0]["id"] for p in package["projects"]] == [
        "road-oaxaca-coast", "port-veracruz-terminal", "schools-chihuahua"
    ]


@pytest.mark.parametrize(
    ("path", "value", "complaint"),
    [
        (("projects", 0, "status"), "finished", "is not one of"),
        (("projects", 0, "parties", 1, "beneficialOwners"), [], "should be non-empty"),
        (("projects", 0, "updated"), "30 June 2027", "is not a 'date-time'"),
        (("publisher",), {}, "'name' is a required property"),
    ],
)
def test_the_schema_check_rejects_invalid_packages(
    package: dict[str, Any], path: tuple[Any, ...], value: Any, complaint: str
) -> None:
    broken = copy.deepcopy(package)
    target = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    errors = oc4ids.validate(broken, OC4IDS_DIR)
    assert any(complaint in e for e in errors), errors


def test_codes_come_from_the_official_codelists(package: dict[str, Any]) -> None:
    sectors, roles = codelist("projectSector"), codelist("partyRole")
    for p in package["projects"]:
        assert set(p["sector"]) <= sectors
        assert p["status"] in codelist("projectStatus")
        assert p["type"] in codelist("projectType")
        for party in p["parties"]:
            assert set(party["roles"]) <= roles
        for cm in p["costMeasurements"]:
            assert {g["category"] for g in cm["costGroups"]} <= codelist("costCategory")
        for cp in p["contractingProcesses"]:
            assert cp["summary"]["status"] in codelist("contractingProcessStatus")
            assert set(cp["summary"]["nature"]) <= codelist("contractNature")
        for m in p.get("milestones", []):
            assert m["status"] in codelist("milestoneStatus")


def test_parties_carry_the_beneficial_owners_of_the_bods_statements(package: dict[str, Any]) -> None:
    port = project(package, "port-veracruz-terminal")
    payee = next(p for p in port["parties"] if p["id"] == "demo-constructora")
    assert payee["name"] == "Constructora Ejemplo SA de CV (fictional)"
    assert payee["beneficialOwners"] == [{"id": "demo-person-ana", "name": "Ana Ejemplo (fictional)"}]
    # the BODS statements behind them (payee, holding, person, both links) are among the project's entries
    assert {5, 6, 7, 8, 9} <= set(port["naefLedgerEntries"])
    road = project(package, "road-oaxaca-coast")
    assert "beneficialOwners" not in next(p for p in road["parties"] if p["id"] == "demo-autopistas-sur")


def test_projects_carry_the_ledger_values(demo_url: str, demo_layout: DemoLayout, package: dict[str, Any]) -> None:
    entries, _ = read_ledger(demo_url)
    executed = {e.payload["proposal_id"]: e for e in entries if e.type == "disbursement_executed"}
    schools = project(package, "schools-chihuahua")
    assert schools["sector"] == ["education"]
    assert schools["locations"][0]["gazetteer"] == {"scheme": "ISO3166-2", "identifiers": ["MX-CHH"]}
    # total project value: the contract's value; the MDF's share beside it
    assert schools["budget"]["amount"] == {"amount": 180_000_000.0, "currency": "USD"}
    (share,) = schools["budget"]["budgetBreakdowns"]
    assert share["id"] == "mdf-share"
    assert [b["amount"]["amount"] for b in share["budgetBreakdown"]] == [45_000_000.0]
    assert "transactions" not in schools  # each payment once: in its contracting process
    (tx,) = schools["contractingProcesses"][0]["summary"]["transactions"]
    assert tx["naefLedgerEntry"] == executed["MDF-0003"].index
    assert tx["value"]["amount"] == float(executed["MDF-0003"].payload["amount_usd"])
    (cost,) = schools["costMeasurements"]
    assert cost["costGroups"][0]["costs"][0]["value"]["amount"] == 180_000_000.0
    assert "benchmark flag" in cost["costGroups"][0]["costs"][0]["classification"]["description"]
    assert schools["milestones"] == [
        {"id": "1", "title": "disbursement MDF-0003 paid", "status": "met",
         "type": "payment", "dateMet": f"{demo_layout.paid_on['MDF-0003']}T00:00:00Z"}
    ]


def test_the_checkpoint_is_recorded_in_the_package(demo_url: str, package: dict[str, Any]) -> None:
    _, checkpoint = read_ledger(demo_url)
    assert package["naefLedgerCheckpoint"] == {
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "rootHash": checkpoint.root_hash.hex(),
        "note": checkpoint.note,
    }


def test_a_ledger_without_infrastructure_projects_has_nothing_to_publish() -> None:
    with pytest.raises(DisclosureError, match="no MDF infrastructure project"):
        oc4ids.render([], ExportCheckpoint("o", 0, b"\0" * 32, ""))


def test_the_demo_publishes_a_correctly_layered_chain_and_its_owner(demo_url: str, package: dict[str, Any]) -> None:
    """BODS 0.4: only the person's link is flagged; the entity link is not, and the owner is still found."""
    entries, _ = read_ledger(demo_url, frozenset({"beneficial_ownership_statement"}))
    flags = {
        (st["recordDetails"]["interestedParty"], st["recordDetails"]["subject"]):
            [i["beneficialOwnershipOrControl"] for i in st["recordDetails"]["interests"]]
        for st in (e.payload["statement"] for e in entries) if st["recordType"] == "relationship"
    }
    assert flags == {("demo-holding", "demo-constructora"): [False], ("demo-person-ana", "demo-holding"): [True]}
    port = project(package, "port-veracruz-terminal")
    payee = next(p for p in port["parties"] if p["id"] == "demo-constructora")
    assert payee["beneficialOwners"] == [{"id": "demo-person-ana", "name": "Ana Ejemplo (fictional)"}]


def test_the_bundle_carries_the_bods_statements_as_a_valid_bods_package(demo_url: str) -> None:
    from naef.disclosure import bods_package
    from naef.ledger.bods import validate_statements

    entries, checkpoint = read_ledger(demo_url, oc4ids.INPUT_TYPES)
    rendered = oc4ids.render(entries, checkpoint)
    statements = json.loads(rendered.files[bods_package.FILE])
    assert statements == [e.payload["statement"] for e in entries if e.type == "beneficial_ownership_statement"]
    assert validate_statements(statements) == statements  # the official BODS 0.4 schema shipped with naef
    (record,) = [r for r in rendered.records if r.id == bods_package.RECORD]
    assert record.files == (bods_package.FILE,)
    assert list(record.leaves) == [e.index for e in entries if e.type == "beneficial_ownership_statement"]


def test_each_payment_once_and_one_cost_measurement_per_contract(demo_url: str) -> None:
    """A second tranche to the same contractor adds a payment and a budget line, not a second contract cost."""
    entries, checkpoint = read_ledger(demo_url, oc4ids.INPUT_TYPES)
    first = next(e for e in entries if e.type == "disbursement_proposed"
                 and e.payload["proposal"]["proposal_id"] == "MDF-0001")
    last = max(e.index for e in entries)

    def again(e: Any, index: int, payload: dict[str, Any]) -> Any:
        return type(e)(index, e.type, e.time, payload, e.canonical, e.leaf_hash)

    second = copy.deepcopy(dict(first.payload))
    second["proposal"]["proposal_id"] = "MDF-0001b"
    executed = next(e for e in entries if e.type == "disbursement_executed" and e.payload["proposal_id"] == "MDF-0001")
    paid = {**executed.payload, "proposal_id": "MDF-0001b"}
    more = [*entries, again(first, last + 1, second), again(executed, last + 2, paid)]
    package = json.loads(oc4ids.render(more, checkpoint).files[oc4ids.FILE])
    road = project(package, "road-oaxaca-coast")
    assert len(road["costMeasurements"]) == 1
    assert road["budget"]["amount"]["amount"] == 180_000_000.0
    assert len(road["budget"]["budgetBreakdowns"][0]["budgetBreakdown"]) == 2
    (process,) = road["contractingProcesses"]
    assert [t["id"] for t in process["summary"]["transactions"]] == ["MDF-0001", "MDF-0001b"]
    every = [t for p in package["projects"] for t in p.get("transactions", [])]
    assert every == []
    assert oc4ids.validate(package, OC4IDS_DIR) == []


def test_the_package_names_its_publisher_and_licence(package: dict[str, Any]) -> None:
    assert package["publisher"] == {"name": "Mexican Development Fund (MDF)", "scheme": "XE-EXAMPLE",
                                    "uid": "NAEF-MDF"}
    assert package["license"] == "https://creativecommons.org/licenses/by/4.0/"


def test_projects_point_at_their_iati_activity(package: dict[str, Any]) -> None:
    road = project(package, "road-oaxaca-coast")
    assert {"id": "XE-EXAMPLE-NAEF-MDF-road-oaxaca-coast", "scheme": "IATI"} in road["identifiers"]
