"""Property (issue 14): random sequences of valid and invalid governed operations (amendments of the conflict
screen's reach among them), through the service and
straight through ``Ledger.append``, leave a log whose audit passes; every operation built to be invalid is
refused, and a refusal appends nothing (or only its recorded ``disbursement_refused`` entry). Forged red flags
(review of issues 14/20, F1, F3, F4) are drawn too: caller-written benchmark flags (forged or the rules' own) and
refusals the rules never decided are refused; a flagged proposal always has its flag right after it; and a
recorded refusal appended again is admitted only while the rules still decide it the same way."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naef.ledger import generate_key
from naef.ledger.approvals import (
    ENTRY_AMENDED,
    ENTRY_APPROVED,
    ENTRY_BENCHMARK_FLAG,
    ENTRY_EXECUTED,
    ENTRY_PROPOSED,
    ENTRY_REFUSED,
    ApprovalRefusedError,
    DisbursementProposal,
    MdfReceipt,
    SignedAmendment,
    amend_governance,
    approve,
    control_state,
    derived_flag,
    draft_amendment,
    execute,
    proposal_sha256,
    propose,
    record_receipt,
    sign_amendment,
    sign_approval,
    sign_proposal,
    sign_receipt,
)
from naef.ledger.audit import audit
from naef.ledger.benchmarking import UnitCostClaim
from naef.ledger.errors import LedgerError
from naef.ledger.interests import ConflictReach
from naef.ledger.keys import SignerKey
from naef.ledger.log import Ledger
from tests.ledger.governed import ROLES, bootstrap, key

PIDS = ["P-1", "P-2", "P-3"]
PAYEES = {"known": "payee-1", "unknown": "payee-9"}
SIGNERS = [*ROLES, "stranger"]


def _proposal(pid: str, payee: str, amount: int, *, flagged: bool = False) -> DisbursementProposal:
    """Unit cost 1,000,000 USD/lane_km (within road_new_two_lane's range) or, ``flagged``, 10,000,000 (above it)."""
    return DisbursementProposal(
        proposal_id=pid, payee=payee, amount_usd=f"{amount}.00", project_id="p", purpose="works", proposer="mx-1",
        unit_cost=UnitCostClaim(project_type="road_new_two_lane", unit="lane_km", quantity=1 if flagged else 10,
                                contract_cost_usd="10000000.00"),
    )


def _forged_flag(pid: str, p: DisbursementProposal, how: str) -> dict[str, Any]:
    """A caller-written flag: the rules' own (``derived``), one saying 'within range', or one with its figures
    changed."""
    own = derived_flag(p) or derived_flag(_proposal(pid, p.payee, 1, flagged=True))
    assert own is not None
    if how == "derived":
        return own
    if how == "within":
        return {**own, "flagged": False, "reason": "within_range", "message": "within range"}
    return {**own, "unit_cost_usd": 1.0, "message": "unit cost 1.00 USD/lane_km"}


def _forged_refusal(pid: str, signer: str, stage: str, approval: DisbursementProposal | None) -> dict[str, Any]:
    """A refusal nobody's rules decided: a made-up reason, with or without a genuinely signed approval."""
    payload: dict[str, Any] = {"proposal_id": pid, "stage": stage, "signer": signer if stage == "approval" else None,
                               "reason_code": "conflict_of_interest", "reason": f"{signer} is paid by the payee"}
    if approval is not None and stage == "approval":
        payload["approval"] = sign_approval(approval, key(signer)).model_dump(mode="json")
    return payload


operation = st.one_of(
    st.tuples(st.just("propose"), st.sampled_from(PIDS), st.sampled_from(sorted(PAYEES)),
              st.sampled_from([10_000_000, 80_000_000, 400_000_000]), st.booleans(), st.booleans()),
    st.tuples(st.just("forge_flag"), st.sampled_from(PIDS), st.sampled_from(["derived", "within", "figures"])),
    st.tuples(st.just("forge_refusal"), st.sampled_from(PIDS), st.sampled_from(SIGNERS),
              st.sampled_from(["approval", "execution"]), st.booleans()),
    st.tuples(st.just("replay_refusal"),),
    st.tuples(st.just("approve"), st.sampled_from(PIDS), st.sampled_from(SIGNERS), st.booleans()),
    st.tuples(st.just("execute"), st.sampled_from(PIDS)),
    st.tuples(st.just("receipt"), st.integers(0, 4), st.sampled_from(["registrar", "controller", "mx-1"]),
              st.booleans()),
    st.tuples(st.just("forge_execution"), st.sampled_from(PIDS)),
    st.tuples(st.just("amend"), st.sets(st.sampled_from(("downward", "sideways"))),
              st.sets(st.sampled_from(["mx-1", "na-1", "controller", "observer", "stranger"]), min_size=1),
              st.booleans()),
)
QUORUM = {"mx-1", "na-1", "controller"}  # one of each approving role: the default quorum


def _run(ledger: Ledger, op: tuple[Any, ...], proposals: dict[str, DisbursementProposal]) -> bool:
    """Apply one operation; True when it was built to be invalid (it must then be refused)."""
    kind = op[0]
    if kind == "propose":  # through the service, or straight through Ledger.append (the gate adds the flag)
        _, pid, payee_kind, amount, flagged, direct = op
        p = _proposal(pid, PAYEES[payee_kind], amount, flagged=flagged)
        invalid = payee_kind == "unknown" or pid in proposals
        before = ledger.size()
        if direct:
            ledger.append(ENTRY_PROPOSED, sign_proposal(p, key("mx-1")).model_dump(mode="json"))
        else:
            propose(ledger, sign_proposal(p, key("mx-1")))
        assert ledger.size() == before + (2 if flagged else 1)
        if flagged:
            assert dict(ledger.get(before + 1).payload) == derived_flag(p)
        proposals[pid] = p
        return invalid
    if kind == "forge_flag":  # callers never write flags
        _, pid, how = op
        p = proposals.get(pid, _proposal(pid, PAYEES["known"], 1))
        ledger.append(ENTRY_BENCHMARK_FLAG, _forged_flag(pid, p, how))
        return True
    if kind == "forge_refusal":
        _, pid, signer, stage, with_approval = op
        ledger.append(ENTRY_REFUSED, _forged_refusal(pid, signer, stage, proposals.get(pid) if with_approval else None))
        return True
    if kind == "replay_refusal":  # a recorded refusal again: admitted only if the rules still decide it so
        recorded = list(ledger.entries(entry_type=ENTRY_REFUSED))
        if not recorded:
            raise LedgerError("no refusal recorded yet")  # nothing to replay: nothing appended
        ledger.append(ENTRY_REFUSED, dict(recorded[-1].payload))
        return False
    if kind == "approve":
        _, pid, signer, genuine = op
        p = proposals.get(pid, _proposal(pid, PAYEES["known"], 1))
        approval = sign_approval(p, key(signer))
        if not genuine:
            approval = approval.model_copy(update={"signature": base64.b64encode(os.urandom(64)).decode()})
        approve(ledger, approval)
        return not genuine or signer in ("stranger", "observer", "registrar", "mx-1")
    if kind == "execute":
        execute(ledger, op[1])
        return False
    if kind == "receipt":
        _, n, recorder, genuine = op
        receipt = MdfReceipt(receipt_id=f"R-{n}", period="2030Q1", amount_usd="50000000.00", source="waterfall",
                             recorder=recorder)
        signer = key(recorder) if genuine else SignerKey(recorder, key("na-1").seed)
        record_receipt(ledger, sign_receipt(receipt, signer))
        return not genuine or recorder == "mx-1"
    if kind == "amend":  # widen the conflict screen, signed by some stakeholders; or replay the last amendment
        _, wider, signers, replay = op
        state = control_state(ledger)
        if replay and state.amendments:
            ledger.append(ENTRY_AMENDED, dict(ledger.get(state.amendments[-1]).payload))
            return True
        draft = draft_amendment(state, ConflictReach(directions=("upward", *sorted(wider))))
        signed = SignedAmendment(amendment=draft, signatures=[sign_amendment(draft, key(n)) for n in sorted(signers)])
        amend_governance(ledger, signed)
        return signers != QUORUM  # the choices beyond the quorum (observer, stranger) may not sign
    pid = op[1]  # forge_execution: an execution entry appended with no decision behind it
    p = proposals.get(pid, _proposal(pid, PAYEES["known"], 1))
    ledger.append(ENTRY_EXECUTED, {"proposal_id": pid, "proposal_sha256": proposal_sha256(p), "payee": p.payee,
                                   "amount_usd": str(p.amount_usd), "approvals": [], "benchmark_flagged": False})
    return True


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=14))
def test_random_governed_operations_leave_an_audited_log(tmp_path_factory: Any, ops: list[tuple[Any, ...]]) -> None:
    folder: Path = tmp_path_factory.mktemp("prop")
    with Ledger.init(str(folder / "l.db"), generate_key("t.example/log").verifier()) as ledger:
        bootstrap(ledger, payees=(PAYEES["known"],), funds_usd="0")
        proposals: dict[str, DisbursementProposal] = {}
        for op in ops:
            before = ledger.size()
            outcome = "accepted"
            recorded_at: int | None = None
            try:
                invalid = _run(ledger, op, proposals)
            except ApprovalRefusedError as refusal:  # refused and recorded: exactly one refusal entry
                outcome, recorded_at = "recorded", refusal.index
            except (LedgerError, ValueError):  # refused: nothing appended
                outcome = "refused"
            if outcome == "recorded":
                assert (recorded_at, ledger.size()) == (before, before + 1)
                assert ledger.get(before).type == ENTRY_REFUSED
            elif outcome == "refused":
                assert ledger.size() == before
            else:
                assert not invalid, f"{op} was built to be invalid but was accepted"
                assert ledger.size() > before
        report = audit(ledger.entries())
        assert report.ok, report.line()
        assert report.disbursed_usd <= report.received_usd
        approvals = [e for e in ledger.entries(entry_type=ENTRY_APPROVED)]
        assert all(e.payload["signer"] not in ("stranger", "observer", "registrar") for e in approvals)
