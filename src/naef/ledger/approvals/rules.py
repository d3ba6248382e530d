"""The control system's rules as pure functions: the :class:`ControlState` folded from the log, and the
decisions on proposals, approvals, executions and declarations.

Every refusal — unknown proposal or signer, bad signature, signature over an altered proposal, a replayed
approval (the same signer twice, or a signature made for another proposal), the proposer approving its own
proposal, an observer trying to approve, a conflict of interest (with the ownership chain that caused it), an
execution without quorum — is a :class:`Decision` carrying a ``disbursement_refused`` entry and the
:class:`~naef.ledger.approvals.errors.ApprovalRefusedError` to raise once it is recorded. Malformed input raises
a plain :class:`~naef.ledger.errors.LedgerError` and appends nothing.
"""

from __future__ import annotations

import base64
import functools
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from naef.ledger.approvals.errors import (
    AlreadyExecutedError,
    AlteredProposalError,
    ApprovalRefusedError,
    BadSignatureError,
    BenchmarkUnjustifiedError,
    ConflictOfInterestError,
    InsufficientFundsError,
    NotAnApproverError,
    QuorumNotMetError,
    ReplayedApprovalError,
    RuleViolationError,
    SelfApprovalError,
    UnknownProposalError,
    UnknownSignerError,
)
from naef.ledger.approvals.models import (
    ENTRY_AMENDED,
    ENTRY_APPROVED,
    ENTRY_BENCHMARK_FLAG,
    ENTRY_BODS,
    ENTRY_EXECUTED,
    ENTRY_GOVERNANCE,
    ENTRY_INTEREST,
    ENTRY_PROPOSED,
    ENTRY_RECEIPT,
    ENTRY_REFUSED,
    Approval,
    DisbursementProposal,
    GovernanceAmendment,
    Payload,
    SignedAmendment,
    SignedDeclaration,
    SignedProposal,
    approval_message,
    declaration_message,
    governance_sha256,
    identifier_key,
    proposal_message,
    proposal_sha256,
)
from naef.ledger.benchmarking import BenchmarkResult, UnitCostReference, check_unit_cost, load_unit_costs
from naef.ledger.entries import GOVERNED_ENTRY_TYPES
from naef.ledger.errors import LedgerError
from naef.ledger.governance import APPROVING_ROLES, Governance, Role
from naef.ledger.interests import ConflictChain, ConflictReach, InterestDeclaration, OwnershipGraph, find_conflict

__all__ = [
    "ControlState",
    "Decision",
    "ProposalRecord",
    "benchmark_flag_payload",
    "check_proposal",
    "counted_approvers",
    "decide_approval",
    "decide_declaration",
    "decide_execution",
    "decide_proposal",
    "derived_flag",
    "draft_amendment",
    "shipped_references",
]


@dataclass
class ProposalRecord:
    """What the log says about one proposal."""

    signed: SignedProposal
    index: int | None
    approvals: dict[str, Payload] = field(default_factory=dict)  # signer → disbursement_approved payload
    benchmark: Payload | None = None  # the benchmark_flag payload, if flagged
    executed_index: int | None = None
    expected_flag: str | None = None  # why the shipped unit-cost references flag it (None: within range)
    derived_flag: Payload | None = None  # the benchmark_flag payload the rules derive for it (None: within range)

    @property
    def flagged(self) -> bool:
        """Flagged by a ``benchmark_flag`` entry or by the shipped references (a missing flag entry never
        lets an outlier through)."""
        return self.benchmark is not None or self.expected_flag is not None

    @property
    def proposal(self) -> DisbursementProposal:
        """The recorded proposal."""
        return self.signed.proposal


