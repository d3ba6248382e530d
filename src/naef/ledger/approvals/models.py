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
import unicodedata
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

import rfc8785
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from naef.ledger.benchmarking import BenchmarkResult, UnitCostClaim
from naef.ledger.entries import GOVERNED_ENTRY_TYPES, Usd, register_entry_type
from naef.ledger.errors import LedgerError
from naef.ledger.governance import Governance, Role
from naef.ledger.interests import ConflictReach, InterestDeclaration
from naef.ledger.keys import SignerKey

__all__ = [
    "AMENDMENT_CONTEXT",
    "APPROVAL_CONTEXT",
    "DECLARATION_CONTEXT",
    "ENTRY_AMENDED",
    "ENTRY_APPROVED",
    "ENTRY_BENCHMARK_FLAG",
    "ENTRY_BODS",
    "ENTRY_EXECUTED",
    "ENTRY_GOVERNANCE",
    "ENTRY_INTEREST",
    "ENTRY_PROPOSED",
    "ENTRY_RECEIPT",
    "ENTRY_REFUSED",
    "GOVERNED_ENTRY_TYPES",
    "PROPOSAL_CONTEXT",
    "RECEIPT_CONTEXT",
    "STATEMENT_CONTEXT",
    "AmendmentSignature",
    "Approval",
    "BenchmarkFlagRecord",
    "DisbursementProposal",
    "ExecutionRecord",
    "GovernanceAmendment",
    "MdfReceipt",
    "Procurement",
    "ProcurementMethod",
    "RecordedApproval",
    "RefusalRecord",
    "SignedAmendment",
    "SignedDeclaration",
    "SignedProposal",
    "SignedReceipt",
    "SignedStatement",
    "amendment_message",
    "approval_message",
    "canonical_proposal",
    "declaration_message",
    "governance_sha256",
    "identifier_key",
    "identifier_text",
    "parse_model",
    "proposal_message",
    "proposal_sha256",
    "receipt_message",
    "sign_amendment",
    "sign_approval",
    "sign_declaration",
    "sign_proposal",
    "sign_receipt",
    "sign_statement",
    "statement_message",
]

ENTRY_GOVERNANCE = "governance_registered"
ENTRY_PROPOSED = "disbursement_proposed"
ENTRY_APPROVED = "disbursement_approved"
ENTRY_REFUSED = "disbursement_refused"
ENTRY_EXECUTED = "disbursement_executed"
ENTRY_BENCHMARK_FLAG = "benchmark_flag"
ENTRY_BODS = "beneficial_ownership_statement"
ENTRY_INTEREST = "interest_declaration"
ENTRY_RECEIPT = "mdf_receipt"
ENTRY_AMENDED = "governance_amended"

PROPOSAL_CONTEXT = b"naef disbursement proposal v1\n"
APPROVAL_CONTEXT = b"naef disbursement approval v1\n"
DECLARATION_CONTEXT = b"naef interest declaration v1\n"
STATEMENT_CONTEXT = b"naef bods statement v1\n"
RECEIPT_CONTEXT = b"naef mdf receipt v1\n"
AMENDMENT_CONTEXT = b"naef governance amendment v1\n"

Payload = dict[str, Any]
_M = TypeVar("_M", bound=BaseModel)


ProcurementMethod = Literal["open", "selective", "limited", "direct"]
"""The OCDS/OC4IDS ``method`` codelist (tender.procurementMethod): open, selective, limited, direct."""


