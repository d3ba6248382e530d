"""IATI 2.03 activities from the demo ledger: valid against the official XSD, codes from the official codelists,
values equal to the ledger's."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree

from naef.disclosure import iati
from naef.disclosure.common import ExportCheckpoint
from naef.disclosure.errors import DisclosureError
from naef.disclosure.model import MDF_ORG_REF

from .conftest import IATI_DIR, DemoLayout, read_ledger

NS = {"naef": iati.NAEF_NS}


def codelist(name: str) -> set[str]:
    tree = etree.parse(str(IATI_DIR / f"{name}.xml"))
    return {str(code.text).strip() for code in tree.iterfind(".//codelist-item/code")}


@pytest.fixture(scope="module")
def export(demo_url: str) -> tuple[bytes, etree._Element]:
    entries, checkpoint = read_ledger(demo_url, iati.INPUT_TYPES)
    xml = iati.render(entries, checkpoint).files[iati.FILE]
    return xml, etree.fromstring(xml)


def activity(root: etree._Element, project_id: str) -> etree._Element:
    (found,) = [a for a in root.iterfind("iati-activity")
                if a.findtext("iati-identifier") == f"{MDF_ORG_REF}-{project_id}"]
    return found


def attr(el: etree._Element, path: str, name: str) -> str | None:
    found = el.find(path)
    assert found is not None, path
    return found.get(name)


def test_demo_export_is_valid_against_the_official_schema(export: tuple[bytes, etree._Element]) -> None:
    xml, root = export
    assert iati.validate(xml, IATI_DIR) == []
    assert root.get("version") == "2.03"
    assert len(root.findall("iati-activity")) == 4


def test_the_schema_check_rejects_a_broken_activity(export: tuple[bytes, etree._Element]) -> None:
    xml, _ = export
    broken = etree.fromstring(xml)
    first = broken.find("iati-activity")
    assert first is not None
    reporting = first.find("reporting-org")
    assert reporting is not None
    first.remove(reporting)  # required by the schema
    errors = iati.validate(etree.tostring(broken), IATI_DIR)
    assert errors
    assert any("reporting-org" in e for e in errors)


def test_codes_come_from_the_official_codelists(export: tuple[bytes, etree._Element]) -> None:
    _, root = export
    assert {e.get("code") for e in root.iter("transaction-type")} == {"2", "3", "4"} <= codelist("TransactionType")
    assert {e.get("code") for e in root.iter("activity-status")} <= codelist("ActivityStatus")
    assert {e.get("type") for e in root.iter("budget")} <= codelist("BudgetType")


def test_activities_carry_the_ledger_values(
    demo_url: str, demo_layout: DemoLayout, export: tuple[bytes, etree._Element]
) -> None:
    entries, _ = read_ledger(demo_url)
    proposals = {e.payload["proposal"]["proposal_id"]: e for e in entries if e.type == "disbursement_proposed"}
    executions = {e.payload["proposal_id"]: e for e in entries if e.type == "disbursement_executed"}
    _, root = export
    road = activity(root, "road-oaxaca-coast")
    assert attr(road, "activity-status", "code") == "2"
    assert [(s.get("vocabulary"), s.get("code"), s.get("percentage")) for s in road.iter("sector")] == [
        ("1", "21020", "100.00")
    ]
    location = road.find("location")
    assert location is not None
    assert location.get("ref") == "MX-OAX"
    assert location.findtext("name/narrative") == "Oaxaca"
    assert attr(road, "activity-scope", "code") == "6"
    txs = [(attr(t, "transaction-type", "code"), t.findtext("value"), t.get(f"{{{iati.NAEF_NS}}}entries"))
           for t in road.iter("transaction")]
    exe = executions["MDF-0001"]
    prop = proposals["MDF-0001"]
    assert txs[0][0] == "2"
    assert txs[0][1] == prop.payload["proposal"]["amount_usd"]
    assert str(prop.index) in str(txs[0][2]).split()
    assert txs[1] == ("4", exe.payload["amount_usd"], str(exe.index))  # works paid: expenditure
    # the project's entries and the BODS statement that identifies its payee (receiver-org/@ref, @type)
    payee = prop.payload["proposal"]["payee"]
    bods = [e.index for e in entries if e.type == "beneficial_ownership_statement"
            and e.payload["statement"]["recordId"] == payee]
    expected = sorted({*demo_layout.entries["MDF-0001"], bods[-1]})
    assert road.findtext("naef:ledger-entries", namespaces=NS) == " ".join(map(str, expected))
    # the other sectors of the brief's table
    assert attr(activity(root, "port-veracruz-terminal"), "sector", "code") == "21040"
    schools = activity(root, "schools-chihuahua")
    assert attr(schools, "sector", "code") == "11120"
    assert attr(schools, "location", "ref") == "MX-CHH"
    assert "benchmark flag" in (schools.findtext("description[@type='4']/narrative") or "")
    scholarships = activity(root, "scholarships-2029")
    assert attr(scholarships, "sector", "code") == "11420"
    assert scholarships.find("location") is None
    assert attr(scholarships, "activity-scope", "code") == "4"
    # every payment of the ledger is an IATI expenditure (works) or disbursement (scholarship fund), to the cent
    paid = sum(Decimal(str(t.findtext("value"))) for t in root.iter("transaction")
               if attr(t, "transaction-type", "code") in ("3", "4"))
    assert paid == sum(Decimal(e.payload["amount_usd"]) for e in executions.values())
    assert {attr(t, "transaction-type", "code") for t in scholarships.iter("transaction")} == {"2", "3"}
    # the approvers by name and role, and the conflict-of-interest refusal with its chain
    port_notes = activity(root, "port-veracruz-terminal").findtext("description[@type='4']/narrative") or ""
    assert "MDF-0002: approved by na-board-2 (north_american_board)" in port_notes
    assert "approval by na-board-1 refused (conflict_of_interest)" in port_notes
    assert "chain: demo-person-ana → demo-holding → demo-constructora" in port_notes


def test_defaults_spanish_and_the_oc4ids_cross_reference(export: tuple[bytes, etree._Element]) -> None:
    _, root = export
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    for a in root.iterfind("iati-activity"):
        assert attr(a, "default-flow-type", "code") == "50"
        assert attr(a, "default-aid-type", "code") == "C01"
        assert attr(a, "default-finance-type", "code") == "110"
        title = a.find("title")
        assert title is not None
        assert [n.get(lang) for n in title.iterfind("narrative")] == [None, "es"]
        assert (title.findtext("narrative[2]") or "").startswith("Proyecto del FMD ")
    road = activity(root, "road-oaxaca-coast")
    other = road.find("other-identifier")
    assert other is not None
    assert (other.get("ref"), other.get("type")) == ("oc4ids-naefmdf-road-oaxaca-coast", "A9")
    assert activity(root, "scholarships-2029").find("other-identifier") is None  # not in OC4IDS


def test_the_checkpoint_is_recorded_in_the_file(demo_url: str, export: tuple[bytes, etree._Element]) -> None:
    _, checkpoint = read_ledger(demo_url)
    _, root = export
    cp = root.find("naef:checkpoint", NS)
    assert cp is not None
    assert cp.get("size") == str(checkpoint.size)
    assert cp.get("root-hash") == checkpoint.root_hash.hex()
    assert cp.text == checkpoint.note


def test_a_ledger_without_proposals_has_nothing_to_publish() -> None:
    cp = ExportCheckpoint("o", 0, b"\0" * 32, "")
    with pytest.raises(DisclosureError, match="nothing to publish as IATI activities"):
        iati.render([], cp)
