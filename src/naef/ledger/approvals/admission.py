"""Admission of governed entries: the one gate every governed entry passes, whichever way it arrives.

:func:`check_entry` decides whether one stored (or about-to-be-stored) entry of a governed type follows the rules
given the state of the log before it; :func:`admit` checks and applies it. The storage layer runs
:func:`admit` on every governed append (:func:`naef.ledger.approvals.service.install`), so the CLI, the web API
and :meth:`naef.ledger.log.Ledger.append` all go through it; ``naef ledger audit`` replays it over the whole
log (:mod:`naef.ledger.audit`), so an entry written around it (raw SQL) is named.

Rules, by type (each failure is a :class:`RuleViolationError` naming the entry, the rule and the reason):

* ``governance_registered`` — a valid governance, registered once;
* ``governance_amended`` — amends the registered governance (its ``governance_sha256``) at the next
  ``sequence``, signed over :func:`~naef.ledger.approvals.models.amendment_message` by distinct approvers whose
  registered keys verify and who meet the governance's quorum; only the conflict screen's reach is amendable;
* ``disbursement_proposed`` — :func:`~naef.ledger.approvals.rules.decide_proposal` accepts it (new id, the
  proposer's registered key signed it, the payee is a BODS entity or person in the ledger, its unit cost names a
  known project type in its unit). When the shipped references flag it, the gate itself appends the derived
  ``benchmark_flag`` (:func:`~naef.ledger.approvals.rules.derived_flag`) right after it, in the same transaction;
* ``benchmark_flag`` — exactly the flag the rules derive for its proposal (else ``benchmark_mismatch``), and the
  entry right after that proposal (else ``not_derived``: callers never write flags, the gate does). A flagged
  proposal whose flag is not the next entry is named ``missing_benchmark_flag``;
* ``disbursement_approved`` — :func:`~naef.ledger.approvals.rules.decide_approval` accepts it as it stands
  (signature by the signer's registered key, role, not the proposer, no repeat, no conflict of interest as
  known at that index) and the recorded role is the signer's;
* ``disbursement_executed`` — :func:`~naef.ledger.approvals.rules.decide_execution` accepts it (quorum,
  benchmark justification, the MDF's balance) and the entry is exactly what it decides;
* ``disbursement_refused`` — exactly the refusal the rules record at that index (else ``refusal_not_derived``):
  an approval refusal carries the refused approval as submitted, and
  :func:`~naef.ledger.approvals.rules.decide_approval` re-decided on it must refuse it with the same code,
  signer, reason and chain; an execution refusal is re-decided by
  :func:`~naef.ledger.approvals.rules.decide_execution`. So a refusal naming a signer's conduct (a conflict of
  interest, a repeat, an approval by the proposer) needs that signer's own signature on the refused approval;
* ``interest_declaration`` — signed by the declarant's registered key;
* ``beneficial_ownership_statement`` — a valid BODS 0.4 statement with a new statementId, signed by a
  registered key with the registrar or independent-controller role;
* ``mdf_receipt`` — a new receipt id, signed by a registered key with the registrar or independent-controller
  role.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from naef.ledger.approvals.errors import RuleViolationError
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
    BenchmarkFlagRecord,
    ExecutionRecord,
    RecordedApproval,
    RefusalRecord,
    SignedAmendment,
    SignedDeclaration,
    SignedProposal,
    SignedReceipt,
    SignedStatement,
    amendment_message,
    receipt_message,
    statement_message,
)
from naef.ledger.approvals.rules import (
    ControlState,
    Decision,
    ProposalRecord,
    check_proposal,
    decide_approval,
    decide_declaration,
    decide_execution,
    derived_flag,
)
from naef.ledger.bods import check_beneficial_flags, validate_statements
from naef.ledger.entries import GOVERNED_ENTRY_TYPES
from naef.ledger.errors import LedgerError
from naef.ledger.governance import APPROVING_ROLES, RECORDING_ROLES, Governance, Role

__all__ = ["GovernedEntry", "admit", "check_entry", "finish", "fold", "pending_faults"]

_M = TypeVar("_M", bound=BaseModel)


class GovernedEntry(Protocol):
    """What the rules read of an entry (a :class:`~naef.ledger.log.StoredEntry` is one)."""

    @property
    def index(self) -> int: ...

    @property
    def type(self) -> str: ...

    @property
    def payload(self) -> Mapping[str, Any]: ...


def _parse(model: type[_M], payload: Mapping[str, Any], entry_type: str, index: int | None) -> _M:
    try:
        return model.model_validate(dict(payload))
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in err["loc"]) or "payload"
        reason = f"{loc}: {str(err['msg']).removeprefix('Value error, ')}"
        raise RuleViolationError("malformed", reason, entry_type=entry_type, index=index) from None


def check_entry(state: ControlState, entry_type: str, payload: Mapping[str, Any], index: int | None) -> None:
    """Raise :class:`RuleViolationError` unless the governed entry follows the rules given ``state`` (the
    state of the log before it). Non-governed types pass. Never mutates ``state`` except its signature
    count."""

    def violation(rule: str, reason: str) -> RuleViolationError:
        return RuleViolationError(rule, reason, entry_type=entry_type, index=index)

    if entry_type not in GOVERNED_ENTRY_TYPES:
        return
    if entry_type == ENTRY_GOVERNANCE:
        _parse(Governance, payload, entry_type, index)
        if state.governance_index is not None or state.governance.stakeholders:
            raise violation(
                "governance_already_registered",
                f"a governance is already registered (entry {state.governance_index}); amendments are not supported",
            )
    elif entry_type == ENTRY_AMENDED:
        _check_amendment(state, _parse(SignedAmendment, payload, entry_type, index), violation)
    elif entry_type == ENTRY_PROPOSED:
        signed = _parse(SignedProposal, payload, entry_type, index)
        try:
            check_proposal(state, signed)
        except LedgerError as exc:
            raise violation("proposal", exc.message) from None
        state.signatures_checked += 1
        try:
            derived_flag(signed.proposal)
        except LedgerError as exc:
            raise violation("unit_cost", f"proposal {signed.proposal.proposal_id}: {exc.message}") from None
    elif entry_type == ENTRY_BENCHMARK_FLAG:
        _check_flag(state, _parse(BenchmarkFlagRecord, payload, entry_type, index), index, violation)
    elif entry_type == ENTRY_APPROVED:
        recorded = _parse(RecordedApproval, payload, entry_type, index)
        approval = Approval.model_validate(recorded.model_dump(exclude={"role"}))
        decision = decide_approval(state, approval)
        if decision.refusal is not None:
            raise violation(decision.refusal.code, decision.refusal.message)
        state.signatures_checked += 1
        if dict(decision.entries[0][1]) != recorded.model_dump(mode="json"):
            raise violation("role", f"recorded role {recorded.role!r} is not {approval.signer}'s registered role")
    elif entry_type == ENTRY_EXECUTED:
        executed = _parse(ExecutionRecord, payload, entry_type, index)
        decision = decide_execution(state, executed.proposal_id)
        if decision.refusal is not None:
            raise violation(decision.refusal.code, decision.refusal.message)
        expected = ExecutionRecord.model_validate(decision.entries[0][1])
        if expected != executed:
            raise violation(
                "execution_mismatch",
                f"the entry differs from the execution the rules decide ({expected.model_dump(mode='json')})",
            )
    elif entry_type == ENTRY_REFUSED:
        _check_refusal(state, _parse(RefusalRecord, payload, entry_type, index), violation)
    elif entry_type == ENTRY_INTEREST:
        declaration = _parse(SignedDeclaration, payload, entry_type, index)
        try:
            decide_declaration(state, declaration)
        except LedgerError as exc:
            raise violation("declaration", exc.message) from None
        state.signatures_checked += 1
    elif entry_type == ENTRY_BODS:
        signed_statement = _parse(SignedStatement, payload, entry_type, index)
        _check_recorder(state, signed_statement.signer, "statement", violation)
        sig = base64.b64decode(signed_statement.signature)
        signer = state.governance.stakeholder(signed_statement.signer)
        assert signer is not None  # _check_recorder
        if not signer.verifier.verify_raw(statement_message(signed_statement.statement), sig):
            raise violation("bad_signature", f"signature does not verify with {signer.name}'s registered key")
        state.signatures_checked += 1
        statement = signed_statement.statement
        try:
            validate_statements([statement], source="statement")
        except LedgerError as exc:
            raise violation("bods_schema", exc.message) from None
        try:
            check_beneficial_flags([statement], known=state.record_types, source="statement")
        except LedgerError as exc:
            raise violation("bods_beneficial_owner", exc.message) from None
        sid = str(statement.get("statementId"))
        if sid in state.statement_ids:
            raise violation("duplicate_statement", f"statementId {sid} is already in the ledger")
    elif entry_type == ENTRY_RECEIPT:
        receipt = _parse(SignedReceipt, payload, entry_type, index)
        if receipt.receipt_id in state.receipts:
            raise violation(
                "duplicate_receipt",
                f"receipt {receipt.receipt_id} is already recorded (entry {state.receipts[receipt.receipt_id]})",
            )
        _check_recorder(state, receipt.recorder, "receipt", violation)
        recorder = state.governance.stakeholder(receipt.recorder)
        assert recorder is not None  # _check_recorder
        if not recorder.verifier.verify_raw(receipt_message(receipt.receipt), base64.b64decode(receipt.signature)):
            raise violation("bad_signature", f"signature does not verify with {recorder.name}'s registered key")
        state.signatures_checked += 1


def _check_flag(state: ControlState, flag: BenchmarkFlagRecord, index: int | None, violation: Any) -> None:
    """Rule of ``benchmark_flag`` (module docstring): the rules' own flag for its proposal, right after it."""
    pid = flag.proposal_id
    rec = state.proposals.get(pid)
    if rec is None:
        raise violation("unknown_proposal", f"no proposal {pid!r} before this flag")
    if rec.derived_flag is None:
        raise violation(
            "benchmark_mismatch", f"the rules flag nothing for proposal {pid}: its unit cost is within range"
        )
    expected = BenchmarkFlagRecord.model_validate(rec.derived_flag)
    if flag != expected:
        raise violation("benchmark_mismatch", f"the flag differs from the rules' flag for {pid}: {expected.message}")
    if state.awaiting_flag is not rec or (index is not None and rec.index is not None and index != rec.index + 1):
        raise violation(
            "not_derived",
            f"proposal {pid}'s flag is written by the rules right after the proposal (entry {rec.index}), "
            "never by a caller",
        )


