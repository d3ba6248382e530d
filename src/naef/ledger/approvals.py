"""Disbursement proposals, approvals by stakeholders' own signatures, and execution under the quorum.

Flow (DESIGN.md §5; issue 6 items 4-6):

1. **Propose.** A stakeholder writes a :class:`DisbursementProposal` and signs it with its own key;
   the ledger records ``disbursement_proposed`` and, when the unit cost is outside the reference range (or
   missing), a ``benchmark_flag`` (:mod:`naef.ledger.benchmarking`).
2. **Approve.** Each approver signs, *on its own machine*, the message

       b"naef disbursement approval v1\\n" || JCS({"justification": j, "proposal": proposal})

   where JCS is RFC 8785 canonical JSON and ``j`` is null or the approver's justification (the controller's,
   for a flagged disbursement). Signatures are RFC 8032 Ed25519 with the key registered in the governance; the
   server only ever sees public keys. The proposer's own signature uses a different context line
   (``naef disbursement proposal v1``), so it can never pass as an approval.
3. **Execute.** Allowed only when the approvals meet the governance's quorum and, for a flagged disbursement,
the
   independent controller approved with a justification.

Every refusal — unknown proposal or signer, bad signature, signature over an altered proposal, a replayed
approval (the same signer twice, or a signature made for another proposal), the proposer approving its own
proposal, an observer trying to approve, a conflict of interest (with the ownership chain that caused it), an
execution without quorum — is itself recorded as a ``disbursement_refused`` entry, then raised as an
:class:`ApprovalRefusedError` subclass. Malformed input (not a proposal, not JSON, bad base64 length...)
raises a plain :class:`~naef.ledger.errors.LedgerError` and appends nothing.

The decisions are pure functions of a :class:`ControlState` (a fold of the log's entries); the functions at
the end of the module read the log, decide and append.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal, TypeVar

import rfc8785
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, field_validator

from naef.ledger.benchmarking import (
    BenchmarkResult,
    UnitCostClaim,
    UnitCostReference,
    check_unit_cost,
    load_unit_costs,
)
from naef.ledger.entries import Usd, register_entry_type
from naef.ledger.errors import LedgerError
from naef.ledger.governance import APPROVING_ROLES, Governance, Role
from naef.ledger.interests import ConflictChain, InterestDeclaration, OwnershipGraph, find_conflict
from naef.ledger.keys import SignerKey
from naef.ledger.log import Ledger, LedgerTransaction

__all__ = [
    "APPROVAL_CONTEXT",
    "ENTRY_APPROVED",
    "ENTRY_BENCHMARK_FLAG",
    "ENTRY_BODS",
    "ENTRY_EXECUTED",
    "ENTRY_GOVERNANCE",
    "ENTRY_INTEREST",
    "ENTRY_PROPOSED",
    "ENTRY_REFUSED",
    "GOVERNED_ENTRY_TYPES",
    "PROPOSAL_CONTEXT",
    "AlreadyExecutedError",
    "AlteredProposalError",
    "Approval",
    "ApprovalRefusedError",
    "BadSignatureError",
    "BenchmarkFlagRecord",
    "BenchmarkUnjustifiedError",
    "ConflictOfInterestError",
    "ControlState",
    "Decision",
    "DisbursementProposal",
    "ExecutionRecord",
    "NotAnApproverError",
    "ProposalRecord",
    "QuorumNotMetError",
    "RecordedApproval",
    "RefusalRecord",
    "ReplayedApprovalError",
    "SelfApprovalError",
    "SignedProposal",
    "UnknownProposalError",
    "UnknownSignerError",
    "approval_message",
    "approve",
    "benchmark_flag_payload",
    "canonical_proposal",
    "control_state",
    "counted_approvers",
    "decide_approval",
    "decide_declaration",
    "decide_execution",
    "decide_proposal",
    "declare_interest",
    "execute",
    "find_proposal",
    "parse_model",
    "proposal_message",
    "proposal_sha256",
    "propose",
    "register_governance",
    "sign_approval",
    "sign_proposal",
]

ENTRY_GOVERNANCE = "governance_registered"
ENTRY_PROPOSED = "disbursement_proposed"
ENTRY_APPROVED = "disbursement_approved"
ENTRY_REFUSED = "disbursement_refused"
ENTRY_EXECUTED = "disbursement_executed"
ENTRY_BENCHMARK_FLAG = "benchmark_flag"
ENTRY_BODS = "beneficial_ownership_statement"
ENTRY_INTEREST = "interest_declaration"

PROPOSAL_CONTEXT = b"naef disbursement proposal v1\n"
APPROVAL_CONTEXT = b"naef disbursement approval v1\n"

Payload = dict[str, Any]
_M = TypeVar("_M", bound=BaseModel)


# ---------------------------------------------------------------------------------------------- models


class DisbursementProposal(BaseModel):
    """A proposed payment from the MDF (the object every approval signs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    proposal_id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$", description="Unique id, e.g. MDF-2027-004."
    )
    payee: str = Field(min_length=1, description="Payee identifier: the BODS recordId of the payee entity.")
    payee_name: str = Field(default="", description="Payee's name, for people.")
    amount_usd: Usd = Field(description="Amount to disburse, USD exact to the cent (JSON: decimal string).")
    project_id: str = Field(min_length=1, description="MDF project the payment belongs to.")
    purpose: str = Field(min_length=1, description="What the money pays for.")
    proposer: str = Field(min_length=1, description="Stakeholder who proposes (and signs) the disbursement.")
    unit_cost: UnitCostClaim | None = Field(default=None, description="Figures for the benchmark check.")

    @field_validator("amount_usd")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("must be greater than 0")
        return value


