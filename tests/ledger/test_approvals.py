"""Proposals, approvals and execution: every rule of DESIGN.md §5, decided on a state folded from entries."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from naef.ledger.approvals import (
    ENTRY_APPROVED,
    ENTRY_BENCHMARK_FLAG,
    ENTRY_BODS,
    ENTRY_EXECUTED,
    ENTRY_GOVERNANCE,
    ENTRY_PROPOSED,
    ENTRY_RECEIPT,
    ENTRY_REFUSED,
    AlreadyExecutedError,
    AlteredProposalError,
    ApprovalRefusedError,
    BadSignatureError,
    BenchmarkUnjustifiedError,
    ConflictOfInterestError,
    ControlState,
    Decision,
    DisbursementProposal,
    NotAnApproverError,
    QuorumNotMetError,
    ReplayedApprovalError,
    SelfApprovalError,
    UnknownProposalError,
    UnknownSignerError,
    admit,
    approval_message,
    canonical_proposal,
    decide_approval,
    decide_declaration,
    decide_execution,
    decide_proposal,
    sign_approval,
    sign_declaration,
    sign_proposal,
    sign_statement,
)
from naef.ledger.benchmarking import BenchmarkError, UnitCostClaim, load_unit_costs
from naef.ledger.entries import make_entry
from naef.ledger.errors import LedgerError
from naef.ledger.interests import InterestDeclaration
from naef.ledger.keys import SignerKey, VerifierKey
from tests import data_paths
from tests.ledger.governed import GOVERNANCE, ROLES, bootstrap, entity_statement, key, receipt

EXAMPLES = data_paths.BODS_EXAMPLES
REFERENCES = load_unit_costs()


BOARD = ROLES


def apply(state: ControlState, entries: list[tuple[str, dict[str, Any]]]) -> None:
    """Admit entries exactly as the storage layer would (payload models, then the rules' gate)."""
    for entry_type, payload in entries:
        admit(state, entry_type, make_entry(entry_type, payload).payload, None, strict=True)


def signed_statement(statement: dict[str, Any]) -> dict[str, Any]:
    return sign_statement(statement, key("registrar")).model_dump(mode="json")


def new_state() -> ControlState:
    """Governance, the test payees' BODS records and USD 1 bn received by the MDF."""
    state = ControlState()
    apply(state, [(ENTRY_GOVERNANCE, GOVERNANCE.model_dump(mode="json"))])
    apply(state, [(ENTRY_BODS, signed_statement(entity_statement(p))) for p in ("ad3f6c2fcc9e", "payee-1")])
    apply(state, [(ENTRY_RECEIPT, receipt("RCPT-1", "1000000000.00").model_dump(mode="json"))])
    return state


def proposal(
    pid: str = "MDF-2030-001", *, payee: str = "ad3f6c2fcc9e", cost_per_km: int = 1_000_000
) -> DisbursementProposal:
    return DisbursementProposal(
        proposal_id=pid,
        payee=payee,
        payee_name="Company A",
        amount_usd=Decimal("25000000.00"),
        project_id="road-oaxaca-1",
        purpose="first tranche of the Oaxaca coast road",
        proposer="mx-1",
        unit_cost=UnitCostClaim(
            project_type="road_new_two_lane",
            unit="lane_km",
            quantity=50,
            contract_cost_usd=Decimal(cost_per_km * 50),
        ),
    )


def proposed(state: ControlState, p: DisbursementProposal) -> None:
    apply(state, decide_proposal(state, sign_proposal(p, key(p.proposer)), REFERENCES))


def refused(state: ControlState, decision: Decision, cls: type[ApprovalRefusedError]) -> dict[str, Any]:
    assert isinstance(decision.refusal, cls), decision.refusal
    assert [t for t, _ in decision.entries] == [ENTRY_REFUSED]
    payload = decision.entries[0][1]
    assert payload["reason_code"] == cls.code
    apply(state, decision.entries)  # a refusal is recorded: it must be a valid entry
    return payload


def accepted(state: ControlState, decision: Decision) -> None:
    assert decision.refusal is None, decision.refusal
    apply(state, decision.entries)


def test_canonical_form_is_rfc8785() -> None:
    p = proposal()
    data = json.loads(canonical_proposal(p))
    assert canonical_proposal(p) == rfc8785.dumps(data)
    assert data["amount_usd"] == "25000000.00"  # money as an exact decimal string
    assert list(data) == sorted(data)


def test_approval_is_a_plain_ed25519_signature_over_the_documented_message() -> None:
    p = proposal()
    a = sign_approval(p, key("na-1"))
    body = rfc8785.dumps({"justification": None, "proposal": json.loads(canonical_proposal(p))})
    message = b"naef disbursement approval v1\n" + body
    assert approval_message(p, None) == message
    # an outside Ed25519 verifier (via the published vkey string) accepts it
    vkey = VerifierKey.parse(key("na-1").verifier().encode())
    assert vkey.verify_raw(message, base64.b64decode(a.signature))
    assert a.proposal_sha256 == hashlib.sha256(canonical_proposal(p)).hexdigest()


def test_full_flow_executes_with_quorum() -> None:
    state = new_state()
    p = proposal()
    proposed(state, p)
    for signer in ("na-1", "mx-2"):
        accepted(state, decide_approval(state, sign_approval(p, key(signer))))
    refused(state, decide_execution(state, p.proposal_id), QuorumNotMetError)  # no controller yet
    accepted(state, decide_approval(state, sign_approval(p, key("controller"))))
    decision = decide_execution(state, p.proposal_id)
    assert decision.refusal is None
    ((entry_type, payload),) = decision.entries
    assert entry_type == ENTRY_EXECUTED
    assert payload["approvals"] == ["controller", "mx-2", "na-1"]
    assert payload["amount_usd"] == "25000000.00"
    assert payload["benchmark_flagged"] is False
    apply(state, decision.entries)
    refused(state, decide_execution(state, p.proposal_id), AlreadyExecutedError)
    refused(state, decide_approval(state, sign_approval(p, key("na-2"))), AlreadyExecutedError)


def test_quorum_message_names_what_is_missing() -> None:
    state = new_state()
    p = proposal()
    proposed(state, p)
    decision = decide_execution(state, p.proposal_id)
    assert isinstance(decision.refusal, QuorumNotMetError)
    assert "1 more mexican_board, 1 more north_american_board, 1 more independent_controller" in str(
        decision.refusal
    )
    assert decision.entries[0][1]["stage"] == "execution"


def test_proposer_cannot_approve_own_proposal() -> None:
    state = new_state()
    p = proposal()
    proposed(state, p)
    payload = refused(state, decide_approval(state, sign_approval(p, key("mx-1"))), SelfApprovalError)
    assert payload["signer"] == "mx-1"
    # and so with mx-1 as the only other Mexican... mx-2 is needed for the quorum
    for signer in ("na-1", "controller"):
        accepted(state, decide_approval(state, sign_approval(p, key(signer))))
    assert isinstance(decide_execution(state, p.proposal_id).refusal, QuorumNotMetError)


def test_unknown_signer_and_unknown_proposal() -> None:
    state = new_state()
    p = proposal()
    refused(state, decide_approval(state, sign_approval(p, key("na-1"))), UnknownProposalError)
    proposed(state, p)
    payload = refused(state, decide_approval(state, sign_approval(p, key("stranger"))), UnknownSignerError)
    assert "'stranger' is not a stakeholder" in payload["reason"]
    refused(state, decide_execution(state, "MDF-nope"), UnknownProposalError)


def test_bad_signature_wrong_key() -> None:
    state = new_state()
    p = proposal()
    proposed(state, p)
    forged = sign_approval(p, key("na-2")).model_copy(update={"signer": "na-1"})
    refused(state, decide_approval(state, forged), BadSignatureError)
    # a byte flipped in a genuine signature
    genuine = sign_approval(p, key("na-1"))
    raw = bytearray(base64.b64decode(genuine.signature))
    raw[10] ^= 1
    flipped = genuine.model_copy(update={"signature": base64.b64encode(bytes(raw)).decode()})
    refused(state, decide_approval(state, flipped), BadSignatureError)
    # a justification added after signing changes the message
    refused(
        state, decide_approval(state, genuine.model_copy(update={"justification": "ok"})), BadSignatureError
    )
    assert "na-1" not in state.proposals[p.proposal_id].approvals


def test_altered_proposal_is_refused() -> None:
    state = new_state()
    p = proposal()
    proposed(state, p)
    altered = p.model_copy(update={"amount_usd": Decimal("95000000.00")})
    payload = refused(
        state, decide_approval(state, sign_approval(altered, key("na-1"))), AlteredProposalError
    )
    assert "the recorded proposal has" in payload["reason"]


def test_replays_are_refused() -> None:
    state = new_state()
    p1, p2 = proposal("MDF-1"), proposal("MDF-2")
    proposed(state, p1)
    proposed(state, p2)
    a2 = sign_approval(p2, key("na-1"))
    # a signature made for MDF-2, submitted for MDF-1 (before and after MDF-2's approval is recorded)
    moved = a2.model_copy(update={"proposal_id": "MDF-1"})
    assert (
        "made for proposal MDF-2"
        in refused(state, decide_approval(state, moved), ReplayedApprovalError)["reason"]
    )
    accepted(state, decide_approval(state, a2))
    assert (
        "recorded for proposal MDF-2"
        in refused(state, decide_approval(state, moved), ReplayedApprovalError)["reason"]
    )
    # the same approval twice
    payload = refused(state, decide_approval(state, a2), ReplayedApprovalError)
    assert payload["reason"] == "na-1 already approved this proposal"


def test_observer_cannot_approve() -> None:
    state = new_state()
    p = proposal()
    proposed(state, p)
    refused(state, decide_approval(state, sign_approval(p, key("observer"))), NotAnApproverError)


def test_conflict_of_interest_through_bods_chain_is_refused_and_recorded() -> None:
    state = new_state()
    for statement in json.loads((EXAMPLES / "indirect-ownership.json").read_text()):
        apply(state, [(ENTRY_BODS, signed_statement(statement))])
    declaration = InterestDeclaration(
        declarant="na-1",
        party="c25d4d612c2c",
        party_name="Person 1",
        nature="spouse",
        declared_on=date(2030, 1, 2),
    )
    apply(state, decide_declaration(state, sign_declaration(declaration, key("na-1"))))
    p = proposal()  # payee: Company A
    proposed(state, p)
    payload = refused(state, decide_approval(state, sign_approval(p, key("na-1"))), ConflictOfInterestError)
    assert payload["chain"]["path"] == ["c25d4d612c2c", "d4ab89ea169a", "ad3f6c2fcc9e"]
    assert payload["chain"]["declaration"]["nature"] == "spouse"
    assert "Person 1" in payload["reason"]
    assert "Company B" in payload["reason"]
    # na-2 has no interest and may approve
    accepted(state, decide_approval(state, sign_approval(p, key("na-2"))))


def test_conflict_declared_after_approval_removes_it_from_the_quorum() -> None:
    state = new_state()
    p = proposal(payee="payee-1")
    proposed(state, p)
    for signer in ("na-1", "mx-2", "controller"):
        accepted(state, decide_approval(state, sign_approval(p, key(signer))))
    late = InterestDeclaration(
        declarant="mx-2", party="payee-1", nature="brother-in-law", declared_on=date(2030, 2, 1)
    )
    apply(state, decide_declaration(state, sign_declaration(late, key("mx-2"))))
    decision = decide_execution(state, p.proposal_id)
    assert isinstance(decision.refusal, QuorumNotMetError)
    assert "mx-2 (conflict of interest)" in str(decision.refusal)


def test_declaration_by_a_non_stakeholder_is_bad_input() -> None:
    state = new_state()
    ghost = InterestDeclaration(declarant="ghost", party="x", nature="n", declared_on=date(2030, 1, 1))
    with pytest.raises(LedgerError, match="declarant 'ghost' is not a stakeholder"):
        decide_declaration(state, sign_declaration(ghost, key("ghost")))


def test_flagged_disbursement_needs_the_controllers_justification() -> None:
    state = new_state()
    p = proposal(cost_per_km=9_000_000)  # far above the road range
    proposed(state, p)
    flags = state.proposals[p.proposal_id].benchmark
    assert flags is not None
    assert flags["reason"] == "above_range"
    for signer in ("na-1", "mx-2", "controller"):
        accepted(state, decide_approval(state, sign_approval(p, key(signer))))
    decision = decide_execution(state, p.proposal_id)
    assert isinstance(decision.refusal, BenchmarkUnjustifiedError)
    apply(state, decision.entries)
    # the controller completes its approval with a justification (the one repeat allowed) ...
    justified = sign_approval(
        p, key("controller"), justification="mountain section: 40 % bridges and tunnels"
    )
    accepted(state, decide_approval(state, justified))
    # ... which cannot be repeated
    refused(state, decide_approval(state, justified), ReplayedApprovalError)
    decision = decide_execution(state, p.proposal_id)
    assert decision.refusal is None
    assert decision.entries[0][1]["benchmark_flagged"] is True


def test_proposal_checks_are_bad_input_and_append_nothing() -> None:
    state = new_state()
    p = proposal()
    signed = sign_proposal(p, key("mx-1"))
    entries = decide_proposal(state, signed, REFERENCES)
    assert [t for t, _ in entries] == [ENTRY_PROPOSED]
    apply(state, entries)
    with pytest.raises(LedgerError, match="proposal_id already used"):
        decide_proposal(state, signed, REFERENCES)
    other = proposal("MDF-2")
    forged = sign_proposal(other, SignerKey("mx-1", key("na-1").seed))
    with pytest.raises(LedgerError, match="proposer signature does not verify"):
        decide_proposal(state, forged, REFERENCES)
    with pytest.raises(LedgerError, match="does not belong to the proposer"):
        sign_proposal(other, key("na-1"))
    stranger = other.model_copy(update={"proposer": "stranger"})
    with pytest.raises(LedgerError, match="proposer 'stranger' is not a stakeholder"):
        decide_proposal(state, sign_proposal(stranger, key("stranger")), REFERENCES)
    bad_type = other.model_copy(
        update={
            "unit_cost": UnitCostClaim(
                project_type="moon_base", unit="km", quantity=1, contract_cost_usd=Decimal(1)
            )
        }
    )
    with pytest.raises(BenchmarkError, match="unknown project type 'moon_base'"):
        decide_proposal(state, sign_proposal(bad_type, key("mx-1")), REFERENCES)
    no_cost = other.model_copy(update={"unit_cost": None})
    types = [t for t, _ in decide_proposal(state, sign_proposal(no_cost, key("mx-1")), REFERENCES)]
    assert types == [ENTRY_PROPOSED, ENTRY_BENCHMARK_FLAG]  # cannot be benchmarked → flagged


def test_models_refuse_malformed_input() -> None:
    with pytest.raises(ValueError, match="amount_usd"):
        proposal().model_validate({**proposal().model_dump(), "amount_usd": "-5"})
    with pytest.raises(ValueError, match="at most two decimal places"):
        proposal().model_validate({**proposal().model_dump(), "amount_usd": "1.001"})
    a = sign_approval(proposal(), key("na-1"))
    with pytest.raises(ValueError, match="64 bytes"):
        a.model_validate({**a.model_dump(), "signature": base64.b64encode(b"short").decode()})
    with pytest.raises(ValueError, match="base64"):
        a.model_validate({**a.model_dump(), "signature": "not base64!"})


# ------------------------------------------------------------------------------------------- property test

APPROVERS = ["mx-2", "na-1", "na-2", "controller", "observer", "mx-1"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(APPROVERS), max_size=8))
def test_executes_iff_reference_quorum_rule_holds(signers: list[str]) -> None:
    state = new_state()
    p = proposal()
    proposed(state, p)
    ok: set[str] = set()
    for signer in signers:
        decision = decide_approval(state, sign_approval(p, key(signer)))
        apply(state, decision.entries)
        if decision.refusal is None:
            ok.add(signer)
    # reference rule written out: proposer (mx-1) and observer never count; each signer once
    assert ok == set(signers) - {"mx-1", "observer"}
    roles = {BOARD[s] for s in ok}
    expected = {"mexican_board", "north_american_board", "independent_controller"} <= roles
    assert (decide_execution(state, p.proposal_id).refusal is None) == expected


