"""Disbursement proposals and approvals as signed objects, and the payloads of the governed entry types.

What is signed (DESIGN.md §5): the proposer signs ``PROPOSAL_CONTEXT || JCS(proposal)``; each approver signs,
on its own machine, ``APPROVAL_CONTEXT || JCS({"justification": j, "proposal": proposal})`` (JCS: RFC 8785
canonical JSON; signatures RFC 8032 Ed25519 with the key registered in the governance). The two context lines
differ, so a proposer's signature can never pass as an approval.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from decimal import Decimal
from typing import Any, Literal, TypeVar

import rfc8785
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, field_validator

from naef.ledger.benchmarking import BenchmarkResult, UnitCostClaim
from naef.ledger.entries import Usd, register_entry_type
from naef.ledger.errors import LedgerError
from naef.ledger.governance import Governance, Role
from naef.ledger.interests import InterestDeclaration
from naef.ledger.keys import SignerKey

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
    "Approval",
    "BenchmarkFlagRecord",
    "DisbursementProposal",
    "ExecutionRecord",
    "RecordedApproval",
    "RefusalRecord",
    "SignedProposal",
    "approval_message",
    "canonical_proposal",
    "parse_model",
    "proposal_message",
    "proposal_sha256",
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

