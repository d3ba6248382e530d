"""The rules' state kept between write transactions (:class:`naef.ledger.transaction.RuleStateMemo`, issue 18):
a write folds only the entries committed since the handle's last write, and the state it decides on is the one a
fold of the whole log gives — after approvals, refusals, executions, flagged proposals, rollbacks, entries written
by another handle and entries written around the rules — on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import text

from naef.ledger.approvals import (
    ENTRY_APPROVED,
    ENTRY_BENCHMARK_FLAG,
    ENTRY_EXECUTED,
    ENTRY_PROPOSED,
    ApprovalRefusedError,
    ControlState,
    RuleViolationError,
    approve,
    control_state,
    execute,
    propose,
    sign_approval,
    sign_proposal,
    state_of,
)
from naef.ledger.approvals.rules import derived_flag
from naef.ledger.audit import audit
from naef.ledger.errors import LedgerError
from naef.ledger.log import Ledger
from tests.ledger.governed import around_the_rules, key
from tests.ledger.test_derived_entries import flagged_proposal
from tests.ledger.test_governed_attacks import forged_execution, governed, proposal

__all__ = ["governed"]  # the fixture, shared with test_governed_attacks


def _facts(state: ControlState) -> dict[str, Any]:
    """Every field of the state, the faults as (rule, index, message) (exceptions compare by identity)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(state):
        value = getattr(state, f.name)
        if f.name == "faults":
            value = [(v.rule, v.index, v.message) for v in value]
        elif f.name == "graph":
            value = repr(vars(value))
        out[f.name] = value
    return out


def _full_fold(url: str) -> dict[str, Any]:
    """The state a fresh handle folds from index 0."""
    with Ledger.open(url) as fresh:
        return _facts(control_state(fresh))


def _kept(ledger: Ledger) -> tuple[int, ControlState]:
    """What the handle keeps for its next write (and keeps it)."""
    kept = ledger._rule_memo.take()
    assert kept is not None, "nothing kept"
    size, root, state = kept
    assert isinstance(state, ControlState)
    assert root == ledger.root_hash(size)
    ledger._rule_memo.keep(size, root, state)
    return size, state


def _same_as_full_fold(ledger: Ledger) -> None:
    size, state = _kept(ledger)
    assert size == ledger.size()
    assert _facts(state) == _full_fold(ledger.url)


def test_the_kept_state_is_the_full_fold_after_every_kind_of_write(governed: Ledger) -> None:
    _same_as_full_fold(governed)
    approve(governed, sign_approval(proposal(), key("mx-2")))
    _same_as_full_fold(governed)
    with pytest.raises(ApprovalRefusedError):  # self-approval: the refusal is committed, then raised
        approve(governed, sign_approval(proposal(), key("mx-1")))
    _same_as_full_fold(governed)
    for signer in ("na-1", "controller"):
        approve(governed, sign_approval(proposal(), key(signer)))
    execute(governed, "MDF-1")
    _same_as_full_fold(governed)
    propose(governed, sign_proposal(flagged_proposal(), key("mx-1")))  # + the derived benchmark flag
    _same_as_full_fold(governed)


def test_a_refused_input_keeps_the_state_and_a_refused_entry_drops_it(governed: Ledger) -> None:
    size = governed.size()
    with pytest.raises(LedgerError):  # decided before the gate ran: rolled back, the state is still the fold
        propose(governed, sign_proposal(proposal(), key("mx-1")))  # MDF-1 again
    assert governed.size() == size
    _same_as_full_fold(governed)
    with pytest.raises(RuleViolationError, match="quorum_not_met"):  # the gate ran, then refused: dropped
        governed.append(ENTRY_EXECUTED, forged_execution())
    assert governed._rule_memo.take() is None
    propose(governed, sign_proposal(proposal("MDF-2"), key("mx-1")))  # folds the whole log again
    _same_as_full_fold(governed)


def test_entries_from_another_handle_and_around_the_rules_are_folded(governed: Ledger) -> None:
    with Ledger.open(governed.url) as other:  # another process of `naef serve --workers N`, say
        propose(other, sign_proposal(proposal("MDF-2"), key("mx-1")))
    with pytest.raises(LedgerError, match="MDF-2"):  # this handle's next write sees it
        propose(governed, sign_proposal(proposal("MDF-2"), key("mx-1")))
    index = around_the_rules(governed, ENTRY_EXECUTED, forged_execution())
    approve(governed, sign_approval(proposal(), key("mx-2")))
    _, state = _kept(governed)
    assert [(f.index, f.rule) for f in state.faults][-1:] == [(index, "quorum_not_met")]
    assert state.proposals["MDF-1"].executed_index is None  # never taken as a fact
    _same_as_full_fold(governed)


def test_a_state_handed_to_a_caller_is_never_reused(governed: Ledger) -> None:
    with governed.transaction() as tx:
        lent = state_of(tx)  # folded from index 0, not from the kept state
    assert _kept(governed)[1] is not lent
    approve(governed, sign_approval(proposal(), key("mx-2")))
    _, kept = _kept(governed)
    assert kept is not lent
    assert "mx-2" not in lent.proposals["MDF-1"].approvals  # the caller's copy is not changed under it


