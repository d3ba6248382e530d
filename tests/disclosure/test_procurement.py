"""Issue 20 (OC4IDS as CoST IDS reads it): the ledger knows how a contract was procured. A proposal may state
its procurement (OCDS method, number of tenderers, contract period); OC4IDS publishes it in the contracting
process (``tender.procurementMethod``, ``tender.numberOfTenderers``, ``contractPeriod``). Bad procurement input
is refused with one line naming the field (exit 2), nothing appended; a proposal without it is signed exactly
as before the field existed."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from naef.disclosure import oc4ids
from naef.ledger.approvals import DisbursementProposal, proposal_sha256
from naef.ledger.keys import SignerKey, write_key_pair
from naef.ledger.log import Ledger
from tests.cli_main import naef_main
from tests.ledger.governed import bootstrap, key

from .conftest import OC4IDS_DIR, read_ledger

BASE: dict[str, Any] = {"proposal_id": "MDF-1", "payee": "payee-1", "amount_usd": "10.00", "project_id": "road-1",
                        "purpose": "road", "proposer": "mx-1"}


def test_a_proposal_without_procurement_signs_as_before() -> None:
    p = DisbursementProposal.model_validate(BASE)
    before = {**BASE, "payee_name": "", "unit_cost": None}  # the proposal's JSON before the field existed
    assert proposal_sha256(p) == hashlib.sha256(rfc8785.dumps(before)).hexdigest()
    assert "procurement" not in p.model_dump(mode="json")


def test_the_demo_publishes_procurement_in_oc4ids(demo_url: str) -> None:
    entries, cp = read_ledger(demo_url, oc4ids.INPUT_TYPES)
    package = json.loads(oc4ids.render(entries, cp).files[oc4ids.FILE])
    assert oc4ids.validate(package, OC4IDS_DIR) == []
    methods = {row["Code"] for row in csv.DictReader((OC4IDS_DIR / "codelists" / "method.csv").open())}
    stated = {e.payload["proposal"]["payee"]: e.payload["proposal"]["procurement"] for e in entries
              if e.type == "disbursement_proposed" and "procurement" in e.payload["proposal"]}
    assert len(stated) == 3  # the three works contracts; the scholarship fund is a grant, not a contract
    seen = 0
    for project in package["projects"]:
        for process in project["contractingProcesses"]:
            summary = process["summary"]
            facts = stated[summary["suppliers"][0]["id"]]
            assert summary["tender"] == {"procurementMethod": facts["method"],
                                         "numberOfTenderers": facts["number_of_tenderers"]}
            assert summary["tender"]["procurementMethod"] in methods
            assert summary["contractPeriod"] == {"startDate": f"{facts['contract_start']}T00:00:00Z",
                                                 "endDate": f"{facts['contract_end']}T00:00:00Z"}
            seen += 1
    assert seen == 3


@pytest.mark.parametrize(
    ("procurement", "message"),
    [
        ({"method": "auction", "number_of_tenderers": 3, "contract_start": "2030-01-01",
          "contract_end": "2031-01-01"}, "procurement.method"),
        ({"method": "open", "number_of_tenderers": -1, "contract_start": "2030-01-01",
          "contract_end": "2031-01-01"}, "procurement.number_of_tenderers"),
        ({"method": "open", "number_of_tenderers": 2, "contract_start": "2031-01-01",
          "contract_end": "2030-01-01"}, "contract_end 2030-01-01 is before contract_start 2031-01-01"),
        ({"method": "direct", "number_of_tenderers": 2, "contract_start": "2030-01-01",
          "contract_end": "2031-01-01"}, "a direct award has one tenderer"),
        ({"method": "open", "number_of_tenderers": 2, "contract_start": "2030-02-30",
          "contract_end": "2031-01-01"}, "procurement.contract_start"),
        ({"method": "open", "number_of_tenderers": 2}, "procurement.contract_start"),
    ],
)
def test_bad_procurement_is_refused_with_one_line(
    tmp_path: Path, log_signer: SignerKey, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    procurement: dict[str, Any], message: str,
) -> None:
    url = str(tmp_path / "l.db")
    with Ledger.init(url, log_signer.verifier()) as ledger:
        bootstrap(ledger)
        size = ledger.size()
    write_key_pair(key("mx-1"), tmp_path)
    file = tmp_path / "p.json"
    file.write_text(json.dumps({**BASE, "procurement": procurement}))
    code, _, err = naef_main(monkeypatch, capsys, "ledger", "propose", url, str(file), "--key",
                             str(tmp_path / "mx-1.key"))
    assert code == 2
    assert err.startswith("error: ")
    assert message in err
    assert err.count("\n") == 1
    with Ledger.open(url) as ledger:
        assert ledger.size() == size
