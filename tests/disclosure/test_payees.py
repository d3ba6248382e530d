"""Issue 20 (IATI): payees with ``@ref`` and ``@type``. A payee is a BODS record; IATI names it by the org-id of
the record's identifiers (``<approved registration-agency prefix>-<id>``, org-id.guide) and its IATI
OrganisationType from the BODS entity type; the statement it comes from is a leaf of the activity."""

from __future__ import annotations

from typing import Any

from lxml import etree

from naef.disclosure import iati
from naef.disclosure.orgid import PartyOrg, approved_prefixes, party_org

from .conftest import IATI_DIR, read_ledger


def _entity(record_id: str, *, identifiers: list[dict[str, str]] | None = None, kind: str = "registeredEntity",
            status: str = "new") -> dict[str, Any]:
    details: dict[str, Any] = {"isComponent": False, "entityType": {"type": kind}, "name": record_id}
    if identifiers is not None:
        details["identifiers"] = identifiers
    return {"recordId": record_id, "recordType": "entity", "recordStatus": status, "recordDetails": details}


def test_the_org_id_comes_from_an_approved_scheme_and_the_type_from_the_entity_type() -> None:
    rfc = {"scheme": "MX-RFC", "id": "CEJ010101AB1"}
    other = {"scheme": "NOT-A-REGISTRY", "id": "123"}
    assert party_org([(4, _entity("c", identifiers=[other, rfc]))], "c") == PartyOrg("MX-RFC-CEJ010101AB1", "70", 4)
    assert party_org([(4, _entity("c", identifiers=[other]))], "c") == PartyOrg(None, "70", 4)
    assert party_org([(4, _entity("c"))], "c") == PartyOrg(None, "70", 4)
    assert party_org([(4, _entity("s", kind="stateBody"))], "s").type == "10"
    assert party_org([(4, _entity("a", kind="arrangement"))], "a").type == "90"
    # BODS 0.4: the latest statement about a record replaces the earlier ones; a closed record has none
    later = [(4, _entity("c", identifiers=[rfc])), (9, _entity("c", identifiers=[]))]
    assert party_org(later, "c") == PartyOrg(None, "70", 9)
    closed = [(4, _entity("c", identifiers=[rfc])), (9, _entity("c", status="closed"))]
    assert party_org(closed, "c") == PartyOrg(None, None, None)
    person = {"recordId": "p", "recordType": "person", "recordStatus": "new", "recordDetails": {}}
    assert party_org([(2, person)], "p") == PartyOrg(None, None, 2)
    assert party_org([], "nobody") == PartyOrg(None, None, None)
    assert "MX-RFC" in approved_prefixes()
    assert "NOT-A-REGISTRY" not in approved_prefixes()


def test_the_demo_payees_carry_ref_and_type(demo_url: str) -> None:
    entries, cp = read_ledger(demo_url, iati.INPUT_TYPES)
    rendered = iati.render(entries, cp)
    xml = rendered.files[iati.FILE]
    assert iati.validate(xml, IATI_DIR) == []
    root = etree.fromstring(xml)
    orgs = root.findall(".//receiver-org") + root.findall(".//participating-org[@role='4']")
    assert orgs
    bods = {e.payload["statement"]["recordId"]: e.index for e in entries
            if e.type == "beneficial_ownership_statement"}
    leaves = {r.id: set(r.leaves) for r in rendered.records}
    for org in orgs:
        party = org.get("{urn:naef:ledger:1}party")
        assert org.get("ref") == f"XE-EXAMPLE-{party.upper()}"
        assert org.get("type") == "70"
        activity = org.iterancestors("iati-activity").__next__()
        assert bods[party] in leaves[f"iati-activity {activity.findtext('iati-identifier')}"]
        assert str(bods[party]) in activity.find("{urn:naef:ledger:1}ledger-entries").text.split()