def _check_refusal(state: ControlState, refusal: RefusalRecord, violation: Any) -> None:
    """Rule of ``disbursement_refused`` (module docstring): the refusal the rules record at this index."""
    decision: Decision
    if refusal.stage == "approval":
        if refusal.approval is None:
            raise violation(
                "refusal_not_derived",
                "an approval refusal carries the refused approval as submitted; without it the rules cannot "
                "re-decide it",
            )
        decision = decide_approval(state, refusal.approval)
        state.signatures_checked += 1
    else:
        if refusal.approval is not None:
            raise violation("refusal_not_derived", "an execution refusal carries no approval")
        decision = decide_execution(state, refusal.proposal_id)
    if decision.refusal is None:
        raise violation(
            "refusal_not_derived", f"the rules accept this {refusal.stage} of proposal {refusal.proposal_id} here"
        )
    expected = RefusalRecord.model_validate(decision.entries[0][1])
    if expected != refusal:
        raise violation(
            "refusal_not_derived",
            f"the rules refuse it otherwise: {decision.refusal.code}: {expected.reason}"
            + (f" (signer {expected.signer})" if expected.signer != refusal.signer else ""),
        )


def _check_amendment(state: ControlState, signed: SignedAmendment, violation: Any) -> None:
    """Rule of ``governance_amended`` (module docstring): right governance, next sequence, a quorum of distinct
    approvers whose registered keys signed :func:`amendment_message`."""
    amendment = signed.amendment
    if state.governance_sha256 is None:
        raise violation("no_governance", "no governance is registered to amend")
    if amendment.governance_sha256 != state.governance_sha256:
        raise violation(
            "amendment",
            f"amends governance {amendment.governance_sha256[:16]}…, the registered one is "
            f"{state.governance_sha256[:16]}… (entry {state.governance_index})",
        )
    expected = len(state.amendments) + 1
    if amendment.sequence != expected:
        raise violation("amendment_sequence", f"sequence {amendment.sequence}; the next amendment is {expected}")
    message = amendment_message(amendment)
    signers: dict[str, Role] = {}
    for i, item in enumerate(signed.signatures):
        stakeholder = state.governance.stakeholder(item.signer)
        if stakeholder is None:
            raise violation("unknown_signer", f"signatures[{i}]: {item.signer!r} is not a stakeholder")
        if stakeholder.role not in APPROVING_ROLES:
            raise violation("not_an_approver", f"signatures[{i}]: role {stakeholder.role} does not approve")
        if item.signer in signers:
            raise violation("replayed_approval", f"signatures[{i}]: {item.signer} signed twice")
        if not stakeholder.verifier.verify_raw(message, base64.b64decode(item.signature)):
            raise violation("bad_signature", f"signatures[{i}]: does not verify with {item.signer}'s key")
        state.signatures_checked += 1
        signers[item.signer] = stakeholder.role
    missing = state.governance.quorum_shortfall(signers)
    if missing:
        raise violation("quorum_not_met", f"an amendment needs the quorum: {', '.join(missing)}")


