"""BODS 0.4 as written (issue 20, item 2): ``beneficialOwnershipOrControl: true`` only for a natural person
(refused otherwise at import), and beneficial owners found through chains of ownership/control relationships —
the standard's own worked examples, a correctly layered chain, and the conflict-of-interest screen on it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from naef.ledger.approvals import ENTRY_BODS, import_bods, register_governance
from naef.ledger.bods import BodsError, check_beneficial_flags
from naef.ledger.interests import InterestDeclaration, OwnershipGraph, find_conflict
from naef.ledger.keys import generate_key
from naef.ledger.log import Ledger
from tests import data_paths
from tests.ledger.governed import GOVERNANCE, key

PERSON, COMPANY_B, COMPANY_A = "c25d4d612c2c", "d4ab89ea169a", "ad3f6c2fcc9e"
PRIMARY, B_OWNS_A, PERSON_OWNS_B = "d8d75ccf40e4", "4cf2837bd01f", "05e81af035e4"


def example(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((data_paths.BODS_EXAMPLES / name).read_text(encoding="utf-8"))
    return data


def layered(*, person_flag: bool, entity_flag: bool = False) -> list[dict[str, Any]]:
    """The standard's indirect-ownership example published as a layered chain: no primary relationship, the
    person's link (to Company B) and Company B's link (to Company A) as ordinary direct relationships."""
    out = []
    for st in copy.deepcopy(example("indirect-ownership.json")):
        if st["recordId"] == PRIMARY:
            continue
        st["recordDetails"]["isComponent"] = False
        if st["recordId"] == PERSON_OWNS_B:
            st["recordDetails"]["interests"] = [
                {"type": "shareholding", "directOrIndirect": "direct", "beneficialOwnershipOrControl": person_flag,
                 "share": {"exact": 80}}
            ]
        if st["recordId"] == B_OWNS_A:
            st["recordDetails"]["interests"][0]["beneficialOwnershipOrControl"] = entity_flag
        out.append(st)
    return out


def test_the_standards_indirect_example_gives_its_person_through_the_primary_relationship() -> None:
    graph = OwnershipGraph.from_statements(example("indirect-ownership.json"))
    (owner,) = graph.beneficial_owners(COMPANY_A)
    assert owner.person == PERSON
    assert owner.name == "Person 1"
    assert [link.record_id for link in owner.links] == [PRIMARY]
    assert set(owner.components) == {COMPANY_B, B_OWNS_A, PERSON_OWNS_B}


def test_a_correctly_layered_chain_gives_its_owner() -> None:
    graph = OwnershipGraph.from_statements(layered(person_flag=True))
    (owner,) = graph.beneficial_owners(COMPANY_A)
    assert owner.person == PERSON
    assert [link.record_id for link in owner.links] == [PERSON_OWNS_B, B_OWNS_A]
    assert owner.via == (COMPANY_B,)
    # the person is also the beneficial owner of Company B, directly
    assert [o.person for o in graph.beneficial_owners(COMPANY_B)] == [PERSON]


def test_a_person_whose_link_is_not_flagged_is_not_an_owner() -> None:
    assert OwnershipGraph.from_statements(layered(person_flag=False)).beneficial_owners(COMPANY_A) == ()


def test_a_flag_on_an_entity_link_makes_no_owner_of_the_entity() -> None:
    graph = OwnershipGraph.from_statements(layered(person_flag=False, entity_flag=True))
    assert graph.beneficial_owners(COMPANY_A) == ()


def test_the_conflict_screen_follows_a_layered_chain() -> None:
    graph = OwnershipGraph.from_statements(layered(person_flag=True))
    declaration = InterestDeclaration(declarant="na-1", party=PERSON, nature="spouse", declared_on="2030-01-01")
    chain = find_conflict(graph, [declaration], signer="na-1", payee=COMPANY_A)
    assert chain is not None
    assert chain.path == (PERSON, COMPANY_B, COMPANY_A)


def test_a_beneficial_owner_flag_on_an_entity_is_refused_at_import(tmp_path: Path) -> None:
    statements = layered(person_flag=True, entity_flag=True)
    index = next(n for n, st in enumerate(statements) if st["recordId"] == B_OWNS_A)
    sid = statements[index]["statementId"]
    with Ledger.init(str(tmp_path / "l.db"), generate_key("t.example/log").verifier()) as ledger:
        register_governance(ledger, GOVERNANCE)
        registrar = key("registrar")
        with pytest.raises(BodsError) as exc:
            import_bods(ledger, statements, signer=registrar, source="file.json")
        assert exc.value.message == (
            f"file.json: statement {index} (statementId {sid!r}): recordDetails.interests[0]."
            "beneficialOwnershipOrControl: true needs a natural person as interested party (BODS 0.4), but "
            f"{COMPANY_B!r} is an entity record"
        )
        assert ledger.size() == 1  # the governance only
        # the correct chain imports; a later flagged link from the (logged) entity is refused as well
        import_bods(ledger, layered(person_flag=True), signer=registrar)
        size = ledger.size()
        later = copy.deepcopy(statements[index])
        later["statementId"] = "0b9c8f0e-1f6e-4d6a-9a7c-5d1f2e3a4b5c"
        with pytest.raises(BodsError, match=f"but {COMPANY_B!r} is an entity record"):
            import_bods(ledger, [later], signer=registrar)
        assert ledger.size() == size
        assert len(list(ledger.entries(entry_type=ENTRY_BODS))) == size - 1


def test_a_flag_on_an_unknown_party_is_refused_and_an_unspecified_one_accepted() -> None:
    rel = {"recordId": "r", "recordType": "relationship", "statementId": "s",
           "recordDetails": {"subject": "co", "interestedParty": "who",
                             "interests": [{"type": "shareholding", "beneficialOwnershipOrControl": True}]}}
    with pytest.raises(BodsError, match="'who' is not a person record here or in the log"):
        check_beneficial_flags([rel])
    check_beneficial_flags([rel], known={"who": "person"})
    unspecified = copy.deepcopy(rel)
    unspecified["recordDetails"]["interestedParty"] = {"reason": "subjectUnableToConfirmOrIdentifyBeneficialOwner"}
    check_beneficial_flags([unspecified])
