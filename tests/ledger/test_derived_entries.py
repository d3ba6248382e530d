"""Review of issues 14 and 20 (findings F1, F3, F4): the entries that publish red flags are the rules' own.

* F3 — a ``benchmark_flag`` is exactly the flag the rules derive for its proposal (else ``benchmark_mismatch``);
* F1 — the storage gate writes that flag itself, right after a flagged proposal, in the same transaction; a
  caller-written flag is refused (``not_derived``) and a flagged proposal without its flag right after it is
  named by ``audit`` (``missing_benchmark_flag``);
* F4 — a ``disbursement_refused`` is exactly what the rules record at its index: an approval refusal carries the
  refused approval, signed as submitted, and is re-decided (else ``refusal_not_derived``).

Each attack through ``Ledger.append`` and the CLI (refused, nothing appended) and written around the gate (named
by ``audit``), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from naef.ledger.approvals import (
    ENTRY_APPROVED,
    ENTRY_BENCHMARK_FLAG,
    ENTRY_PROPOSED,
    ENTRY_REFUSED,
    Approval,
    ApprovalRefusedError,
    DisbursementProposal,
    RuleViolationError,
    SelfApprovalError,
    approve,
    control_state,
    derived_flag,
    propose,
    sign_approval,
    sign_proposal,
)
from naef.ledger.audit import audit
from naef.ledger.benchmarking import UnitCostClaim
from naef.ledger.keys import SignerKey
from naef.ledger.log import Ledger
from tests.cli_main import naef_main
from tests.ledger.governed import around_the_rules, bootstrap, key
from tests.ledger.test_governed_attacks import PAYEE, governed, proposal, proposed_ledger

__all__ = ["governed"]  # the fixture, shared with test_governed_attacks


def flagged_proposal(pid: str = "MDF-9") -> DisbursementProposal:
    """Unit cost 10,000,000 USD/lane_km: above road_new_two_lane's range [300,000, 2,500,000]."""
    return DisbursementProposal(
        proposal_id=pid, payee=PAYEE, amount_usd="30000000.00", project_id="road-9", purpose="road",
        proposer="mx-1",
        unit_cost=UnitCostClaim(project_type="road_new_two_lane", unit="lane_km", quantity=5,
                                contract_cost_usd="50000000.00"),
    )


def signed_payload(p: DisbursementProposal) -> dict[str, Any]:
    return sign_proposal(p, key("mx-1")).model_dump(mode="json")


def forged_flag(pid: str) -> dict[str, Any]:
    """The review's F3 flag: 'within range' for a proposal the rules flag."""
    return {"proposal_id": pid, "flagged": False, "reason": "within_range", "project_type": "road_new_two_lane",
            "unit": "lane_km", "unit_cost_usd": 1_000_000.0, "low_usd": 300_000.0, "high_usd": 2_500_000.0,
            "source": "x", "illustrative": True,
            "message": "unit cost 1,000,000.00 USD/lane_km for road_new_two_lane is within range [300,000, 2,500,000]"}


def forged_refusal(pid: str = "MDF-1", signer: str = "mx-2") -> dict[str, Any]:
    """The review's F4 refusal: a conflict of interest nobody's rules ever found."""
    return {"proposal_id": pid, "stage": "approval", "signer": signer, "reason_code": "conflict_of_interest",
            "reason": f"declared interest reaches the payee: {signer} owns 40% of {PAYEE} (bribe suspected)",
            "chain": None}


def faults(ledger: Ledger) -> list[tuple[int | None, str]]:
    return [(f.index, f.rule) for f in audit(ledger.entries()).faults]


# ------------------------------------------------------------------------------------ F1: the gate flags


def test_the_gate_writes_the_derived_flag_right_after_a_flagged_proposal(governed: Ledger) -> None:
    size = governed.size()
    index = governed.append(ENTRY_PROPOSED, signed_payload(flagged_proposal()))  # a caller writes no flag ...
    assert index == size
    assert governed.size() == size + 2  # ... the gate does, in the same transaction
    flag = governed.get(size + 1)
    assert flag.type == ENTRY_BENCHMARK_FLAG
    assert dict(flag.payload) == derived_flag(flagged_proposal())
    assert flag.payload["reason"] == "above_range"
    assert flag.time == governed.get(size).time
    assert audit(governed.entries()).ok
    # the service returns both indexes; an in-range proposal gets no flag
    assert propose(governed, sign_proposal(flagged_proposal("MDF-10"), key("mx-1"))) == [size + 2, size + 3]
    assert propose(governed, sign_proposal(proposal("MDF-11"), key("mx-1"))) == [size + 4]