def canonical_proposal(proposal: DisbursementProposal) -> bytes:
    """RFC 8785 (JCS) canonical JSON of the proposal."""
    return bytes(rfc8785.dumps(proposal.model_dump(mode="json")))


def proposal_sha256(proposal: DisbursementProposal) -> str:
    """Hex SHA-256 of the canonical proposal: the id of one exact text of the proposal."""
    return hashlib.sha256(canonical_proposal(proposal)).hexdigest()


def proposal_message(proposal: DisbursementProposal) -> bytes:
    """What the proposer signs: ``PROPOSAL_CONTEXT || JCS(proposal)``."""
    return PROPOSAL_CONTEXT + canonical_proposal(proposal)


def approval_message(proposal: DisbursementProposal, justification: str | None) -> bytes:
    """What an approver signs: ``APPROVAL_CONTEXT || JCS({"justification": j, "proposal": proposal})``."""
    body = {"justification": justification, "proposal": proposal.model_dump(mode="json")}
    return APPROVAL_CONTEXT + bytes(rfc8785.dumps(body))


def _b64_signature(value: str) -> str:
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ValueError("signature is not standard base64") from None
    if len(raw) != 64:
        raise ValueError(f"an Ed25519 signature has 64 bytes, got {len(raw)}")
    return value


class SignedProposal(BaseModel):
    """A proposal with its proposer's signature (payload of ``disbursement_proposed``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    proposal: DisbursementProposal
    proposal_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    signature: str = Field(
        description="base64 Ed25519 signature by the proposer over proposal_message(proposal)."
    )

    @field_validator("signature")
    @classmethod
    def _signature_form(cls, value: str) -> str:
        return _b64_signature(value)


class Approval(BaseModel):
    """One stakeholder's approval of one proposal (payload of ``disbursement_approved``, minus ``role``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    proposal_id: str = Field(min_length=1)
    proposal_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the proposal text signed."
    )
    signer: str = Field(min_length=1)
    justification: str | None = Field(default=None, description="Required from the controller when flagged.")
    signature: str = Field(
        description="base64 Ed25519 signature over approval_message(proposal, justification)."
    )

    @field_validator("signature")
    @classmethod
    def _signature_form(cls, value: str) -> str:
        return _b64_signature(value)

    @property
    def signature_bytes(self) -> bytes:
        """The raw 64-byte signature."""
        return base64.b64decode(self.signature)


