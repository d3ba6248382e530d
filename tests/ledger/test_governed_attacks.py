"""Issue 14 items 1-6: every attack of the issue's "Why" reproduced through each way in — the Python API
(``Ledger.append``), the CLI, the web API and raw SQL — on SQLite and PostgreSQL. Each is refused at append
(nothing appended) or named by ``audit`` / ``verify`` (exit 2, never a traceback, never a 500)."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from naef.ledger.approvals import (
    ENTRY_APPROVED,
    ENTRY_EXECUTED,
    ENTRY_INTEREST,
    ENTRY_RECEIPT,
    DisbursementProposal,
    InsufficientFundsError,
    MdfReceipt,
    RuleViolationError,
    approve,
    control_state,
    declare_interest,
    execute,
    import_bods,
    propose,
    record_receipt,
    sign_approval,
    sign_declaration,
    sign_proposal,
    sign_receipt,
)
from naef.ledger.audit import audit
from naef.ledger.benchmarking import UnitCostClaim
from naef.ledger.errors import LedgerError, VerificationError
from naef.ledger.interests import InterestDeclaration
from naef.ledger.keys import SIG_COSIGNATURE_V1, SignerKey, write_key_pair
from naef.ledger.log import Ledger
from tests.cli_main import naef_main
from tests.ledger.governed import around_the_rules, bootstrap, entity_statement, key

PAYEE = "demo-constructora"


def proposal(pid: str = "MDF-1", *, payee: str = PAYEE, amount: str = "25000000.00") -> DisbursementProposal:
    return DisbursementProposal(
        proposal_id=pid, payee=payee, payee_name="Constructora (fictional)", amount_usd=amount,
        project_id="road-1", purpose="road", proposer="mx-1",
        unit_cost=UnitCostClaim(project_type="road_new_two_lane", unit="lane_km", quantity=50,
                                contract_cost_usd="50000000.00"),
    )


@pytest.fixture
def governed(db_url: str, log_key: SignerKey) -> Iterator[Ledger]:
    """A governed ledger: governance, the payee's BODS record, USD 100 M received, one proposal."""
    with Ledger.init(db_url, log_key.verifier()) as ledger:
        bootstrap(ledger, payees=(PAYEE,), funds_usd="100000000.00")
        propose(ledger, sign_proposal(proposal(), key("mx-1")))
        yield ledger


def forged_execution(amount: str = "25000000.00") -> dict[str, Any]:
    from naef.ledger.approvals import proposal_sha256

    return {"proposal_id": "MDF-1", "proposal_sha256": proposal_sha256(proposal()), "payee": PAYEE,
            "amount_usd": amount, "approvals": ["controller", "mx-2", "na-1"], "benchmark_flagged": False}


def random_signature_approval(signer: str) -> dict[str, Any]:
    genuine = sign_approval(proposal(), key(signer)).model_dump(mode="json")
    return {**genuine, "signature": base64.b64encode(os.urandom(64)).decode(), "role": "north_american_board"}


def audit_fails(ledger: Ledger, rule: str, index: int) -> None:
    report = audit(ledger.entries())
    assert not report.ok
    first = report.first_fault
    assert first is not None
    assert (first.index, first.rule) == (index, rule), first.message


# ------------------------------------------------------------------- 1. one way in: executions, approvals


def test_an_execution_without_approvals_is_refused_at_append_and_named_by_audit(governed: Ledger) -> None:
    size = governed.size()
    with pytest.raises(RuleViolationError, match=rf"entry {size} \(disbursement_executed\): rule quorum_not_met"):
        governed.append(ENTRY_EXECUTED, forged_execution())
    assert governed.size() == size
    index = around_the_rules(governed, ENTRY_EXECUTED, forged_execution())
    assert governed.verify().size == size + 1  # the log is consistent: verify alone cannot see it ...
    audit_fails(governed, "quorum_not_met", index)  # ... audit does
    # the fold never takes it as a fact
    assert control_state(governed).proposals["MDF-1"].executed_index is None


def test_approvals_with_random_signatures_are_refused_and_named(governed: Ledger) -> None:
    size = governed.size()
    for signer in ("mx-2", "na-1", "controller"):
        with pytest.raises(RuleViolationError, match="rule bad_signature"):
            governed.append(ENTRY_APPROVED, random_signature_approval(signer))
    assert governed.size() == size
    index = around_the_rules(governed, ENTRY_APPROVED, random_signature_approval("na-1"))
    audit_fails(governed, "bad_signature", index)