@dataclass
class ControlState:
    """The control system's state, folded from the log's entries in index order (pure; no I/O).

    :meth:`apply` applies an entry that the rules admitted (:func:`naef.ledger.approvals.admission.admit`
    checks first); ``faults`` lists the stored entries the rules did not admit (they are skipped, never
    applied, so one bad row never blocks the rest of the log).
    """

    governance: Governance = field(default_factory=Governance)
    governance_index: int | None = None
    governance_sha256: str | None = None  # SHA-256 of JCS(the registered governance payload)
    amendments: list[int | None] = field(default_factory=list)  # indexes of the governance_amended entries
    proposals: dict[str, ProposalRecord] = field(default_factory=dict)
    graph: OwnershipGraph = field(default_factory=OwnershipGraph)
    declarations: list[InterestDeclaration] = field(default_factory=list)
    statement_ids: set[str] = field(default_factory=set)
    record_ids: dict[str, str] = field(default_factory=dict)  # NFC recordId → "entity" | "person"
    record_types: dict[str, str] = field(default_factory=dict)  # recordId → latest recordType (any record)
    signature_owner: dict[bytes, str] = field(default_factory=dict)  # approval signature → proposal id
    receipts: dict[str, int | None] = field(default_factory=dict)  # receipt id → index
    received_usd: Decimal = Decimal("0.00")
    disbursed_usd: Decimal = Decimal("0.00")
    faults: list[RuleViolationError] = field(default_factory=list)
    awaiting_flag: ProposalRecord | None = None  # a flagged proposal whose derived flag must be the next entry
    admitted: Counter[str] = field(default_factory=Counter)
    signatures_checked: int = 0

    RELEVANT_TYPES: ClassVar[frozenset[str]] = GOVERNED_ENTRY_TYPES

    @property
    def balance_usd(self) -> Decimal:
        """The MDF's recorded balance: receipts minus executed disbursements."""
        return self.received_usd - self.disbursed_usd

    def apply(self, entry_type: str, payload: Mapping[str, Any], *, index: int | None = None) -> None:
        """Apply one entry the rules admitted (other types are ignored)."""
        if entry_type == ENTRY_GOVERNANCE:
            self.governance = Governance.model_validate(dict(payload))
            self.governance_index = index
            self.governance_sha256 = governance_sha256(dict(payload))
        elif entry_type == ENTRY_AMENDED:
            amendment = SignedAmendment.model_validate(dict(payload)).amendment
            self.governance = self.governance.model_copy(update={"conflict_reach": amendment.conflict_reach})
            self.amendments.append(index)
        elif entry_type == ENTRY_PROPOSED:
            signed = SignedProposal.model_validate(dict(payload))
            flag = derived_flag(signed.proposal)
            rec = ProposalRecord(
                signed=signed,
                index=index,
                expected_flag=None if flag is None else str(flag["message"]),
                derived_flag=flag,
            )
            self.proposals[signed.proposal.proposal_id] = rec
            self.awaiting_flag = None if flag is None else rec
        elif entry_type == ENTRY_APPROVED:
            rec = self.proposals[str(payload["proposal_id"])]
            rec.approvals[str(payload["signer"])] = dict(payload)
            self.signature_owner[base64.b64decode(str(payload["signature"]))] = rec.proposal.proposal_id
        elif entry_type == ENTRY_BENCHMARK_FLAG:
            self.proposals[str(payload["proposal_id"])].benchmark = dict(payload)
            self.awaiting_flag = None
        elif entry_type == ENTRY_EXECUTED:
            self.proposals[str(payload["proposal_id"])].executed_index = index if index is not None else -1
            self.disbursed_usd += Decimal(str(payload["amount_usd"]))
        elif entry_type == ENTRY_BODS:
            statement = payload["statement"]
            self.graph.add_statement(statement)
            self.statement_ids.add(str(statement.get("statementId", "")))
            record_type = statement.get("recordType")
            self.record_types[str(statement.get("recordId"))] = str(record_type)
            if record_type in ("entity", "person"):
                key = identifier_key(str(statement.get("recordId", "")))
                if statement.get("recordStatus") == "closed":
                    self.record_ids.pop(key, None)
                else:
                    self.record_ids[key] = str(record_type)
        elif entry_type == ENTRY_INTEREST:
            data = {k: v for k, v in payload.items() if k != "signature"}
            self.declarations.append(InterestDeclaration.model_validate(data))
        elif entry_type == ENTRY_RECEIPT:
            self.receipts[str(payload["receipt_id"])] = index
            self.received_usd += Decimal(str(payload["amount_usd"]))
        if entry_type in GOVERNED_ENTRY_TYPES:
            self.admitted[entry_type] += 1

    def conflict(self, signer: str, payee: str) -> ConflictChain | None:
        """The ownership chain barring ``signer`` from approving a payment to ``payee`` (None: no
        conflict), as far as the governance in force reaches (``conflict_reach``)."""
        return find_conflict(
            self.graph, self.declarations, signer=signer, payee=payee, reach=self.governance.conflict_reach
        )

    def knows_payee(self, payee: str) -> bool:
        """Whether ``payee`` is the recordId of a BODS entity or person in force (exact match after NFC)."""
        return identifier_key(payee) in self.record_ids