def test_a_batch_of_flagged_proposals_gets_each_flag_right_after_its_proposal(governed: Ledger) -> None:
    start = governed.size()
    batch = [(ENTRY_PROPOSED, signed_payload(flagged_proposal(pid))) for pid in ("MDF-9", "MDF-10")]
    written = governed.append_batch([*batch, (ENTRY_PROPOSED, signed_payload(proposal("MDF-11")))])
    assert written == range(start, start + 5)
    assert [(e.type, e.payload.get("proposal_id") or e.payload["proposal"]["proposal_id"])
            for e in governed.entries(start)] == [
        (ENTRY_PROPOSED, "MDF-9"), (ENTRY_BENCHMARK_FLAG, "MDF-9"), (ENTRY_PROPOSED, "MDF-10"),
        (ENTRY_BENCHMARK_FLAG, "MDF-10"), (ENTRY_PROPOSED, "MDF-11")]
    assert audit(governed.entries()).ok


def test_a_flagged_proposal_written_without_its_flag_is_named_and_never_blocks_writes(governed: Ledger) -> None:
    index = around_the_rules(governed, ENTRY_PROPOSED, signed_payload(flagged_proposal()))
    assert faults(governed) == [(index, "missing_benchmark_flag")]  # the last entry of the log
    approve(governed, sign_approval(proposal(), key("mx-2")))  # later writes go through
    report = audit(governed.entries())
    assert [(f.index, f.rule) for f in report.faults] == [(index, "missing_benchmark_flag")]
    assert "MDF-9 is flagged (unit cost 10,000,000.00 USD/lane_km" in report.faults[0].message
    # the fold still knows it is flagged: execution needs the controller's justification all the same
    assert control_state(governed).proposals["MDF-9"].flagged


# --------------------------------------------------------------------------------- F3: no forged flag


@pytest.mark.parametrize(
    ("target", "variant", "rule"),
    [
        ("MDF-9", "forged", "benchmark_mismatch"),  # the review's F3: 'within range' for an outlier
        ("MDF-9", "derived", "not_derived"),  # the rules' own flag, written a second time by a caller
        ("MDF-1", "forged", "benchmark_mismatch"),  # a flag for a proposal within range
        ("MDF-404", "forged", "unknown_proposal"),
    ],
)
def test_a_caller_written_flag_is_refused(governed: Ledger, target: str, variant: str, rule: str) -> None:
    governed.append(ENTRY_PROPOSED, signed_payload(flagged_proposal()))
    size = governed.size()
    payload = derived_flag(flagged_proposal()) if variant == "derived" else forged_flag(target)
    assert payload is not None
    with pytest.raises(RuleViolationError, match=rf"entry {size} \(benchmark_flag\): rule {rule}"):
        governed.append(ENTRY_BENCHMARK_FLAG, payload)
    assert governed.size() == size
    assert audit(governed.entries()).ok


def test_a_forged_flag_written_around_the_gate_is_named(governed: Ledger) -> None:
    proposed = around_the_rules(governed, ENTRY_PROPOSED, signed_payload(flagged_proposal()))
    flag = around_the_rules(governed, ENTRY_BENCHMARK_FLAG, forged_flag("MDF-9"))
    assert faults(governed) == [(proposed, "missing_benchmark_flag"), (flag, "benchmark_mismatch")]
    # the rules' own flag, but not right after its proposal
    other = around_the_rules(governed, ENTRY_PROPOSED, signed_payload(flagged_proposal("MDF-8")))
    approve(governed, sign_approval(proposal(), key("mx-2")))
    late = around_the_rules(governed, ENTRY_BENCHMARK_FLAG, derived_flag(flagged_proposal("MDF-8")) or {})
    assert faults(governed)[2:] == [(other, "missing_benchmark_flag"), (late, "not_derived")]


# ------------------------------------------------------------------------------- F4: no forged refusal


def test_a_genuine_refusal_carries_the_refused_approval_and_audits(governed: Ledger) -> None:
    own = sign_approval(proposal(), key("mx-1"))  # the proposer approving its own proposal
    with pytest.raises(SelfApprovalError) as info:
        approve(governed, own)
    recorded = governed.get(info.value.index or 0)
    assert recorded.type == ENTRY_REFUSED
    assert Approval.model_validate(recorded.payload["approval"]) == own  # stored without its null fields
    assert audit(governed.entries()).ok