def _signer(key: str | SignerKey) -> SignerKey:
    return key if isinstance(key, SignerKey) else SignerKey.parse(key)


def sign_proposal(proposal: DisbursementProposal, proposer_key: str | SignerKey) -> SignedProposal:
    """Sign a proposal locally with the proposer's private key (``PRIVATE+KEY+...`` string or
    :class:`SignerKey`)."""
    key = _signer(proposer_key)
    if key.name != proposal.proposer:
        raise LedgerError(f"proposer key {key.name!r} does not belong to the proposer {proposal.proposer!r}")
    signature = base64.b64encode(key.sign(proposal_message(proposal))).decode("ascii")
    return SignedProposal(proposal=proposal, proposal_sha256=proposal_sha256(proposal), signature=signature)


def sign_approval(
    proposal: DisbursementProposal, signer_key: str | SignerKey, *, justification: str | None = None
) -> Approval:
    """Sign an approval locally: the private key never leaves the caller."""
    key = _signer(signer_key)
    signature = base64.b64encode(key.sign(approval_message(proposal, justification))).decode("ascii")
    return Approval(
        proposal_id=proposal.proposal_id,
        proposal_sha256=proposal_sha256(proposal),
        signer=key.name,
        justification=justification,
        signature=signature,
    )


# -------------------------------------------------------------------------------------------- refusals


class ApprovalRefusedError(LedgerError):
    """An approval or execution was refused; the refusal was (or is about to be) recorded in the log.

    ``code`` is the machine-readable reason; ``chain`` the ownership chain for a conflict of interest;
    ``index`` the log index of the ``disbursement_refused`` entry once appended.
    """

    code: ClassVar[str] = "refused"

    def __init__(self, message: str, *, chain: ConflictChain | None = None) -> None:
        super().__init__(message)
        self.chain = chain
        self.index: int | None = None


class UnknownProposalError(ApprovalRefusedError):
    """The proposal id is not in the log."""

    code = "unknown_proposal"


class UnknownSignerError(ApprovalRefusedError):
    """The signer is not a stakeholder of the governance in force."""

    code = "unknown_signer"


class BadSignatureError(ApprovalRefusedError):
    """The signature does not verify with the signer's registered key."""

    code = "bad_signature"


class AlteredProposalError(ApprovalRefusedError):
    """The signature was made over a different text of the proposal than the one recorded."""

    code = "altered_proposal"


class ReplayedApprovalError(ApprovalRefusedError):
    """The signer already approved this proposal, or the signature was made for another proposal."""

    code = "replayed_approval"


class SelfApprovalError(ApprovalRefusedError):
    """The proposer tried to approve its own proposal."""

    code = "self_approval"


class NotAnApproverError(ApprovalRefusedError):
    """The signer's role (observer) does not approve disbursements."""

    code = "not_an_approver"


class ConflictOfInterestError(ApprovalRefusedError):
    """The signer's declared interests reach the payee through the ownership graph."""

    code = "conflict_of_interest"


class AlreadyExecutedError(ApprovalRefusedError):
    """The disbursement was already executed."""

    code = "already_executed"


class QuorumNotMetError(ApprovalRefusedError):
    """Execution refused: the approvals do not meet the quorum."""

    code = "quorum_not_met"


class BenchmarkUnjustifiedError(ApprovalRefusedError):
    """Execution refused: a flagged disbursement lacks the controller's justified approval."""

    code = "benchmark_unjustified"


# ----------------------------------------------------------------------------------------------- state