@functools.cache
def shipped_references() -> Mapping[str, UnitCostReference]:
    """The shipped unit-cost references (:func:`naef.ledger.benchmarking.load_unit_costs`), read once per process:
    the one table both the proposal's decision and the gate's derived flag use (package data)."""
    return load_unit_costs()


def derived_flag(proposal: DisbursementProposal) -> Payload | None:
    """The ``benchmark_flag`` payload the rules derive for ``proposal`` from the shipped unit-cost references
    (:func:`benchmark_flag_payload` of :func:`naef.ledger.benchmarking.check_unit_cost`), or None when its unit
    cost is within range: flagged ⇔ no unit-cost figures, or unit cost < low_usd, or unit cost > high_usd. The
    storage gate writes exactly this entry right after the proposal; no caller writes a flag. Raises
    :class:`~naef.ledger.benchmarking.BenchmarkError` for an unknown project type or unit."""
    result = check_unit_cost(proposal.unit_cost, shipped_references())
    return benchmark_flag_payload(proposal.proposal_id, result) if result.flagged else None


@dataclass
class Decision:
    """Entries to append, and the refusal to raise after appending them (None when accepted)."""

    entries: list[tuple[str, Payload]]
    refusal: ApprovalRefusedError | None = None



def check_proposal(state: ControlState, signed: SignedProposal) -> None:
    """LedgerError unless the signed proposal may be recorded.

    Checks: the proposal id is new; the proposer is a stakeholder; ``proposal_sha256`` is the proposal's hash;
    the proposer's signature verifies over :func:`proposal_message`; the payee is the recordId of a BODS entity
    or person in force (exact match after NFC; the model already refused whitespace, control and zero-width
    characters); the unit-cost claim names a known project type in its unit
    (:func:`naef.ledger.benchmarking.check_unit_cost`).
    """
    p = signed.proposal
    pid = p.proposal_id
    if pid in state.proposals:
        raise LedgerError(f"proposal {pid}: proposal_id already used (entry {state.proposals[pid].index})")
    proposer = state.governance.stakeholder(p.proposer)
    if proposer is None:
        raise LedgerError(
            f"proposal {pid}: proposer {p.proposer!r} is not a stakeholder of the governance in force"
        )
    if signed.proposal_sha256 != proposal_sha256(p):
        raise LedgerError(f"proposal {pid}: proposal_sha256 does not match the proposal's canonical form")
    if not proposer.verifier.verify_raw(proposal_message(p), base64.b64decode(signed.signature)):
        raise LedgerError(f"proposal {pid}: proposer signature does not verify with {p.proposer}'s key")
    if not state.knows_payee(p.payee):
        raise LedgerError(
            f"proposal {pid}: payee {p.payee!r} is not the recordId of a BODS entity or person in the ledger "
            "(import its beneficial-ownership statement first)"
        )


def decide_proposal(
    state: ControlState, signed: SignedProposal, references: Mapping[str, UnitCostReference]
) -> list[tuple[str, Payload]]:
    """Entries for a new proposal: ``disbursement_proposed`` (+ ``benchmark_flag`` when ``references`` put
    its unit cost out of range). Bad input raises LedgerError (:func:`check_proposal`)."""
    check_proposal(state, signed)
    p = signed.proposal
    pid = p.proposal_id
    result = check_unit_cost(p.unit_cost, references)
    entries: list[tuple[str, Payload]] = [(ENTRY_PROPOSED, signed.model_dump(mode="json"))]
    if result.flagged:
        entries.append((ENTRY_BENCHMARK_FLAG, benchmark_flag_payload(pid, result)))
    return entries


def benchmark_flag_payload(proposal_id: str, result: BenchmarkResult) -> Payload:
    """Payload of a ``benchmark_flag`` entry."""
    return {"proposal_id": proposal_id, "message": result.describe(), **result.model_dump(mode="json")}