def _check_recorder(state: ControlState, name: str, what: str, violation: Any) -> None:
    stakeholder = state.governance.stakeholder(name)
    if stakeholder is None:
        raise violation("unknown_signer", f"{what} signer {name!r} is not a stakeholder of the governance in force")
    if stakeholder.role not in RECORDING_ROLES:
        raise violation(
            "not_a_registrar",
            f"{name} has role {stakeholder.role}; only {' or '.join(RECORDING_ROLES)} sign a {what}",
        )


def _missing_flag(rec: ProposalRecord) -> RuleViolationError:
    pid = rec.proposal.proposal_id
    where = "" if rec.index is None else f" at entry {rec.index + 1}"
    return RuleViolationError(
        "missing_benchmark_flag",
        f"proposal {pid} is flagged ({rec.expected_flag}) but its benchmark flag does not follow it{where}",
        entry_type=ENTRY_PROPOSED,
        index=rec.index,
    )


def _is_its_flag(rec: ProposalRecord, entry_type: str, index: int | None) -> bool:
    return entry_type == ENTRY_BENCHMARK_FLAG and (index is None or rec.index is None or index == rec.index + 1)


def admit(
    state: ControlState, entry_type: str, payload: Mapping[str, Any], index: int | None, *, strict: bool
) -> bool:
    """Check and apply one entry; True when admitted. A violation is raised (``strict``: at append) or
    recorded in ``state.faults`` and the entry skipped (a fold over stored entries never stops).

    A flagged proposal must be followed by its flag: any other entry after it (or a flag the rules refuse) adds
    ``missing_benchmark_flag`` naming the proposal (at append, the entry is refused)."""
    waiting = state.awaiting_flag
    if waiting is not None and not _is_its_flag(waiting, entry_type, index):
        if strict:
            raise _missing_flag(waiting)
        state.faults.append(_missing_flag(waiting))
        state.awaiting_flag = waiting = None
    before = len(state.faults)
    admitted = _admit(state, entry_type, payload, index, strict=strict)
    if waiting is not None and state.awaiting_flag is waiting:  # the entry right after it was not its flag
        state.faults.insert(before, _missing_flag(waiting))  # in index order: the proposal, then this entry
        state.awaiting_flag = None
    return admitted