@dataclass
class ProposalRecord:
    """What the log says about one proposal."""

    signed: SignedProposal
    index: int | None
    approvals: dict[str, Payload] = field(default_factory=dict)  # signer → disbursement_approved payload
    benchmark: Payload | None = None  # the benchmark_flag payload, if flagged
    executed_index: int | None = None

    @property
    def proposal(self) -> DisbursementProposal:
        """The recorded proposal."""
        return self.signed.proposal


@dataclass
class ControlState:
    """The control system's state, folded from the log's entries in index order (pure; no I/O)."""

    governance: Governance = field(default_factory=Governance)
    proposals: dict[str, ProposalRecord] = field(default_factory=dict)
    graph: OwnershipGraph = field(default_factory=OwnershipGraph)
    declarations: list[InterestDeclaration] = field(default_factory=list)
    statement_ids: set[str] = field(default_factory=set)
    signature_owner: dict[bytes, str] = field(default_factory=dict)  # approval signature → proposal id

    RELEVANT_TYPES: ClassVar[tuple[str, ...]] = (
        ENTRY_GOVERNANCE,
        ENTRY_PROPOSED,
        ENTRY_APPROVED,
        ENTRY_EXECUTED,
        ENTRY_BENCHMARK_FLAG,
        ENTRY_BODS,
        ENTRY_INTEREST,
    )

    @classmethod
    def from_entries(cls, entries: Iterable[tuple[int | None, str, Mapping[str, Any]]]) -> ControlState:
        """Fold ``(index, type, payload)`` triples (other types are skipped)."""
        state = cls()
        for index, entry_type, payload in entries:
            state.apply(entry_type, payload, index=index)
        return state

    def apply(self, entry_type: str, payload: Mapping[str, Any], *, index: int | None = None) -> None:
        """Apply one entry (assumed valid: it passed the decide_* checks before being appended)."""
        if entry_type == ENTRY_GOVERNANCE:
            self.governance = Governance.model_validate(dict(payload))
        elif entry_type == ENTRY_PROPOSED:
            signed = SignedProposal.model_validate(dict(payload))
            self.proposals[signed.proposal.proposal_id] = ProposalRecord(signed=signed, index=index)
        elif entry_type == ENTRY_APPROVED:
            rec = self.proposals[str(payload["proposal_id"])]
            rec.approvals[str(payload["signer"])] = dict(payload)
            self.signature_owner[base64.b64decode(str(payload["signature"]))] = rec.proposal.proposal_id
        elif entry_type == ENTRY_BENCHMARK_FLAG:
            self.proposals[str(payload["proposal_id"])].benchmark = dict(payload)
        elif entry_type == ENTRY_EXECUTED:
            self.proposals[str(payload["proposal_id"])].executed_index = index if index is not None else -1
        elif entry_type == ENTRY_BODS:
            statement = payload["statement"]
            self.graph.add_statement(statement)
            self.statement_ids.add(str(statement.get("statementId", "")))
        elif entry_type == ENTRY_INTEREST:
            self.declarations.append(InterestDeclaration.model_validate(dict(payload)))

    def conflict(self, signer: str, payee: str) -> ConflictChain | None:
        """The ownership chain barring ``signer`` from approving a payment to ``payee`` (None: no
        conflict)."""
        return find_conflict(self.graph, self.declarations, signer=signer, payee=payee)


@dataclass
class Decision:
    """Entries to append, and the refusal to raise after appending them (None when accepted)."""

    entries: list[tuple[str, Payload]]
    refusal: ApprovalRefusedError | None = None


# ------------------------------------------------------------------------------------------- decisions


def _validation_message(exc: ValidationError, what: str) -> str:
    err = exc.errors(include_url=False)[0]
    loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{what}{'.' + loc if loc else ''}: {msg}"