# ------------------------------------------------------------------------------------- on a real ledger


def test_flow_on_a_real_ledger_records_refusals_and_appends_nothing_on_bad_input(ledger: Any) -> None:
    from naef.ledger.approvals import (
        approve,
        declare_interest,
        execute,
        find_proposal,
        propose,
        register_governance,
    )

    bootstrap(ledger, payees=("ad3f6c2fcc9e",))
    with pytest.raises(LedgerError, match="already registered"):
        register_governance(ledger, GOVERNANCE)
    p = proposal(cost_per_km=1_500_000)
    assert propose(ledger, sign_proposal(p, key("mx-1"))) == [3]
    assert find_proposal(ledger, p.proposal_id) == p
    size = ledger.size()
    # bad input: nothing appended
    with pytest.raises(LedgerError, match="proposal_id already used"):
        propose(ledger, sign_proposal(p, key("mx-1")))
    ghost = InterestDeclaration(declarant="ghost", party="x", nature="n", declared_on=date(2030, 1, 1))
    with pytest.raises(LedgerError, match="not a stakeholder"):
        declare_interest(ledger, sign_declaration(ghost, key("ghost")))
    assert ledger.size() == size
    # a refusal is appended, then raised with its index
    with pytest.raises(SelfApprovalError) as info:
        approve(ledger, sign_approval(p, key("mx-1")))
    assert info.value.index == size
    refusal = ledger.get(size)
    assert refusal.type == ENTRY_REFUSED
    assert refusal.payload["reason_code"] == "self_approval"
    with pytest.raises(QuorumNotMetError):
        execute(ledger, p.proposal_id)
    for signer in ("mx-2", "na-1", "controller"):
        approve(ledger, sign_approval(p, key(signer)))
    index = execute(ledger, p.proposal_id)
    executed = ledger.get(index)
    assert executed.type == ENTRY_EXECUTED
    assert executed.payload["approvals"] == ["controller", "mx-2", "na-1"]
    types = [e.type for e in ledger.entries()]
    assert types == [
        ENTRY_GOVERNANCE,
        ENTRY_BODS,
        ENTRY_RECEIPT,
        ENTRY_PROPOSED,
        ENTRY_REFUSED,
        ENTRY_REFUSED,
        ENTRY_APPROVED,
        ENTRY_APPROVED,
        ENTRY_APPROVED,
        ENTRY_EXECUTED,
    ]
    assert ledger.verify().size == len(types)