def test_a_genuine_flow_passes_the_gate_and_the_audit(governed: Ledger) -> None:
    for signer in ("mx-2", "na-1", "controller"):
        approve(governed, sign_approval(proposal(), key(signer)))
    execute(governed, "MDF-1")
    report = audit(governed.entries())
    assert report.ok, report.line()
    assert report.admitted[ENTRY_EXECUTED] == 1
    assert str(report.balance_usd) == "75000000.00"
    assert report.line().startswith("ok: ")


# ------------------------------------------------------------------------------------ 2. payees are records


@pytest.mark.parametrize(
    ("payee", "reason"),
    [
        ("DEMO-CONSTRUCTORA", "not the recordId of a BODS entity or person"),
        ("Constructora Ejemplo SA de CV", "U+0020"),
        (PAYEE + " ", "U+0020"),
        ("demo-\u200bconstructora", "U+200B"),
        ("demo-constructora\u00a0", "U+00A0"),
    ],
)
def test_a_payee_spelled_otherwise_is_refused(governed: Ledger, payee: str, reason: str) -> None:
    size = governed.size()
    with pytest.raises((LedgerError, ValueError), match=re.escape(reason)):
        propose(governed, sign_proposal(proposal("MDF-2", payee=payee), key("mx-1")))
    assert governed.size() == size


def test_a_payee_matches_after_nfc(governed: Ledger) -> None:
    # "é" precomposed in the record, decomposed in the proposal: the same identifier after NFC
    import_bods(governed, [entity_statement("caf\u00e9-sa")], signer=key("registrar"))
    propose(governed, sign_proposal(proposal("MDF-3", payee="cafe\u0301-sa"), key("mx-1")))


# --------------------------------------------------------------------------- 3. declarations and BODS signed


def test_a_declaration_in_someone_elses_name_is_refused(governed: Ledger) -> None:
    decl = InterestDeclaration(declarant="na-1", party=PAYEE, nature="invented", declared_on=date(2030, 1, 1))
    with pytest.raises(LedgerError, match="does not belong to the declarant"):
        sign_declaration(decl, key("na-2"))
    forged = sign_declaration(decl, SignerKey("na-1", key("na-2").seed))  # right name, wrong key
    size = governed.size()
    with pytest.raises(LedgerError, match="signature does not verify with na-1's registered key"):
        declare_interest(governed, forged)
    unsigned = decl.model_dump(mode="json")
    with pytest.raises(LedgerError, match="signature"):
        governed.append(ENTRY_INTEREST, unsigned)
    assert governed.size() == size
    # written around the rules, it knocks out no vote: the fold skips it and audit names it
    index = around_the_rules(governed, ENTRY_INTEREST, forged.model_dump(mode="json"))
    audit_fails(governed, "declaration", index)
    approve(governed, sign_approval(proposal(), key("na-1")))  # na-1 may still approve


def test_a_bods_statement_needs_a_registrars_signature(governed: Ledger) -> None:
    closing = {**entity_statement(PAYEE), "statementId": "closing-statement-0001-abcdefghijk", "recordStatus": "closed"}
    size = governed.size()
    with pytest.raises(RuleViolationError, match="rule not_a_registrar"):
        import_bods(governed, [closing], signer=key("na-1"))
    with pytest.raises(LedgerError, match="signer"):
        governed.append("beneficial_ownership_statement", {"statement": closing})
    assert governed.size() == size
    forged = {"statement": closing, "signer": "registrar",
              "signature": base64.b64encode(key("na-1").sign(b"x")).decode()}
    index = around_the_rules(governed, "beneficial_ownership_statement", forged)
    audit_fails(governed, "bad_signature", index)


# ------------------------------------------------------------------------------------------ 4. money exists


def test_no_disbursement_above_the_recorded_balance(governed: Ledger) -> None:
    big = proposal("MDF-BIG", amount="150000000.00")
    propose(governed, sign_proposal(big, key("mx-1")))
    for signer in ("mx-2", "na-1", "controller"):
        approve(governed, sign_approval(big, key(signer)))
    with pytest.raises(InsufficientFundsError, match=r"exceeds the MDF's recorded balance 100000000\.00"):
        execute(governed, "MDF-BIG")
    # a forged receipt is refused; a genuine one makes the execution possible
    fake = sign_receipt(MdfReceipt(receipt_id="R-2", period="2030Q2", amount_usd="60000000", source="x",
                                   recorder="registrar"), SignerKey("registrar", key("mx-1").seed))
    with pytest.raises(RuleViolationError, match="rule bad_signature"):
        record_receipt(governed, fake)
    with pytest.raises(RuleViolationError, match="rule not_a_registrar"):
        record_receipt(governed, sign_receipt(
            MdfReceipt(receipt_id="R-3", period="2030Q2", amount_usd="60000000", source="x", recorder="mx-1"),
            key("mx-1")))
    record_receipt(governed, sign_receipt(MdfReceipt(receipt_id="R-2", period="2030Q2", amount_usd="60000000",
                                                     source="NAEF waterfall", recorder="registrar"), key("registrar")))
    execute(governed, "MDF-BIG")
    assert audit(governed.entries()).ok