def parse_model(model: type[_M], data: Any, what: str) -> _M:
    """Validate ``data`` as ``model``; a LedgerError naming ``what.key.path`` and the reason otherwise."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise LedgerError(_validation_message(exc, what)) from None


def decide_proposal(
    state: ControlState, signed: SignedProposal, references: Mapping[str, UnitCostReference]
) -> list[tuple[str, Payload]]:
    """Entries for a new proposal: ``disbursement_proposed`` (+ ``benchmark_flag``). Bad input raises
    LedgerError.

    Checks: the proposal id is new; the proposer is a stakeholder; ``proposal_sha256`` is the proposal's hash;
    the proposer's signature verifies over :func:`proposal_message`; the unit-cost claim names a known project
    type in its unit (:func:`naef.ledger.benchmarking.check_unit_cost`).
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
        return _refusal(cls, proposal_id=pid, stage="approval", signer=signer, reason=reason, chain=chain)

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
        reason = f"declared interest reaches the payee: {chain.describe()}"
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

    Rule: quorum_shortfall(counted approvers) = ∅, and if the proposal carries a ``benchmark_flag``, at least
    one counted approval by an ``independent_controller`` has a non-empty justification.
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
    if rec.benchmark is not None:
        justified = [
            name
            for name, role in counted.items()
            if role == "independent_controller" and (rec.approvals[name].get("justification") or "").strip()
        ]
        if not justified:
            return refuse(
                BenchmarkUnjustifiedError,
                f"benchmark flag ({rec.benchmark.get('message', 'flagged')}) needs the independent "
                "controller's approval with a justification",
            )
    p = rec.proposal
    payload: Payload = {
        "proposal_id": proposal_id,
        "proposal_sha256": rec.signed.proposal_sha256,
        "payee": p.payee,
        "amount_usd": str(p.amount_usd),
        "approvals": sorted(counted),
        "benchmark_flagged": rec.benchmark is not None,
    }
    return Decision(entries=[(ENTRY_EXECUTED, payload)])


def decide_declaration(state: ControlState, declaration: InterestDeclaration) -> list[tuple[str, Payload]]:
    """Entries for a declaration of interest; the declarant must be a stakeholder (else LedgerError)."""
    if state.governance.stakeholder(declaration.declarant) is None:
        raise LedgerError(
            f"interest declaration: declarant {declaration.declarant!r} is not a stakeholder of the "
            "governance in force"
        )
    return [(ENTRY_INTEREST, declaration.model_dump(mode="json"))]


# ------------------------------------------------------------------------------------------------ entry types


class RecordedApproval(Approval):
    """Payload of ``disbursement_approved``: the approval and the signer's role when it approved."""

    role: Role


class RefusalRecord(BaseModel):
    """Payload of ``disbursement_refused``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    proposal_id: str = Field(min_length=1)
    stage: Literal["approval", "execution"]
    signer: str | None = None
    reason_code: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    chain: dict[str, JsonValue] | None = Field(
        default=None, description="Ownership chain (conflicts of interest)."
    )


class ExecutionRecord(BaseModel):
    """Payload of ``disbursement_executed``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    proposal_id: str = Field(min_length=1)
    proposal_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    payee: str = Field(min_length=1)
    amount_usd: Usd
    approvals: list[str]
    benchmark_flagged: bool


class BenchmarkFlagRecord(BenchmarkResult):
    """Payload of ``benchmark_flag``: the benchmark result of one proposal, with a one-line message."""

    proposal_id: str = Field(min_length=1)
    message: str = Field(min_length=1)


GOVERNED_ENTRY_TYPES: frozenset[str] = frozenset(
    {
        ENTRY_GOVERNANCE,
        ENTRY_PROPOSED,
        ENTRY_APPROVED,
        ENTRY_REFUSED,
        ENTRY_EXECUTED,
        ENTRY_BENCHMARK_FLAG,
        ENTRY_BODS,
        ENTRY_INTEREST,
    }
)
"""Entry types that only this module's rules (and :mod:`naef.ledger.bods`) may append; never by generic
append."""