class Procurement(BaseModel):
    """How the contract a proposal pays was procured (CoST IDS / OC4IDS ``tender`` and ``contractPeriod``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: ProcurementMethod = Field(
        description="Procurement method (OCDS method codelist: open, selective, limited, direct)."
    )
    number_of_tenderers: int = Field(ge=0, le=100_000, description="Number of tenderers (bids received).")
    contract_start: date = Field(description="Contract period start (YYYY-MM-DD).")
    contract_end: date = Field(description="Contract period end (YYYY-MM-DD), on or after the start.")

    @model_validator(mode="after")
    def _period_in_order(self) -> Procurement:
        if self.contract_end < self.contract_start:
            raise ValueError(
                f"contract_end {self.contract_end} is before contract_start {self.contract_start}"
            )
        if self.method == "direct" and self.number_of_tenderers > 1:
            raise ValueError(f"number_of_tenderers: a direct award has one tenderer, not {self.number_of_tenderers}")
        return self


def _without_null(out: dict[str, Any], field_name: str) -> dict[str, Any]:
    """``out`` without ``field_name`` when it is null: an optional field added later leaves the serialized (and
    signed) form of the objects without it as it was."""
    if out.get(field_name, 0) is None:
        del out[field_name]
    return out


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
    procurement: Procurement | None = Field(
        default=None, description="How the contract was procured: method, number of tenderers, contract period."
    )

    @model_serializer(mode="wrap")
    def _without_absent_procurement(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # a proposal without procurement facts serializes (and is signed) exactly as before the field existed
        return _without_null(handler(self), "procurement")

    @field_validator("amount_usd")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("must be greater than 0")
        return value

    @field_validator("payee")
    @classmethod
    def _payee_is_an_identifier(cls, value: str) -> str:
        return identifier_text(value)


def identifier_text(value: str) -> str:
    """An identifier as the rules compare it: refused if it holds any whitespace, control, format (zero-width,
    byte-order mark, bidirectional) or unassigned character; else returned unchanged (compare with
    :func:`identifier_key`)."""
    for position, char in enumerate(value):
        if char.isspace() or unicodedata.category(char) in _NOT_IN_IDENTIFIERS:
            raise ValueError(
                f"character {position} is U+{ord(char):04X} ({unicodedata.name(char, 'unnamed')}): "
                "identifiers may hold no whitespace, control or zero-width character"
            )
    return value


def identifier_key(value: str) -> str:
    """The form two identifiers are compared in: Unicode NFC (UAX #15), exact otherwise (no case folding)."""
    return unicodedata.normalize("NFC", value)


_NOT_IN_IDENTIFIERS = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Co", "Cn", "Cs"})


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


Signature = Annotated[str, AfterValidator(_b64_signature)]
"""A base64 Ed25519 signature (64 bytes, standard alphabet, canonical): the one type of every signed payload's
``signature`` field (proposal, approval, declaration, BODS statement, receipt)."""


def _b64(key: SignerKey, message: bytes) -> str:
    """Sign ``message`` with ``key``: the base64 text a :data:`Signature` field holds."""
    return base64.b64encode(key.sign(message)).decode("ascii")


class SignedProposal(BaseModel):
    """A proposal with its proposer's signature (payload of ``disbursement_proposed``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    proposal: DisbursementProposal
    proposal_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    signature: Signature = Field(
        description="base64 Ed25519 signature by the proposer over proposal_message(proposal)."
    )


class Approval(BaseModel):
    """One stakeholder's approval of one proposal (payload of ``disbursement_approved``, minus ``role``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    proposal_id: str = Field(min_length=1)
    proposal_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the proposal text signed."
    )
    signer: str = Field(min_length=1)
    justification: str | None = Field(default=None, description="Required from the controller when flagged.")
    signature: Signature = Field(
        description="base64 Ed25519 signature over approval_message(proposal, justification)."
    )

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
    signature = _b64(key, proposal_message(proposal))
    return SignedProposal(proposal=proposal, proposal_sha256=proposal_sha256(proposal), signature=signature)

def sign_approval(
    proposal: DisbursementProposal, signer_key: str | SignerKey, *, justification: str | None = None
) -> Approval:
    """Sign an approval locally: the private key never leaves the caller."""
    key = _signer(signer_key)
    signature = _b64(key, approval_message(proposal, justification))
    return Approval(
        proposal_id=proposal.proposal_id,
        proposal_sha256=proposal_sha256(proposal),
        signer=key.name,
        justification=justification,
        signature=signature,
    )