def _move_head_back(ledger: Ledger, size: int) -> None:
    """What a writer with access to the database (or a fail-over to a replica that lacks the last commits) does:
    drop the entries from ``size`` on and the nodes of subtrees reaching past it, and move the head back — a
    consistent shorter tree that ``verify`` accepts."""
    with ledger.engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_entries WHERE idx >= :k"), {"k": size})
        conn.execute(text("DELETE FROM ledger_nodes WHERE ((idx + 1) << level) > :k"), {"k": size})
        conn.execute(text("UPDATE ledger_head SET size = :k WHERE id = 1"), {"k": size})


def _approved_by_three(ledger: Ledger) -> int:
    """MDF-1 approved by three other stakeholders (quorum met); returns the size before the last two."""
    approve(ledger, sign_approval(proposal(), key("mx-2")))
    size = ledger.size()
    for signer in ("na-1", "controller"):
        approve(ledger, sign_approval(proposal(), key(signer)))
    return size


@pytest.mark.parametrize("refill", [False, True], ids=["truncated", "refilled-to-the-same-size"])
def test_a_head_moved_back_is_not_decided_on_from_the_kept_state(governed: Ledger, refill: bool) -> None:
    """Review of wt-web, item 1: the kept state is tied to the stored tree's root, not to a size. The last two
    approvals are dropped from the database (and, refilled, replaced by two ungoverned entries of another handle,
    so the size is the one kept): the execution is refused as by a fold of the whole log, and audit agrees."""
    before = _approved_by_three(governed)
    kept_size = governed.size()
    _same_as_full_fold(governed)
    _move_head_back(governed, before)
    assert governed.verify().size == before
    if refill:
        with Ledger.open(governed.url) as other:
            for period in ("Q1", "Q2"):
                other.append("revenue_collected", {"period": period, "amount_usd": "1.00", "source": "x"})
        assert governed.size() == kept_size
    with pytest.raises(ApprovalRefusedError) as refused:
        execute(governed, "MDF-1")
    assert refused.value.code == "quorum_not_met"
    assert audit(governed.entries()).ok
    _same_as_full_fold(governed)


def test_a_finished_transaction_holds_no_state(governed: Ledger) -> None:
    """Review of wt-web, item 4: once the block is left the transaction has no reference to the state the handle
    keeps, so code holding the transaction cannot change what later writes decide on."""
    with governed.transaction() as tx:
        tx.append(ENTRY_APPROVED, {**sign_approval(proposal(), key("mx-2")).model_dump(mode="json"),
                                   "role": "mexican_board"})
    assert getattr(tx, "rule_state", None) is None
    assert tx._rule_state is None
    _, kept = _kept(governed)
    assert "mx-2" in kept.proposals["MDF-1"].approvals


def test_a_kept_state_ending_on_a_flagged_proposal_goes_on_as_the_full_fold(governed: Ledger) -> None:
    """Review of wt-web, item 5: a writer around the rules commits a flagged proposal and, in a second transaction,
    its flag; a refused input between the two folded the log ending on the proposal (finished: a missing flag).
    That finished state is not kept as the start of the longer log's fold: the state the handle keeps after the
    next writes is the full fold's (no fault, the benchmark recorded), with the same faults and records."""
    flagged = flagged_proposal()
    around_the_rules(governed, ENTRY_PROPOSED, sign_proposal(flagged, key("mx-1")).model_dump(mode="json"))
    with pytest.raises(LedgerError):  # MDF-1 again: refused before the gate ran, rolled back
        propose(governed, sign_proposal(proposal(), key("mx-1")))
    around_the_rules(governed, ENTRY_BENCHMARK_FLAG, dict(derived_flag(flagged)))  # its flag, right after it
    for signer in ("mx-2", "na-1"):
        approve(governed, sign_approval(flagged, key(signer)))
    _, state = _kept(governed)
    assert state.faults == []
    assert state.proposals[flagged.proposal_id].benchmark is not None
    _same_as_full_fold(governed)


def _taken_again(ledger: Ledger) -> int:
    """Take the kept state in a write transaction as the rules do, put it back; returns its size."""
    with ledger.transaction() as tx:
        taken = tx.take_rule_memo()
        assert taken is not None, "the kept state was discarded"
        size, state = taken
    ledger._rule_memo.keep(size, ledger.root_hash(size), state)
    return size


def test_a_kept_state_is_reused_when_the_stored_prefix_is_the_one_it_was_folded_from(governed: Ledger) -> None:
    """The root check discards only a changed prefix: after this handle's own write (the kept size is the
    committed size: the root from the right edge read under the lock) and after entries another handle committed
    (below it: the root from the stored subtrees), the kept state is taken again."""
    approve(governed, sign_approval(proposal(), key("mx-2")))
    size = governed.size()
    assert _taken_again(governed) == size
    with Ledger.open(governed.url) as other:
        other.append("revenue_collected", {"period": "Q1", "amount_usd": "1.00", "source": "x"})
    assert _taken_again(governed) == size < governed.size()