# ------------------------------------------------------------------------------------- command line


def cli_app() -> Any:
    import typer

    from naef.commands.keys import keys_app
    from naef.commands.ledger import ledger_app
    from naef.commands.ledger_ops import register

    app = typer.Typer()
    app.add_typer(ledger_app, name="ledger")
    app.add_typer(keys_app, name="keys")
    register(ledger_app)
    register(ledger_app)  # idempotent
    return app


def test_cli_propose_approve_execute(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from naef.ledger.keys import write_key_pair
    from naef.ledger.log import Ledger

    runner = CliRunner()
    app = cli_app()
    keys = tmp_path / "keys"
    for name in [*BOARD, "naef.test/log"]:
        write_key_pair(key(name), keys)
    url = str(tmp_path / "fund.db")

    def run(*args: str) -> Any:
        return runner.invoke(app, list(args))

    def size() -> int:
        with Ledger.open(url) as lg:
            return lg.size()

    assert run("ledger", "init", url, "--key", str(keys / "naef.test_log.pub")).exit_code == 0
    toml = "[governance]\n" + "".join(
        f'[[governance.stakeholders]]\nname = "{n}"\nrole = "{r}"\n'
        f'public_key = "{key(n).verifier().encode()}"\n'
        for n, r in BOARD.items()
    )
    (tmp_path / "gov.toml").write_text(toml)
    result = run("ledger", "register-governance", url, str(tmp_path / "gov.toml"))
    assert result.exit_code == 0, result.output
    assert "7 stakeholders recorded at entry 0" in result.output
    (tmp_path / "payee.json").write_text(json.dumps([entity_statement("ad3f6c2fcc9e")]))
    registrar = ["--key", str(keys / "registrar.key")]
    result = run("ledger", "import-bods", url, str(tmp_path / "payee.json"), "--key", str(keys / "na-1.key"))
    assert result.exit_code == 2  # a board member is not a registrar
    assert "not_a_registrar" in result.output
    result = run("ledger", "import-bods", url, str(tmp_path / "payee.json"), *registrar)
    assert result.exit_code == 0, result.output
    receipt_args = ["--id", "R-1", "--period", "2030Q1", "--source", "NAEF waterfall", "--recorder", "registrar"]
    result = run("ledger", "record-receipt", url, "--amount-usd", "12.345", *receipt_args, *registrar)
    assert result.exit_code == 2
    assert "receipt.amount_usd" in result.output
    result = run("ledger", "record-receipt", url, "--amount-usd", "900000000", *receipt_args, *registrar)
    assert result.exit_code == 0, result.output
    assert "MDF balance 900000000.00 USD" in result.output
    result = run("ledger", "record-receipt", url, "--amount-usd", "900000000", *receipt_args, *registrar)
    assert result.exit_code == 2  # the same receipt twice would double the money
    assert "duplicate_receipt" in result.output

    p = proposal(cost_per_km=9_000_000)  # flagged
    (tmp_path / "p.json").write_text(p.model_dump_json())
    result = run("ledger", "propose", url, str(tmp_path / "p.json"), "--key", str(keys / "mx-1.key"))
    assert result.exit_code == 0, result.output
    assert "benchmark flag recorded at entry 4" in result.output

    # bad input: one line, exit 2, nothing appended
    before = size()
    bad = json.loads(p.model_dump_json())
    bad["amount_usd"] = "-3"
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    result = run("ledger", "propose", url, str(tmp_path / "bad.json"), "--key", str(keys / "mx-1.key"))
    assert result.exit_code == 2
    assert "bad.json.amount_usd" in result.output
    assert result.output.count("\n") == 1
    result = run("ledger", "approve", url, p.proposal_id, "--key", str(tmp_path / "missing.key"))
    assert result.exit_code == 2
    assert "cannot read key file" in result.output
    result = run(
        "ledger", "approve", url, p.proposal_id, "--key", str(keys / "na-1.key"), "--expect-sha256", "00"
    )
    assert result.exit_code == 2
    assert "not signing" in result.output
    result = run("ledger", "approve", url, "MDF-none", "--key", str(keys / "na-1.key"))
    assert result.exit_code == 2
    assert "not in the log" in result.output
    result = run("ledger", "import-bods", url, str(tmp_path / "p.json"), "--key", str(keys / "registrar.key"))
    assert result.exit_code == 2
    assert "expected a JSON array" in result.output
    assert size() == before

    # a refusal: exit 2, recorded
    result = run("ledger", "approve", url, p.proposal_id, "--key", str(keys / "mx-1.key"))
    assert result.exit_code == 2
    assert "self_approval" in result.output
    assert f"recorded at entry {before}" in result.output
    assert size() == before + 1

    digest = hashlib.sha256(canonical_proposal(p)).hexdigest()
    for signer in ("mx-2", "na-1", "controller"):
        result = run(
            "ledger",
            "approve",
            url,
            p.proposal_id,
            "--key",
            str(keys / f"{signer}.key"),
            "--expect-sha256",
            digest,
        )
        assert result.exit_code == 0, result.output
    result = run("ledger", "execute", url, p.proposal_id)
    assert result.exit_code == 2
    assert "benchmark_unjustified" in result.output
    result = run(
        "ledger",
        "approve",
        url,
        p.proposal_id,
        "--key",
        str(keys / "controller.key"),
        "--justification",
        "mountain section",
    )
    assert result.exit_code == 0, result.output
    result = run("ledger", "execute", url, p.proposal_id)
    assert result.exit_code == 0, result.output
    assert "executed" in result.output
    result = run(
        "ledger",
        "declare-interest",
        url,
        "--declarant",
        "na-2",
        "--key",
        str(keys / "na-2.key"),
        "--party",
        "ad3f6c2fcc9e",
        "--nature",
        "cousin",
        "--on",
        "2030-05-01",
    )
    assert result.exit_code == 0, result.output
    result = run(
        "ledger",
        "declare-interest",
        url,
        "--declarant",
        "na-2",
        "--key",
        str(keys / "na-2.key"),
        "--party",
        "x",
        "--nature",
        "n",
        "--on",
        "May",
    )
    assert result.exit_code == 2
    assert "declaration.declared_on" in result.output