def _refusal(
    cls: type[ApprovalRefusedError],
    *,
    proposal_id: str,
    stage: str,
    signer: str | None,
    reason: str,
    chain: ConflictChain | None = None,
    approval: Approval | None = None,
) -> Decision:
    who = f" by {signer}" if signer else ""
    message = f"{stage} of proposal {proposal_id}{who} refused ({cls.code}): {reason}"
    payload: Payload = {
        "proposal_id": proposal_id,
        "stage": stage,
        "signer": signer,
        "reason_code": cls.code,
        "reason": reason,
        "chain": chain.as_json() if chain else None,
    }
    if approval is not None:  # the refused request itself, signed (or not) as submitted: admission re-decides it
        payload["approval"] = approval.model_dump(mode="json")
    return Decision(entries=[(ENTRY_REFUSED, payload)], refusal=cls(message, chain=chain))


def decide_approval(state: ControlState, approval: Approval) -> Decision:
    """Accept (one ``disbursement_approved`` entry) or refuse (one ``disbursement_refused`` entry) an
    approval.

    Order of checks: known proposal → known signer → signature (replayed from another proposal / over an
    altered text / bad) → role may approve → not the proposer → not already approved by this signer (the one
    repeat allowed adds a justification to an approval that had none) → not executed → no conflict of interest
    (:func:`naef.ledger.interests.find_conflict`).
    """
    pid, signer = approval.proposal_id, approval.signer

    def refuse(cls: type[ApprovalRefusedError], reason: str, chain: ConflictChain | None = None) -> Decision:
        return _refusal(
            cls, proposal_id=pid, stage="approval", signer=signer, reason=reason, chain=chain, approval=approval
        )

    rec = state.proposals.get(pid)
    if rec is None:
        return refuse(UnknownProposalError, f"no proposal {pid!r} in the log")
    stakeholder = state.governance.stakeholder(signer)
    if stakeholder is None:
        return refuse(UnknownSignerError, f"{signer!r} is not a stakeholder of the governance in force")
    vkey = stakeholder.verifier
    sig = approval.signature_bytes
    if not vkey.verify_raw(approval_message(rec.proposal, approval.justification), sig):
        owner = state.signature_owner.get(sig)
        if owner is not None and owner != pid:
            return refuse(ReplayedApprovalError, f"the signature was recorded for proposal {owner}")
        for other_id, other in state.proposals.items():
            if (
                other_id != pid
                and other.signed.proposal_sha256 == approval.proposal_sha256
                and vkey.verify_raw(approval_message(other.proposal, approval.justification), sig)
            ):
                return refuse(ReplayedApprovalError, f"the signature was made for proposal {other_id}")
        if approval.proposal_sha256 != rec.signed.proposal_sha256:
            return refuse(
                AlteredProposalError,
                f"signed a proposal text with sha256 {approval.proposal_sha256[:16]}…, "
                f"the recorded proposal has {rec.signed.proposal_sha256[:16]}…",
            )
        return refuse(BadSignatureError, f"signature does not verify with {signer}'s key")
    if approval.proposal_sha256 != rec.signed.proposal_sha256:
        return refuse(AlteredProposalError, "proposal_sha256 does not match the recorded proposal")
    if stakeholder.role not in APPROVING_ROLES:
        return refuse(NotAnApproverError, f"role {stakeholder.role} does not approve disbursements")
    if signer == rec.proposal.proposer:
        return refuse(SelfApprovalError, "the proposer cannot approve its own proposal")
    if signer in rec.approvals:
        earlier = (rec.approvals[signer].get("justification") or "").strip()
        if earlier or not (approval.justification or "").strip():
            return refuse(ReplayedApprovalError, f"{signer} already approved this proposal")
        # the one repeat allowed: an approval without justification completed by a justified one
    if rec.executed_index is not None:
        return refuse(AlreadyExecutedError, "the disbursement was already executed")
    chain = state.conflict(signer, rec.proposal.payee)
    if chain is not None:
        how = "" if chain.direction == "upward" else f" ({chain.direction})"
        reason = f"declared interest reaches the payee{how}: {chain.describe()}"
        return refuse(ConflictOfInterestError, reason, chain)
    payload: Payload = {**approval.model_dump(mode="json"), "role": stakeholder.role}
    return Decision(entries=[(ENTRY_APPROVED, payload)])


