"""The service that writes: read the control state under the writer lock, decide by the rules, append.

Each function holds one :meth:`~naef.ledger.log.Ledger.transaction`, so the state it decides on is the state
it appends to (no race between check and append); a refusal is committed first, then raised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from naef.ledger.approvals.admission import admit, finish, fold, fold_on
from naef.ledger.approvals.errors import RuleViolationError
from naef.ledger.approvals.models import (
    ENTRY_AMENDED,
    ENTRY_BENCHMARK_FLAG,
    ENTRY_BODS,
    ENTRY_GOVERNANCE,
    ENTRY_PROPOSED,
    ENTRY_RECEIPT,
    Approval,
    DisbursementProposal,
    SignedAmendment,
    SignedDeclaration,
    SignedProposal,
    SignedReceipt,
    sign_statement,
)
from naef.ledger.approvals.rules import (
    ControlState,
    Decision,
    decide_approval,
    decide_declaration,
    decide_execution,
    decide_proposal,
    shipped_references,
)
from naef.ledger.bods import BodsError, check_beneficial_flags, validate_statements
from naef.ledger.entries import GOVERNED_ENTRY_TYPES, Entry, make_entry
from naef.ledger.errors import LedgerError
from naef.ledger.governance import Governance
from naef.ledger.keys import SignerKey
from naef.ledger.log import Ledger, LedgerTransaction, StoredEntry
from naef.ledger.transaction import _install_rules

__all__ = [
    "amend_governance",
    "approve",
    "audit_state",
    "control_state",
    "declare_interest",
    "execute",
    "find_proposal",
    "import_bods",
    "propose",
    "record_receipt",
    "register_governance",
    "state_of",
]

Time = datetime | str | None


def state_of(tx: LedgerTransaction) -> ControlState:
    """The control state of the transaction's log, folded once (under the writer lock) and kept up to date by
    every governed append in the transaction. When it is the transaction's first use of the state, it is folded
    from index 0, every stored row read again (a row changed in the database since it was admitted shows here as
    the fault it now is). The caller may keep it: it is never
    reused by a later transaction (:class:`~naef.ledger.transaction.RuleStateMemo`)."""
    state = _rules_state(tx, reuse=False)
    tx._rule_state_lent = True
    return state


def _rules_state(tx: LedgerTransaction, *, reuse: bool = True) -> ControlState:
    """:func:`state_of` for the rules' own use (the gate, the decisions of the writes below): the state stays the
    transaction's, so once committed it is the next transaction's starting point.

    The fold starts from the state an earlier transaction of this ledger handle left (the fold of the committed
    prefix ``[0, start)``, checked against the stored tree's root by
    :meth:`~naef.ledger.log.LedgerTransaction.take_rule_memo`; not with ``reuse=False``), else from the empty state
    at 0, and folds the governed entries ``[start, size)`` in index order exactly as :func:`fold` does — the fold
    is a left fold, so both give the same state over the same stored rows. The state the rules decide on is then
    finished (:func:`finish`: a flagged proposal last in the log without its flag is a fault); when that added a
    fault the transaction is told (``open_end``), since the next stored entry could be the flag a full fold of the
    longer log accepts: such a state is not kept as the start of a longer log's fold until a governed entry
    admitted after it settles it."""
    if tx._rule_state is None:
        memo = tx.take_rule_memo() if reuse else None
        start, state = (0, ControlState()) if memo is None else memo
        if not isinstance(state, ControlState) or state.awaiting_flag is not None:  # not a kept fold: refold
            start, state = 0, ControlState()
        rows: list[StoredEntry] = []
        unreadable: list[RuleViolationError] = []
        for row in tx.rows(GOVERNED_ENTRY_TYPES, start=start):  # in index order
            if isinstance(row, StoredEntry):
                rows.append(row)
            else:
                # a row that cannot even be decoded (changed in the database around the gate) is a fault named by
                # its index and skipped, like a row that breaks a rule: it never blocks the writes after it
                unreadable.append(RuleViolationError("unreadable", row.error.message, entry_type=row.type,
                                                     index=row.index))
        fold_on(rows, state)
        open_end = state.awaiting_flag is not None
        finish(state)
        state.faults.extend(unreadable)
        state.faults.sort(key=lambda f: -1 if f.index is None else f.index)
        tx._hold_rule_state(state, open_end=open_end)
    assert isinstance(tx._rule_state, ControlState)
    return tx._rule_state


def _admit_governed(tx: LedgerTransaction, entry: Entry, index: int) -> list[Entry]:
    """The storage layer's gate (installed below): a governed entry is appended only if the rules admit it.

    A proposal the shipped references flag is followed, in the same transaction, by the flag the rules derive
    (returned here; the storage layer appends it right after, through this gate again), so a flagged proposal
    never exists without its flag and no caller writes one."""
    state = _rules_state(tx)
    admit(state, entry.type, entry.payload, index, strict=True)
    if entry.type == ENTRY_PROPOSED and state.awaiting_flag is not None and state.awaiting_flag.index == index:
        flag = state.awaiting_flag.derived_flag
        assert flag is not None  # awaiting_flag is set only for a flagged proposal
        return [make_entry(ENTRY_BENCHMARK_FLAG, flag, time=entry.time)]
    return []


_install_rules(_admit_governed)


def control_state(ledger: Ledger) -> ControlState:
    """The control state as of now (read under the writer lock, so it is one consistent snapshot)."""
    with ledger.transaction() as tx:
        return state_of(tx)


def _append_decision(ledger: Ledger, decide: Callable[[ControlState], Decision], time: Time) -> list[int]:
    """Decide on the state read under the writer lock, append the decision's entries in the same transaction,
    and raise the refusal (with ``index`` set) only after the refusal entry has been committed."""
    with ledger.transaction() as tx:
        decision = decide(_rules_state(tx))
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
        if _rules_state(tx).governance_index is not None or tx.entries(entry_type=ENTRY_GOVERNANCE):
            raise LedgerError(
                "governance: already registered in this ledger (amendments are not supported yet)"
            )
        return tx.append(ENTRY_GOVERNANCE, governance.model_dump(mode="json"), time=time)


def amend_governance(ledger: Ledger, signed: SignedAmendment, *, time: Time = None) -> int:
    """Record an amendment of the governance (``governance_amended``), signed by a quorum of approvers; the
    rules refuse it (RuleViolationError, nothing appended) otherwise."""
    with ledger.transaction() as tx:
        return tx.append(ENTRY_AMENDED, signed.model_dump(mode="json"), time=time)


def propose(ledger: Ledger, signed: SignedProposal, *, time: Time = None) -> list[int]:
    """Record a signed proposal; the storage gate appends its benchmark flag right after it when the shipped
    unit-cost references flag it. Returns the indexes (proposal, then flag if any).

    Bad input raises LedgerError and appends nothing."""
    with ledger.transaction() as tx:
        # LedgerError, naming the field, before appending
        decide_proposal(_rules_state(tx), signed, shipped_references())
        first = tx.append(ENTRY_PROPOSED, signed.model_dump(mode="json"), time=time)
        return list(range(first, tx.size))


def approve(ledger: Ledger, approval: Approval, *, time: Time = None) -> int:
    """Record an approval; on refusal, record the refusal and raise it (with ``index`` set)."""
    return _append_decision(ledger, lambda state: decide_approval(state, approval), time)[0]


def execute(ledger: Ledger, proposal_id: str, *, time: Time = None) -> int:
    """Record the execution of a disbursement that meets its quorum; else record the refusal and raise it."""
    return _append_decision(ledger, lambda state: decide_execution(state, proposal_id), time)[0]


def declare_interest(ledger: Ledger, declaration: SignedDeclaration, *, time: Time = None) -> int:
    """Record a stakeholder's declaration of interest, signed with its own registered key
    (:func:`~naef.ledger.approvals.models.sign_declaration`)."""
    with ledger.transaction() as tx:
        (entry,) = decide_declaration(_rules_state(tx), declaration)
        return tx.append(*entry, time=time)


def find_proposal(ledger: Ledger, proposal_id: str) -> DisbursementProposal:
    """The recorded proposal ``proposal_id`` (what an approver downloads, checks and signs locally)."""
    for entry in ledger.entries(entry_type=ENTRY_PROPOSED):
        if entry.payload.get("proposal", {}).get("proposal_id") == proposal_id:
            return SignedProposal.model_validate(dict(entry.payload)).proposal
    raise LedgerError(f"proposal {proposal_id!r}: not in the log")


def import_bods(
    ledger: Ledger,
    statements: Sequence[Any],
    *,
    signer: SignerKey,
    schema_dir: Path | None = None,
    source: str = "input",
    time: Time = None,
) -> range:
    """Validate all BODS 0.4 statements, sign each with ``signer`` (a registered key with the registrar or
    independent-controller role), then append them all in one transaction; returns their index range.

    Refused (LedgerError naming the statement, nothing appended) when any statement is invalid, its
    statementId is in the log, it flags a beneficial owner that is not a natural person
    (:func:`naef.ledger.bods.check_beneficial_flags`), or the signer may not import."""
    valid = validate_statements(list(statements), schema_dir=schema_dir, source=source)
    with ledger.transaction() as tx:
        state = _rules_state(tx)
        check_beneficial_flags(valid, known=state.record_types, source=source)
        known = state.statement_ids
        for index, statement in enumerate(valid):
            if statement["statementId"] in known:
                raise BodsError(
                    f"{source}: statement {index} (statementId {statement['statementId']!r}): statementId already "
                    "in the log"
                )
        start = tx.size
        for statement in valid:
            tx.append(ENTRY_BODS, sign_statement(statement, signer).model_dump(mode="json"), time=time)
        return range(start, tx.size)


def record_receipt(ledger: Ledger, receipt: SignedReceipt, *, time: Time = None) -> int:
    """Record money received by the MDF (``mdf_receipt``), signed by a registrar or the independent
    controller (:func:`~naef.ledger.approvals.models.sign_receipt`); a receipt id is recorded once."""
    with ledger.transaction() as tx:
        return tx.append(ENTRY_RECEIPT, receipt.model_dump(mode="json"), time=time)


def audit_state(ledger: Ledger) -> ControlState:
    """The control state folded from every committed entry by the rules, with the entries they refuse in
    ``faults`` (read without the writer lock)."""
    return fold(e for e in ledger.entries() if e.type in GOVERNED_ENTRY_TYPES)