@pytest.mark.parametrize("variant", ["no_approval", "accepted_approval", "other_reason", "other_signer"])
def test_a_forged_refusal_is_refused(governed: Ledger, variant: str) -> None:
    payload = forged_refusal()
    genuine = sign_approval(proposal(), key("mx-2")).model_dump(mode="json")
    if variant == "accepted_approval":  # mx-2's real approval: the rules would accept it, not refuse it
        payload["approval"] = genuine
    elif variant in ("other_reason", "other_signer"):  # a real refusal of mx-1's own approval, reworded
        payload = {**forged_refusal(signer="mx-1"),
                   "approval": sign_approval(proposal(), key("mx-1")).model_dump(mode="json")}
        if variant == "other_signer":
            payload = {**payload, "reason_code": "self_approval", "signer": "mx-2",
                       "reason": "the proposer cannot approve its own proposal"}
    size = governed.size()
    with pytest.raises(RuleViolationError, match=rf"entry {size} \(disbursement_refused\): rule refusal_not_derived"):
        governed.append(ENTRY_REFUSED, payload)
    assert governed.size() == size


def test_an_execution_refusal_is_re_decided(governed: Ledger) -> None:
    size = governed.size()
    forged = {"proposal_id": "MDF-1", "stage": "execution", "signer": None, "reason_code": "insufficient_funds",
              "reason": "the MDF is empty", "chain": None}
    with pytest.raises(RuleViolationError, match="rule refusal_not_derived: the rules refuse it otherwise: "
                                                 "quorum_not_met"):
        governed.append(ENTRY_REFUSED, forged)
    assert governed.size() == size


def test_a_forged_refusal_written_around_the_gate_is_named(governed: Ledger) -> None:
    index = around_the_rules(governed, ENTRY_REFUSED, forged_refusal())
    assert faults(governed) == [(index, "refusal_not_derived")]


# -------------------------------------------------------------------------------------------- the CLI


def test_the_cli_refuses_forged_flags_and_refusals(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    log_key: SignerKey,
) -> None:
    size = proposed_ledger(db_url, log_key)
    for entry_type, payload, rule in (
        (ENTRY_BENCHMARK_FLAG, forged_flag("MDF-1"), "benchmark_mismatch"),
        (ENTRY_REFUSED, forged_refusal(), "refusal_not_derived"),
    ):
        code, _, err = naef_main(monkeypatch, capsys, "ledger", "append", db_url, "--type", entry_type,
                                 "--payload", json.dumps(payload))
        assert code == 2
        assert err.startswith(f"error: entry {size} ({entry_type}): rule {rule}")
        assert err.count("\n") == 1
    # a flagged proposal appended through the CLI gets its flag from the gate
    code, _, err = naef_main(monkeypatch, capsys, "ledger", "append", db_url, "--type", ENTRY_PROPOSED,
                               "--payload", json.dumps(signed_payload(flagged_proposal())))
    assert code in (0, None), err
    with Ledger.open(db_url) as ledger:
        assert [e.type for e in ledger.entries(size)] == [ENTRY_PROPOSED, ENTRY_BENCHMARK_FLAG]
        index = around_the_rules(ledger, ENTRY_REFUSED, forged_refusal())
    pub = tmp_path / "log.pub"
    pub.write_text(log_key.verifier().encode() + "\n")
    code, _, err = naef_main(monkeypatch, capsys, "ledger", "audit", db_url, "--key", str(pub))
    assert code == 2
    assert err.startswith(f"error: audit failed: entry {index} (disbursement_refused): rule refusal_not_derived")


def test_a_refusal_recorded_by_the_service_is_refused_as_a_plain_approval_too(governed: Ledger) -> None:
    """The refusal's approval is the request as submitted; appending it as an approval is refused as before."""
    own = sign_approval(proposal(), key("mx-1"))
    with pytest.raises(ApprovalRefusedError):
        approve(governed, own)
    with pytest.raises(RuleViolationError, match="rule self_approval"):
        governed.append(ENTRY_APPROVED, {**own.model_dump(mode="json"), "role": "mexican_board"})


def test_the_portal_names_a_flag_left_out_at_the_end_of_the_log(db_url: str, log_key: SignerKey) -> None:
    pytest.importorskip("fastapi", reason="the web extra is not installed")
    from naef.web.ledger_view import LedgerView

    with Ledger.init(db_url, log_key.verifier()) as ledger:
        bootstrap(ledger, payees=(PAYEE,))
        index = around_the_rules(ledger, ENTRY_PROPOSED, signed_payload(flagged_proposal()))
    view = LedgerView(db_url)
    try:
        status = view.audit_status()
        assert (status["ok"], status["faults"], status["governed_entries"]) == (False, 1, index + 1)
        assert (status["first_fault"]["index"], status["first_fault"]["rule"]) == (index, "missing_benchmark_flag")
    finally:
        view.close()