def test_a_receipt_written_around_the_rules_creates_no_money(governed: Ledger) -> None:
    fake = sign_receipt(MdfReceipt(receipt_id="R-9", period="2030Q2", amount_usd="999000000", source="x",
                                   recorder="registrar"), SignerKey("registrar", key("mx-1").seed))
    index = around_the_rules(governed, ENTRY_RECEIPT, fake.model_dump(mode="json"))
    audit_fails(governed, "bad_signature", index)
    assert str(control_state(governed).received_usd) == "100000000.00"


# --------------------------------------------------------------------- 5. a bad row never blocks other writes


def test_an_approval_of_a_missing_proposal_never_blocks_later_writes(governed: Ledger) -> None:
    ghost = sign_approval(proposal("MDF-GHOST"), key("na-1")).model_dump(mode="json")
    index = around_the_rules(governed, ENTRY_APPROVED, {**ghost, "role": "north_american_board"})
    state = control_state(governed)  # the fold does not crash ...
    assert [f.index for f in state.faults] == [index]
    propose(governed, sign_proposal(proposal("MDF-4"), key("mx-1")))  # ... and later writes go through
    audit_fails(governed, "unknown_proposal", index)


# --------------------------------------------------------------------------- 6. verify never crashes


def _sql(ledger: Ledger, statement: str, **params: Any) -> None:
    with ledger.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_verify_names_a_stray_row_at_index_minus_one(governed: Ledger) -> None:
    row = governed.get(0)
    _sql(governed, "INSERT INTO ledger_entries (idx, entry_type, canonical, leaf_hash) VALUES (-1, :t, :c, :h)",
         t=row.type, c=row.canonical, h=row.leaf_hash)
    with pytest.raises(VerificationError, match=r"entry row at index -1 stored outside the log"):
        governed.verify()


def test_verify_names_a_deleted_checkpoint_and_a_removed_cosignature(governed: Ledger, log_key: SignerKey) -> None:
    witness = key("witness-1")
    governed.add_witness(witness.verifier(SIG_COSIGNATURE_V1))
    governed.checkpoint(log_key)
    governed.cosign(witness, timestamp=1_900_000_000)
    governed.append("revenue_collected", {"period": "2030Q2", "amount_usd": 1, "source": "PEMEX"})
    governed.checkpoint(log_key)
    assert governed.verify().checkpoints == 2
    (first, second) = governed.checkpoints()
    stripped = "\n".join(line for line in first.note.split("\n") if not line.startswith("\u2014 witness-1 "))
    _sql(governed, "UPDATE ledger_checkpoints SET note = :n WHERE size = :s", n=stripped, s=first.size)
    with pytest.raises(VerificationError, match="a cosignature was removed from or added to a stored note"):
        governed.verify()
    _sql(governed, "UPDATE ledger_checkpoints SET note = :n WHERE size = :s", n=first.note, s=first.size)
    governed.verify()
    _sql(governed, "DELETE FROM ledger_checkpoints WHERE size = :s", s=second.size)
    with pytest.raises(VerificationError, match="a checkpoint row was deleted or inserted"):
        governed.verify()


def test_a_row_of_the_wrong_storage_type_is_named_everywhere(sqlite_url: str, log_key: SignerKey) -> None:
    # SQLite only: PostgreSQL's bytea column refuses text, so the attack cannot be stored there
    with Ledger.init(sqlite_url, log_key.verifier()) as ledger:
        bootstrap(ledger, payees=(PAYEE,))
        _sql(ledger, "UPDATE ledger_entries SET canonical = CAST(canonical AS TEXT) WHERE idx = 1")
        with pytest.raises(VerificationError, match=r"entry 1: stored with the wrong column types"):
            ledger.verify()
        with pytest.raises(VerificationError, match=r"entry 1: stored with the wrong column types"):
            ledger.get(1)
        with pytest.raises(VerificationError, match=r"entry 1"):
            audit(ledger.entries())


# ------------------------------------------------------------------------------------------- the CLI