for _name, _model in (
    (ENTRY_GOVERNANCE, Governance),
    (ENTRY_PROPOSED, SignedProposal),
    (ENTRY_APPROVED, RecordedApproval),
    (ENTRY_REFUSED, RefusalRecord),
    (ENTRY_EXECUTED, ExecutionRecord),
    (ENTRY_BENCHMARK_FLAG, BenchmarkFlagRecord),
    (ENTRY_INTEREST, InterestDeclaration),
):
    register_entry_type(_name, _model, replace=True)


# -------------------------------------------------------------------------------------------- ledger I/O

Time = datetime | str | None


def _fold(tx: LedgerTransaction) -> ControlState:
    rows = sorted(
        (e for t in ControlState.RELEVANT_TYPES for e in tx.entries(entry_type=t)), key=lambda e: e.index
    )
    return ControlState.from_entries((e.index, e.type, e.payload) for e in rows)


def control_state(ledger: Ledger) -> ControlState:
    """The control state as of now (read under the writer lock, so it is one consistent snapshot)."""
    with ledger.transaction() as tx:
        return _fold(tx)


def _append_decision(ledger: Ledger, decide: Callable[[ControlState], Decision], time: Time) -> list[int]:
    """Decide on the state read under the writer lock, append the decision's entries in the same transaction,
    and raise the refusal (with ``index`` set) only after the refusal entry has been committed."""
    with ledger.transaction() as tx:
        decision = decide(_fold(tx))
        indexes = [tx.append(t, p, time=time) for t, p in decision.entries]
    if decision.refusal is not None:
        decision.refusal.index = indexes[0]
        raise decision.refusal
    return indexes


def register_governance(ledger: Ledger, governance: Governance, *, time: Time = None) -> int:
    """Record the governance in force (``governance_registered``). Refused if one is already registered.

    Amending the governance of a running fund should itself need the quorum; that is not built yet, so the
    governance is registered once, when the ledger is set up.
    """
    with ledger.transaction() as tx:
        if tx.entries(entry_type=ENTRY_GOVERNANCE):
            raise LedgerError(
                "governance: already registered in this ledger (amendments are not supported yet)"
            )
        return tx.append(ENTRY_GOVERNANCE, governance.model_dump(mode="json"), time=time)


def propose(
    ledger: Ledger,
    signed: SignedProposal,
    *,
    references: Mapping[str, UnitCostReference] | None = None,
    time: Time = None,
) -> list[int]:
    """Record a signed proposal (and its benchmark flag, if any); returns the indexes.

    Bad input raises LedgerError and appends nothing."""
    refs = load_unit_costs() if references is None else references
    with ledger.transaction() as tx:
        entries = decide_proposal(_fold(tx), signed, refs)
        return [tx.append(t, p, time=time) for t, p in entries]


def approve(ledger: Ledger, approval: Approval, *, time: Time = None) -> int:
    """Record an approval; on refusal, record the refusal and raise it (with ``index`` set)."""
    return _append_decision(ledger, lambda state: decide_approval(state, approval), time)[0]


def execute(ledger: Ledger, proposal_id: str, *, time: Time = None) -> int:
    """Record the execution of a disbursement that meets its quorum; else record the refusal and raise it."""
    return _append_decision(ledger, lambda state: decide_execution(state, proposal_id), time)[0]


def declare_interest(ledger: Ledger, declaration: InterestDeclaration, *, time: Time = None) -> int:
    """Record a stakeholder's declaration of interest; the declarant must be a stakeholder."""
    with ledger.transaction() as tx:
        (entry,) = decide_declaration(_fold(tx), declaration)
        return tx.append(*entry, time=time)


def find_proposal(ledger: Ledger, proposal_id: str) -> DisbursementProposal:
    """The recorded proposal ``proposal_id`` (what an approver downloads, checks and signs locally)."""
    for entry in ledger.entries(entry_type=ENTRY_PROPOSED):
        if entry.payload.get("proposal", {}).get("proposal_id") == proposal_id:
            return SignedProposal.model_validate(dict(entry.payload)).proposal
    raise LedgerError(f"proposal {proposal_id!r}: not in the log")
