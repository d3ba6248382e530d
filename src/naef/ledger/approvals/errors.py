"""Refusals of approvals and executions: each is recorded in the log as ``disbursement_refused``, then raised.

``code`` is the machine-readable reason (the web API's error code, the refusal entry's ``reason_code``).
"""

from __future__ import annotations

from typing import ClassVar

from naef.ledger.errors import LedgerError
from naef.ledger.interests import ConflictChain

__all__ = [
    "AlreadyExecutedError",
    "AlteredProposalError",
    "ApprovalRefusedError",
    "BadSignatureError",
    "BenchmarkUnjustifiedError",
    "ConflictOfInterestError",
    "InsufficientFundsError",
    "NotAnApproverError",
    "QuorumNotMetError",
    "ReplayedApprovalError",
    "RuleViolationError",
    "SelfApprovalError",
    "UnknownProposalError",
    "UnknownSignerError",
]


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



class InsufficientFundsError(ApprovalRefusedError):
    """Execution refused: the MDF's recorded balance (receipts minus executed disbursements) is below the
    amount."""

    code = "insufficient_funds"


class RuleViolationError(LedgerError):
    """A governed entry breaks a rule of the control system: refused at append, named by ``audit``.

    ``index`` is the entry's index (None before it has one), ``entry_type`` its type and ``rule`` the rule's
    machine-readable code (the web API's error code).
    """

    def __init__(self, rule: str, reason: str, *, entry_type: str, index: int | None = None) -> None:
        where = f"entry {index} ({entry_type})" if index is not None else f"entry {entry_type}"
        super().__init__(f"{where}: rule {rule}: {reason}")
        self.rule = rule
        self.reason = reason
        self.entry_type = entry_type
        self.index = index
