"""Issue 20 (IATI): commitments when approved. A proposal whose recorded approvals meet the governance's quorum is
committed (IATI transaction type 2) at the approval that completed the quorum, paid or not; a proposal short of
the quorum is not. The commitment's ``naef:entries`` name the proposal, the approvals and the governance entry
whose quorum rule it applies, and the bundle re-derives it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from naef.disclosure import export_bundle, iati, verify_bundle
from naef.disclosure.common import ExportCheckpoint
from naef.ledger.approvals import approve, execute, propose, sign_approval, sign_proposal
from naef.ledger.keys import SignerKey
from naef.ledger.log import Ledger
from tests.ledger.governed import bootstrap, key
from tests.ledger.test_governed_attacks import PAYEE, proposal

from .conftest import IATI_DIR

LATER = datetime(2040, 1, 1, tzinfo=UTC)


def _transactions(xml: bytes) -> list[tuple[str, str, str, str]]:
    root = etree.fromstring(xml)
    return [
        (t.get("ref", ""), t.find("transaction-type").get("code", ""), t.find("value").text or "",
         t.get("{urn:naef:ledger:1}entries", ""))
        for t in root.iter("transaction")
    ]


def test_a_quorum_commits_before_the_payment(tmp_path: Path, log_signer: SignerKey) -> None:
    url = str(tmp_path / "l.db")
    t = [datetime(2030, 1, d, tzinfo=UTC) for d in range(1, 12)]
    with Ledger.init(url, log_signer.verifier()) as ledger:
        bootstrap(ledger, payees=(PAYEE,), funds_usd="100000000.00")  # governance is entry 0
        first = propose(ledger, sign_proposal(proposal("MDF-1"), key("mx-1")), time=t[0])[0]
        propose(ledger, sign_proposal(proposal("MDF-2", amount="5000000.00"), key("mx-1")), time=t[1])
        propose(ledger, sign_proposal(proposal("MDF-3", amount="7000000.00"), key("mx-1")), time=t[2])
        idx = {}
        for n, (pid, signer) in enumerate([("MDF-1", "mx-2"), ("MDF-1", "na-1"), ("MDF-1", "controller"),
                                           ("MDF-2", "mx-2"), ("MDF-2", "na-1"), ("MDF-2", "controller"),
                                           ("MDF-3", "mx-2")]):
            p = proposal(pid, amount={"MDF-1": "25000000.00", "MDF-2": "5000000.00", "MDF-3": "7000000.00"}[pid])
            idx[pid, signer] = approve(ledger, sign_approval(p, key(signer)), time=t[3 + n])
        execute(ledger, "MDF-2", time=t[10])
        ledger.checkpoint(log_signer)
        cp = ledger.latest_checkpoint()
        assert cp is not None
        entries = [e for e in ledger.entries() if e.type in iati.INPUT_TYPES]
        gov = next(e.index for e in ledger.entries() if e.type == "governance_registered")
        checkpoint = ExportCheckpoint(ledger.origin, cp.size, cp.root_hash, cp.note)
    xml = iati.render(entries, checkpoint).files[iati.FILE]
    assert iati.validate(xml, IATI_DIR) == []
    txs = _transactions(xml)
    # MDF-1: approved by the quorum (1 MX, 1 NA, the controller), not paid: a commitment at the controller's
    # approval, naming the proposal, the three approvals and the governance
    mdf1 = [x for x in txs if x[0] == "MDF-1"]
    approvals = sorted(idx["MDF-1", s] for s in ("mx-2", "na-1", "controller"))
    assert [x[1:3] for x in mdf1] == [("2", "25000000.00")]
    assert [int(i) for i in mdf1[0][3].split()] == sorted([gov, first, *approvals])
    date_of = {t.get("ref"): t.find("transaction-date").get("iso-date") for t in etree.fromstring(xml).iter(
        "transaction") if t.find("transaction-type").get("code") == "2"}
    assert date_of["MDF-1"] == t[5].date().isoformat()
    # MDF-2: committed and paid (works: expenditure, 4)
    assert [x[1] for x in txs if x[0] == "MDF-2"] == ["2", "4"]
    # MDF-3: one approval, short of the quorum: no commitment
    assert [x for x in txs if x[0] == "MDF-3"] == []
    # the bundle re-derives it (published in 2040, after the ledger's dates)
    export_bundle(url, "iati", tmp_path / "b", now=LATER)
    # header, activity, organisation file, BODS package (the payee's statement)
    assert verify_bundle(tmp_path / "b", log_signer.verifier(), now=LATER).records == 4
    assert ("MDF-1", "2", "25000000.00") in [x[:3] for x in _transactions((tmp_path / "b" / iati.FILE).read_bytes())]
