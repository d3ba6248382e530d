"""The service that writes: read the control state under the writer lock, decide by the rules, append.

Each function holds one :meth:`~naef.ledger.log.Ledger.transaction`, so the state it decides on is the state
it appends to (no race between check and append); a refusal is committed first, then raised.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from naef.ledger.approvals.models import (
    ENTRY_GOVERNANCE,
    ENTRY_PROPOSED,
    Approval,
    DisbursementProposal,
    SignedProposal,
)
from naef.ledger.approvals.rules import (
    ControlState,
    Decision,
    decide_approval,
    decide_declaration,
    decide_execution,
    decide_proposal,
)
from naef.ledger.benchmarking import UnitCostReference, load_unit_costs
from naef.ledger.errors import LedgerError
from naef.ledger.governance import Governance
from naef.ledger.interests import InterestDeclaration
from naef.ledger.log import Ledger, LedgerTransaction

__all__ = [
    "approve",
    "control_state",
    "declare_interest",
    "execute",
    "find_proposal",
    "propose",
    "register_governance",
]

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
