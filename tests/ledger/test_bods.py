"""BODS 0.4 import: the standard's worked examples validate and import; invalid input names the statement and
the schema's reason and appends nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from naef.ledger.approvals import ENTRY_BODS, control_state, import_bods, register_governance
from naef.ledger.bods import BodsError, read_statements, validate_statements
from naef.ledger.log import Ledger
from tests import data_paths
from tests.ledger.governed import GOVERNANCE, key

EXAMPLES = sorted(data_paths.BODS_EXAMPLES.glob("*.json"))


def example(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((data_paths.BODS_EXAMPLES / name).read_text(encoding="utf-8"))
    return data


# ----------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_worked_example_of_the_standard_is_valid(path: Path) -> None:
    statements = read_statements(path)
    assert validate_statements(statements) == statements
    assert len(statements) >= 1


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d[3]["recordDetails"]["interests"][0].update(type="bribe"),
            "statement 3 (statementId '7fff3986-233f-413f-bec8-3b28c62a4a51'): "
            "recordDetails.interests[0].type: 'bribe' is not one of ['shareholding'",
        ),
        (
            lambda d: d[1].update(statementDate="2018-13-45"),
            "statement 1 (statementId 'e2bbe3ce-f5b4-42d0-bb68-9b405e8fd6a0'): statementDate: "
            "'2018-13-45' is not valid under any of the given schemas "
            "('2018-13-45' is not a 'date'; '2018-13-45' is not a 'date-time')",
        ),
        (
            lambda d: d[2].update(statementId="short"),
            "statement 2 (statementId 'short'): statementId: 'short' is too short",
        ),
        (
            lambda d: d[0].pop("recordType"),
            "statement 0 (statementId '8729fec1-eb01-4866-ba40-dd5525d43db8'): "
            "(statement): 'recordType' is a required property",
        ),
        (
            lambda d: d[2]["recordDetails"].update(birthDate=5),
            "statement 2 (statementId "
            "'6b9cfb52-505a-49cb-ab02-cc856a4e5c66'): recordDetails.birthDate: 5 is not of type 'string'",
        ),
        (
            lambda d: d.__setitem__(5, "not an object"),
            "statement 5: (statement): 'not an object' is not of type 'object'",
        ),
        (
            lambda d: d[5].update(statementId=d[4]["statementId"]),
            "statement 5 (statementId '860155d1-a4fb-4742-9735-7a7deb899075'): "
            "statementId repeats statement 4",
        ),
    ],
)
def test_invalid_statement_is_named_with_the_schema_reason(
    mutate: Callable[[Any], None], expected: str
) -> None:
    data = example("indirect-ownership.json")
    mutate(data)
    with pytest.raises(BodsError) as info:
        validate_statements(data, source="owners.json")
    assert str(info.value).startswith("owners.json: " + expected), str(info.value)


def test_not_an_array_and_not_json(tmp_path: Path) -> None:
    with pytest.raises(BodsError, match="expected a JSON array of BODS statements, got dict"):
        validate_statements(example("indirect-ownership.json")[0])
    bad = tmp_path / "bad.json"
    bad.write_text('[{"statementId": ', encoding="utf-8")
    with pytest.raises(BodsError, match=r"bad.json: not JSON \(line 1"):
        read_statements(bad)


def test_missing_schema_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BodsError, match=r"statement\.json not found"):
        validate_statements([], schema_dir=tmp_path)


# ----------------------------------------------------------------------------------------------- import


def test_import_all_valid_appends_all(ledger: Ledger) -> None:
    statements = example("multiple-indirect-ownership.json")
    register_governance(ledger, GOVERNANCE)
    indexes = import_bods(ledger, statements, signer=key("registrar"))
    assert list(indexes) == list(range(1, 1 + len(statements)))
    stored = [e.payload["statement"] for e in ledger.entries(entry_type=ENTRY_BODS)]
    assert stored == statements  # verbatim
    state = control_state(ledger)
    assert state.graph.names["92ebf964a1f6"] == "Person 1"
    assert len(state.graph.links) == 5


def test_any_invalid_statement_appends_nothing(ledger: Ledger) -> None:
    register_governance(ledger, GOVERNANCE)
    signer = key("registrar")
    import_bods(ledger, example("indirect-ownership.json"), signer=signer)
    size = ledger.size()
    bad = copy.deepcopy(example("joint-ownership.json"))
    bad[6]["recordDetails"]["interestedParty"] = 42
    with pytest.raises(
        BodsError, match=r"statement 6 \(statementId '[^']+'\): recordDetails.interestedParty"
    ):
        import_bods(ledger, bad, signer=signer)
    assert ledger.size() == size
    # statements already imported are refused as a whole too
    again = example("joint-ownership.json") + example("indirect-ownership.json")[:1]
    with pytest.raises(BodsError, match=r"statement 7 .*statementId already in the log"):
        import_bods(ledger, again, signer=signer)
    assert ledger.size() == size