def proposed_ledger(db_url: str, log_key: SignerKey) -> int:
    """A new governed ledger at ``db_url`` with the payee's record, funds and proposal MDF-1; its size."""
    with Ledger.init(db_url, log_key.verifier()) as ledger:
        bootstrap(ledger, payees=(PAYEE,))
        propose(ledger, sign_proposal(proposal(), key("mx-1")))
        return ledger.size()


def test_the_cli_refuses_and_audits(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    log_key: SignerKey,
) -> None:
    import json

    proposed_ledger(db_url, log_key)
    code, _, err = naef_main(monkeypatch, capsys, "ledger", "append", db_url, "--type", ENTRY_EXECUTED,
                             "--payload", json.dumps(forged_execution()))
    assert code == 2
    assert err.startswith("error: entry 4 (disbursement_executed): rule quorum_not_met")
    assert err.count("\n") == 1
    write_key_pair(key("na-2"), tmp_path)
    code, _, err = naef_main(monkeypatch, capsys, "ledger", "declare-interest", db_url, "--declarant", "na-1",
                             "--key", str(tmp_path / "na-2.key"), "--party", PAYEE, "--nature", "x")
    assert code == 2
    assert "does not belong to the declarant" in err
    pub = tmp_path / "log.pub"
    pub.write_text(log_key.verifier().encode() + "\n")
    code, out, err = naef_main(monkeypatch, capsys, "ledger", "audit", db_url, "--key", str(pub))
    assert code in (0, None), err
    assert out.startswith("ok: 4 entries, 4 governed entries follow the rules")
    # raw SQL: a forged execution with a consistent tree passes verify, fails audit (exit 2, JSON names it)
    with Ledger.open(db_url) as ledger:
        index = around_the_rules(ledger, ENTRY_EXECUTED, forged_execution())
    code, out, err = naef_main(monkeypatch, capsys, "ledger", "verify", db_url)
    assert code in (0, None), err
    code, out, err = naef_main(monkeypatch, capsys, "ledger", "audit", db_url, "--json")
    assert code == 2
    assert err.startswith(f"error: audit failed: entry {index} (disbursement_executed): rule quorum_not_met")
    report = json.loads(out)
    assert report["ok"] is False
    assert report["faults"][0]["index"] == index
    assert report["faults"][0]["rule"] == "quorum_not_met"


# --------------------------------------------------------------------------------------------- the web API


def test_the_web_api_refuses_answers_4xx_and_keeps_writing(db_url: str, log_key: SignerKey) -> None:
    pytest.importorskip("fastapi", reason="the web extra is not installed")
    from fastapi.testclient import TestClient

    from naef.web import WebConfig, create_app
    from tests.web.conftest import signed_post

    with Ledger.init(db_url, log_key.verifier()) as ledger:
        bootstrap(ledger, payees=(PAYEE,))
        propose(ledger, sign_proposal(proposal(), key("mx-1")))
        ghost = sign_approval(proposal("MDF-GHOST"), key("na-1")).model_dump(mode="json")
        bad = around_the_rules(ledger, ENTRY_APPROVED, {**ghost, "role": "north_american_board"})
    config = WebConfig(ledger_url=db_url, write_rate_per_minute=600.0, write_burst=100)
    with TestClient(create_app(config)) as client:
        origin = log_key.name
        # the bad row does not block a later signed write
        body = sign_proposal(proposal("MDF-5"), key("mx-1")).model_dump(mode="json")
        res = signed_post(client, "/api/proposals", body, key("mx-1"), origin=origin)
        assert res.status_code == 201, res.text
        # a payee spelled otherwise is a 4xx naming the field, nothing appended
        spelled = proposal("MDF-6").model_dump(mode="json")
        spelled["payee"] = PAYEE + "\u200b"
        res = signed_post(client, "/api/proposals", {"proposal": spelled, "proposal_sha256": "0" * 64,
                                                     "signature": body["signature"]}, key("mx-1"), origin=origin)
        assert 400 <= res.status_code < 500
        assert "U+200B" in res.text
        # an execution without quorum is refused and recorded (409), never executed
        res = signed_post(client, "/api/executions", {"proposal_id": "MDF-1"}, key("na-1"), origin=origin)
        assert res.status_code == 409
        assert res.json()["error"]["code"] == "quorum_not_met"
        # the portal names the bad row beside the checkpoint, and so does the API
        page = client.get("/ledger").text
        assert f"entry {bad} (disbursement_approved): rule unknown_proposal" in page
        status = client.get("/api/ledger/audit").json()
        assert status["ok"] is False
        assert (status["first_fault"]["index"], status["first_fault"]["rule"]) == (bad, "unknown_proposal")