def pending_faults(state: ControlState) -> list[RuleViolationError]:
    """The faults that ending the log here would add (state unchanged): a flagged proposal that is the last
    governed entry has no flag after it (``missing_benchmark_flag``)."""
    return [] if state.awaiting_flag is None else [_missing_flag(state.awaiting_flag)]


def finish(state: ControlState) -> ControlState:
    """End of the log: add :func:`pending_faults` to ``state.faults``."""
    state.faults.extend(pending_faults(state))
    state.awaiting_flag = None
    return state


def _admit(
    state: ControlState, entry_type: str, payload: Mapping[str, Any], index: int | None, *, strict: bool
) -> bool:
    try:
        check_entry(state, entry_type, payload, index)
        state.apply(entry_type, payload, index=index)
    except RuleViolationError as exc:
        if strict:
            raise
        state.faults.append(exc)
        return False
    except (KeyError, ValueError, TypeError, LedgerError) as exc:  # a payload the model cannot even read
        violation = RuleViolationError("malformed", str(exc), entry_type=entry_type, index=index)
        if strict:
            raise violation from None
        state.faults.append(violation)
        return False
    return True


def fold_on(entries: Iterable[GovernedEntry], state: ControlState) -> ControlState:
    """``state`` (changed in place and returned) after ``entries`` in index order, admitting each governed entry
    under the rules; entries that break them are listed in ``faults`` and skipped. Not finished
    (:func:`finish`): ``state`` is the *open* fold of the entries before ``entries``, so this is a left fold —
    ``fold_on(b, fold_on(a, s))`` is ``fold_on(a + b, s)``."""
    for e in entries:
        if e.type in GOVERNED_ENTRY_TYPES:
            admit(state, e.type, e.payload, e.index, strict=False)
    return state


def fold(entries: Iterable[GovernedEntry], *, state: ControlState | None = None) -> ControlState:
    """The control state after ``entries`` (index order) as a whole log: :func:`fold_on` then :func:`finish`.

    ``state``: go on from this state (changed in place), the fold of the entries before ``entries`` — a finished
    one with no flag pending, so that ending it there added nothing (:func:`finish`); default: the empty state."""
    if state is None:
        state = ControlState()
    elif state.awaiting_flag is not None:
        raise LedgerError("fold: the state to go on from must not wait for a benchmark flag")
    return finish(fold_on(entries, state))