def _signed(context: bytes, body: BaseModel) -> bytes:
    """``context || JCS(body)`` — what a signer signs (the body without its signature)."""
    return context + bytes(rfc8785.dumps(body.model_dump(mode="json", exclude={"signature"})))


def _unsigned(model: type[_M], body: BaseModel) -> _M:
    """``body`` as ``model``, without its signature: what was signed of a signed payload."""
    return model.model_validate(body.model_dump(exclude={"signature"}))


def _sign_own(
    signed_model: type[_M], body: BaseModel, message: bytes, key: str | SignerKey, *, owner: str, role: str
) -> _M:
    """``body`` with ``key``'s signature over ``message`` as ``signed_model``; the key must be the ``role``'s
    own (its name is ``owner``)."""
    signer = _signer(key)
    if signer.name != owner:
        raise LedgerError(f"--key: key {signer.name!r} does not belong to the {role} {owner!r}")
    return signed_model.model_validate({**body.model_dump(), "signature": _b64(signer, message)})


class SignedDeclaration(InterestDeclaration):
    """Payload of ``interest_declaration``: the declaration with the declarant's own signature."""

    signature: Signature = Field(description="base64 Ed25519 signature by the declarant over declaration_message.")

    @property
    def declaration(self) -> InterestDeclaration:
        """The declaration without its signature."""
        return _unsigned(InterestDeclaration, self)


def declaration_message(declaration: InterestDeclaration) -> bytes:
    """What a declarant signs: ``DECLARATION_CONTEXT || JCS(declaration)``."""
    return _signed(DECLARATION_CONTEXT, _unsigned(InterestDeclaration, declaration))


def sign_declaration(declaration: InterestDeclaration, declarant_key: str | SignerKey) -> SignedDeclaration:
    """Sign a declaration of interest with the declarant's own key (its name must be the declarant's)."""
    message = declaration_message(declaration)
    return _sign_own(
        SignedDeclaration, declaration, message, declarant_key, owner=declaration.declarant, role="declarant"
    )


class SignedStatement(BaseModel):
    """Payload of ``beneficial_ownership_statement``: one BODS 0.4 statement, signed by the registered key of a
    stakeholder with the registrar or independent-controller role."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    statement: dict[str, JsonValue]
    signer: str = Field(min_length=1)
    signature: Signature = Field(description="base64 Ed25519 signature over statement_message(statement).")


def statement_message(statement: Any) -> bytes:
    """What the registrar signs for one statement: ``STATEMENT_CONTEXT || JCS(statement)``."""
    return STATEMENT_CONTEXT + bytes(rfc8785.dumps(statement))


def sign_statement(statement: dict[str, Any], registrar_key: str | SignerKey) -> SignedStatement:
    """Sign one BODS statement with the registrar's (or controller's) key."""
    key = _signer(registrar_key)
    return SignedStatement(statement=statement, signer=key.name, signature=_b64(key, statement_message(statement)))


class MdfReceipt(BaseModel):
    """Money received by the MDF (from the waterfall, a donor, ...), attested by the registrar or controller."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    receipt_id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$", description="Unique id, e.g. RCPT-2031Q1."
    )
    period: str = Field(min_length=1, max_length=40, description="Period or date of the receipt, e.g. 2031Q1.")
    amount_usd: Usd = Field(description="Amount received, USD exact to the cent (JSON: decimal string).")
    source: str = Field(min_length=1, max_length=200, description="Who paid, e.g. 'NAEF waterfall residual'.")
    reference: str | None = Field(default=None, max_length=200, description="Bank or trustee reference.")
    recorder: str = Field(min_length=1, description="Stakeholder who attests the receipt (and signs it).")

    @field_validator("amount_usd")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("must be greater than 0")
        return value


class SignedReceipt(MdfReceipt):
    """Payload of ``mdf_receipt``: the receipt with its recorder's signature."""

    signature: Signature = Field(
        description="base64 Ed25519 signature by the recorder over receipt_message(receipt)."
    )

    @property
    def receipt(self) -> MdfReceipt:
        """The receipt without its signature."""
        return _unsigned(MdfReceipt, self)


