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

The package is split by job: :mod:`~naef.ledger.approvals.models` (what is signed, the entry payloads),
:mod:`~naef.ledger.approvals.errors` (the refusals), :mod:`~naef.ledger.approvals.rules` (pure decisions on a
:class:`ControlState` folded from the log), :mod:`~naef.ledger.approvals.admission` (the one gate every governed
entry passes: at append, and again in ``audit``) and :mod:`~naef.ledger.approvals.service` (read, decide,
append; it installs the gate into the storage layer).
Every public name is importable from ``naef.ledger.approvals``.
"""

from __future__ import annotations

from naef.ledger.approvals.admission import (
    GovernedEntry,
    admit,
    check_entry,
    fold,
)
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
    APPROVAL_CONTEXT,
    DECLARATION_CONTEXT,
    ENTRY_APPROVED,
    ENTRY_BENCHMARK_FLAG,
    ENTRY_BODS,
    ENTRY_EXECUTED,
    ENTRY_GOVERNANCE,
    ENTRY_INTEREST,
    ENTRY_PROPOSED,
    ENTRY_RECEIPT,
    ENTRY_REFUSED,
    GOVERNED_ENTRY_TYPES,
    PROPOSAL_CONTEXT,
    RECEIPT_CONTEXT,
    STATEMENT_CONTEXT,
    Approval,
    BenchmarkFlagRecord,
    DisbursementProposal,
    ExecutionRecord,
    MdfReceipt,
    Procurement,
    RecordedApproval,
    RefusalRecord,
    SignedDeclaration,
    SignedProposal,
    SignedReceipt,
    SignedStatement,
    approval_message,
    canonical_proposal,
    declaration_message,
    identifier_key,
    identifier_text,
    parse_model,
    proposal_message,
    proposal_sha256,
    receipt_message,
    sign_approval,
    sign_declaration,
    sign_proposal,
    sign_receipt,
    sign_statement,
    statement_message,
)
from naef.ledger.approvals.rules import (
    ControlState,
    Decision,
    ProposalRecord,
    benchmark_flag_payload,
    check_proposal,
    counted_approvers,
    decide_approval,
    decide_declaration,
    decide_execution,
    decide_proposal,
)
from naef.ledger.approvals.service import (
    approve,
    audit_state,
    control_state,
    declare_interest,
    execute,
    find_proposal,
    import_bods,
    propose,
    record_receipt,
    register_governance,
    state_of,
)

__all__ = [
    "APPROVAL_CONTEXT",
    "DECLARATION_CONTEXT",
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
    "GovernedEntry",
    "InsufficientFundsError",
    "MdfReceipt",
    "NotAnApproverError",
    "Procurement",
    "ProposalRecord",
    "QuorumNotMetError",
    "RecordedApproval",
    "RefusalRecord",
    "ReplayedApprovalError",
    "RuleViolationError",
    "SelfApprovalError",
    "SignedDeclaration",
    "SignedProposal",
    "SignedReceipt",
    "SignedStatement",
    "UnknownProposalError",
    "UnknownSignerError",
    "admit",
    "approval_message",
    "approve",
    "audit_state",
    "benchmark_flag_payload",
    "canonical_proposal",
    "check_entry",
    "check_proposal",
    "control_state",
    "counted_approvers",
    "decide_approval",
    "decide_declaration",
    "decide_execution",
    "decide_proposal",
    "declaration_message",
    "declare_interest",
    "execute",
    "find_proposal",
    "fold",
    "identifier_key",
    "identifier_text",
    "import_bods",
    "parse_model",
    "proposal_message",
    "proposal_sha256",
    "propose",
    "receipt_message",
    "record_receipt",
    "register_governance",
    "sign_approval",
    "sign_declaration",
    "sign_proposal",
    "sign_receipt",
    "sign_statement",
    "state_of",
    "statement_message",
]