def counted_approvers(state: ControlState, rec: ProposalRecord) -> tuple[dict[str, Role], list[str]]:
    """Approvers that count now (name → role), and why the others do not.

    An approval counts when its signer is still a stakeholder with an approving role and has no conflict of
    interest with the payee as of now (declarations or ownership may have been recorded after it approved).
    """
    counted: dict[str, Role] = {}
    ignored: list[str] = []
    for name in sorted(rec.approvals):
        s = state.governance.stakeholder(name)
        if s is None or s.role not in APPROVING_ROLES:
            ignored.append(f"{name} (no longer an approver)")
        elif state.conflict(name, rec.proposal.payee) is not None:
            ignored.append(f"{name} (conflict of interest)")
        else:
            counted[name] = s.role
    return counted, ignored


def decide_execution(state: ControlState, proposal_id: str) -> Decision:
    """Execute (``disbursement_executed``) or refuse (``disbursement_refused``, stage ``execution``).

    Rule: quorum_shortfall(counted approvers) = ∅; if the proposal is flagged (a ``benchmark_flag`` entry, or
    the shipped references put its unit cost out of range), at least one counted approval by an
    ``independent_controller`` has a non-empty justification; and amount ≤ the MDF's recorded balance
    (receipts − executed disbursements).
    """

    def refuse(cls: type[ApprovalRefusedError], reason: str) -> Decision:
        return _refusal(cls, proposal_id=proposal_id, stage="execution", signer=None, reason=reason)

    rec = state.proposals.get(proposal_id)
    if rec is None:
        return refuse(UnknownProposalError, f"no proposal {proposal_id!r} in the log")
    if rec.executed_index is not None:
        return refuse(AlreadyExecutedError, f"already executed at entry {rec.executed_index}")
    counted, ignored = counted_approvers(state, rec)
    missing = state.governance.quorum_shortfall(counted)
    if missing:
        extra = f"; not counted: {', '.join(ignored)}" if ignored else ""
        return refuse(QuorumNotMetError, f"quorum needs {', '.join(missing)}{extra}")
    if rec.flagged:
        justified = [
            name
            for name, role in counted.items()
            if role == "independent_controller" and (rec.approvals[name].get("justification") or "").strip()
        ]
        if not justified:
            return refuse(
                BenchmarkUnjustifiedError,
                f"benchmark flag ({_flag_message(rec)}) needs the independent controller's approval with a "
                "justification",
            )
    p = rec.proposal
    if p.amount_usd > state.balance_usd:
        return refuse(
            InsufficientFundsError,
            f"amount {p.amount_usd} USD exceeds the MDF's recorded balance {state.balance_usd} USD "
            f"(received {state.received_usd}, disbursed {state.disbursed_usd})",
        )
    payload: Payload = {
        "proposal_id": proposal_id,
        "proposal_sha256": rec.signed.proposal_sha256,
        "payee": p.payee,
        "amount_usd": str(p.amount_usd),
        "approvals": sorted(counted),
        "benchmark_flagged": rec.flagged,
    }
    return Decision(entries=[(ENTRY_EXECUTED, payload)])


def _flag_message(rec: ProposalRecord) -> str:
    if rec.benchmark is not None:
        return str(rec.benchmark.get("message", "flagged"))
    return rec.expected_flag or "flagged"


def decide_declaration(state: ControlState, declaration: SignedDeclaration) -> list[tuple[str, Payload]]:
    """Entries for a declaration of interest; the declarant must be a stakeholder and the signature its own
    (else LedgerError)."""
    stakeholder = state.governance.stakeholder(declaration.declarant)
    if stakeholder is None:
        raise LedgerError(
            f"interest declaration: declarant {declaration.declarant!r} is not a stakeholder of the "
            "governance in force"
        )
    sig = base64.b64decode(declaration.signature)
    if not stakeholder.verifier.verify_raw(declaration_message(declaration.declaration), sig):
        raise LedgerError(
            f"interest declaration: signature does not verify with {declaration.declarant}'s registered key"
        )
    return [(ENTRY_INTEREST, declaration.model_dump(mode="json"))]



def draft_amendment(state: ControlState, reach: ConflictReach) -> GovernanceAmendment:
    """The next amendment of the governance in force, setting the conflict screen's reach to ``reach`` (what the
    approvers then sign with :func:`~naef.ledger.approvals.models.sign_amendment`); LedgerError when no
    governance is registered."""
    if state.governance_sha256 is None:
        raise LedgerError("governance: none registered in this ledger; nothing to amend")
    return GovernanceAmendment(
        governance_sha256=state.governance_sha256, sequence=len(state.amendments) + 1, conflict_reach=reach
    )