def receipt_message(receipt: MdfReceipt) -> bytes:
    """What the recorder signs: ``RECEIPT_CONTEXT || JCS(receipt)``."""
    return _signed(RECEIPT_CONTEXT, _unsigned(MdfReceipt, receipt))


def sign_receipt(receipt: MdfReceipt, recorder_key: str | SignerKey) -> SignedReceipt:
    """Sign a receipt with the recorder's key (its name must be the recorder's)."""
    return _sign_own(
        SignedReceipt, receipt, receipt_message(receipt), recorder_key, owner=receipt.recorder, role="recorder"
    )


class GovernanceAmendment(BaseModel):
    """A change to the governance in force, as its approvers sign it (``governance_amended``).

    Only the conflict-of-interest screen's reach may be amended so far. ``governance_sha256`` binds the
    amendment to one registered governance and ``sequence`` (1, 2, ...) to one place in its history, so a
    signed amendment cannot be replayed in another log or after a later one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    governance_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of JCS(the registered governance payload)."
    )
    sequence: int = Field(ge=1, description="1 for the first amendment, then 2, 3, ...")
    conflict_reach: ConflictReach = Field(description="The conflict screen's reach from this entry on.")


class AmendmentSignature(BaseModel):
    """One approver's signature over :func:`amendment_message`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    signer: str = Field(min_length=1)
    signature: Signature = Field(description="base64 Ed25519 signature over amendment_message(amendment).")


class SignedAmendment(BaseModel):
    """Payload of ``governance_amended``: the amendment and its approvers' signatures (a quorum)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amendment: GovernanceAmendment
    signatures: list[AmendmentSignature] = Field(min_length=1)


def governance_sha256(governance: Any) -> str:
    """Hex SHA-256 of JCS(the governance payload as recorded)."""
    return hashlib.sha256(bytes(rfc8785.dumps(governance))).hexdigest()


def amendment_message(amendment: GovernanceAmendment) -> bytes:
    """What each approver signs: ``AMENDMENT_CONTEXT || JCS(amendment)``."""
    return _signed(AMENDMENT_CONTEXT, amendment)


def sign_amendment(amendment: GovernanceAmendment, approver_key: str | SignerKey) -> AmendmentSignature:
    """One approver's signature on an amendment (the private key never leaves the caller)."""
    key = _signer(approver_key)
    return AmendmentSignature(signer=key.name, signature=_b64(key, amendment_message(amendment)))


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
    approval: Approval | None = Field(
        default=None,
        description="The refused approval as submitted (stage approval): what the rules re-decide at this index.",
    )

    @model_serializer(mode="wrap")
    def _without_absent_approval(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # an execution refusal has no request but its proposal id: serialized exactly as before the field existed
        return _without_null(handler(self), "approval")


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


if {
    ENTRY_GOVERNANCE,
    ENTRY_PROPOSED,
    ENTRY_APPROVED,
    ENTRY_REFUSED,
    ENTRY_EXECUTED,
    ENTRY_BENCHMARK_FLAG,
    ENTRY_BODS,
    ENTRY_INTEREST,
    ENTRY_RECEIPT,
    ENTRY_AMENDED,
} != GOVERNED_ENTRY_TYPES:  # pragma: no cover - one list, checked at import
    raise RuntimeError("naef.ledger.entries.GOVERNED_ENTRY_TYPES and the approval models disagree")

for _name, _model in (
    (ENTRY_GOVERNANCE, Governance),
    (ENTRY_PROPOSED, SignedProposal),
    (ENTRY_APPROVED, RecordedApproval),
    (ENTRY_REFUSED, RefusalRecord),
    (ENTRY_EXECUTED, ExecutionRecord),
    (ENTRY_BENCHMARK_FLAG, BenchmarkFlagRecord),
    (ENTRY_INTEREST, SignedDeclaration),
    (ENTRY_BODS, SignedStatement),
    (ENTRY_RECEIPT, SignedReceipt),
    (ENTRY_AMENDED, SignedAmendment),
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

