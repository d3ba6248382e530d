"""The web's handle on the control system's ledger: reads as JSON, a folded state cached by log size, and the
three governed writes (propose, approve, execute) through :mod:`naef.ledger.approvals`.

Reads never take the writer lock: the state (proposals, approvals, governance, the MDF's projects) is folded
from committed entries, incrementally — only entries appended since the last read are folded — so a page costs
``O(new entries)``, not ``O(log size)``. The log is append-only, so a fold of entries ``[0, n)`` is final.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from naef.ledger.approvals import Approval as ApprovalModel
from naef.ledger.approvals import (
    ApprovalRefusedError,
    ControlState,
    RuleViolationError,
    admit,
    approval_message,
    approve,
    canonical_proposal,
    counted_approvers,
    decide_execution,
    execute,
    pending_faults,
    propose,
)
from naef.ledger.approvals import SignedProposal as SignedProposalModel
from naef.ledger.errors import LedgerError
from naef.ledger.governance import Stakeholder
from naef.ledger.keys import VerifierKey
from naef.ledger.log import Ledger, StoredCheckpoint, StoredEntry, UnreadableEntry
from naef.ledger.merkle import EMPTY_ROOT
from naef.ledger.note import parse_note
from naef.ledger.proofs import NodeCache
from naef.web.config import ApiError
from naef.web.mdf_view import MdfSummary, proposal_fields, summarise

__all__ = ["LedgerView", "checkpoint_json", "entry_json", "unreadable_json"]

def entry_json(e: StoredEntry) -> dict[str, Any]:
    """An entry as JSON: index, type, time, payload, the canonical bytes as text, and the leaf hash (hex)."""
    return {
        "index": e.index,
        "type": e.type,
        "time": e.time,
        "payload": dict(e.payload),
        "canonical": e.canonical.decode("utf-8"),
        "leaf_hash": e.leaf_hash.hex(),
    }


def unreadable_json(e: UnreadableEntry) -> dict[str, Any]:
    """A row that cannot be decoded, as the portal's entry list shows it: index, the type its column names, and
    the error in place of the canonical bytes (time, payload and leaf hash unknown)."""
    return {"index": e.index, "type": e.type, "time": "", "payload": {},
            "canonical": f"unreadable: {e.error.message}", "leaf_hash": ""}


def checkpoint_json(cp: StoredCheckpoint) -> dict[str, Any]:
    """A stored checkpoint as JSON, with the names of the keys whose signature lines it carries (not verified
    here: the signed note is the proof; ``naef ledger verify`` and the portal's in-browser check verify it)."""
    try:
        signers = [{"name": s.name, "key_id": f"{s.key_id:08x}"} for s in parse_note(cp.note).signatures]
    except LedgerError:
        signers = []
    return {
        "size": cp.size,
        "root_hash": cp.root_hash.hex(),
        "note": cp.note,
        "created_at": cp.created_at,
        "signature_lines": signers,
    }


@dataclass
class _Folded:
    """What the fold of entries ``[0, size)`` gives."""

    size: int
    root: bytes  # of the stored tree of ``size`` leaves when they were folded
    state: ControlState
    mdf_entries: list[tuple[str, dict[str, Any]]]
    refusals: list[dict[str, Any]]
    unreadable: list[str]


_MDF_TYPES = frozenset({"disbursement_proposed", "disbursement_executed", "project_milestone", "waterfall_payment"})


class LedgerView:
    """One open ledger for the web app (thread-safe)."""

    def __init__(self, url: str, *, node_cache_nodes: int = NodeCache.DEFAULT_MAX_NODES) -> None:
        self.ledger = Ledger.open(url, node_cache=NodeCache(node_cache_nodes) if node_cache_nodes else None)
        self.url = url
        self._lock = threading.Lock()
        self._folded = _Folded(0, EMPTY_ROOT, ControlState(), [], [], [])

    def close(self) -> None:
        """Release the database handle."""
        self.ledger.close()

    # ---------------------------------------------------------------------------------------- basics

    @property
    def origin(self) -> str:
        """The log's origin (its key's name)."""
        return self.ledger.origin

    @property
    def log_key(self) -> VerifierKey:
        """The log's verifier key as stored in the database."""
        return self.ledger.log_key

    def info(self) -> dict[str, Any]:
        """Size, root, origin, keys and the latest checkpoint's size."""
        size = self.ledger.size()
        latest = self.ledger.latest_checkpoint()
        return {
            "origin": self.origin,
            "size": size,
            "root_hash": self.ledger.root_hash(size).hex(),
            "log_key": self.log_key.encode(),
            "witness_keys": [w.encode() for w in self.ledger.witnesses()],
            "latest_checkpoint_size": None if latest is None else latest.size,
        }

    def entry(self, index: int) -> StoredEntry:
        """Entry ``index`` (ApiError 404 when it is not in the log)."""
        size = self.ledger.size()
        if not 0 <= index < size:
            raise ApiError(404, "not_found", f"index: {index} is not in the log (size {size})")
        return self.ledger.get(index)

    def entries(self, *, start: int, limit: int, entry_type: str | None) -> tuple[int, list[StoredEntry]]:
        """(log size, up to ``limit`` entries from ``start`` on, optionally of one type)."""
        size = self.ledger.size()
        out: list[StoredEntry] = []
        if entry_type is None:
            out = list(self.ledger.entries(start, min(size, start + limit)))
        else:
            for e in self.ledger.entries(start, size, entry_type=entry_type):
                out.append(e)
                if len(out) >= limit:
                    break
        return size, out

    def entries_or_faults(self, *, start: int, limit: int) -> list[StoredEntry | UnreadableEntry]:
        """Up to ``limit`` entries from ``start`` on, a row that cannot be decoded as the
        :class:`~naef.ledger.log.UnreadableEntry` naming it (the portal lists it instead of failing the page)."""
        return list(self.ledger.entries_or_faults(start, start + limit))

    def checkpoints(self) -> list[StoredCheckpoint]:
        """Stored checkpoints, smallest first."""
        return self.ledger.checkpoints()

    def checkpoint(self, size: int) -> StoredCheckpoint | None:
        """The stored checkpoint of ``size``, if any."""
        return next((cp for cp in self.ledger.checkpoints() if cp.size == size), None)

    def covering_checkpoint(self, index: int) -> StoredCheckpoint | None:
        """The latest checkpoint that covers entry ``index`` (size > index), if any."""
        latest = self.ledger.latest_checkpoint()
        return latest if latest is not None and latest.size > index else None

    # ---------------------------------------------------------------------------------------- state

    def _refresh(self) -> _Folded:
        """Fold the entries appended since the last call; the caller holds ``self._lock`` while it reads the
        result (a concurrent refresh would change it underneath). The fold goes on from where it stopped only
        while the stored tree still has, at that size, the root it had when it was folded; a log that went back
        (a fail-over to a replica behind, a restore, a truncation) or was refilled or rewritten with its hashes
        recomputed is folded again from the start, so no page and no signer lookup shows an entry the log no
        longer holds."""
        f = self._folded
        read = self.ledger.catch_up(f.size)  # the usual case: a few new rows, one connection
        if read.root_at_start != f.root:
            f = self._folded = _Folded(0, EMPTY_ROOT, ControlState(), [], [], [])
            read = self.ledger.catch_up(0)
        if read.size > f.size:
            for e in read.rows:
                self._apply(f, e)
            if f.size + len(read.rows) < read.size:  # more than one read chunk behind (at start-up)
                for e in self.ledger.entries_or_faults(f.size + len(read.rows), read.size):
                    self._apply(f, e)
            f.size = read.size
            f.root = read.root
        return f

    @staticmethod
    def _apply(f: _Folded, e: StoredEntry | UnreadableEntry) -> None:
        if isinstance(e, UnreadableEntry):
            # a row that cannot even be decoded (changed in the database around the gate) is a fault named by its
            # index and skipped, as in the writers' fold (:func:`naef.ledger.approvals.state_of`): reading that
            # entry answers 400, every other read and write goes on
            fault = RuleViolationError("unreadable", e.error.message, entry_type=e.type, index=e.index)
            f.state.faults.append(fault)
            f.unreadable.append(f"{fault.message} (not folded into the control state)")
            return
        payload = dict(e.payload)
        # the same gate as at append and in `naef ledger audit`: an entry that breaks a rule (written around
        # it, e.g. by raw SQL) is named and skipped, never shown as a fact (not on the MDF page either), and
        # never blocks other writes
        if e.type in ControlState.RELEVANT_TYPES and not admit(f.state, e.type, payload, e.index, strict=False):
            f.unreadable.append(f"{f.state.faults[-1].message} (not folded into the control state)")
            return
        if e.type == "disbursement_refused":
            f.refusals.append({"index": e.index, "time": e.time, **payload})
        if e.type in _MDF_TYPES or "project_id" in payload:
            f.mdf_entries.append((e.type, payload))

    def mdf(self) -> MdfSummary:
        """The MDF's projects by sector and state (:func:`naef.web.mdf_view.summarise`) over the entries the rules
        admitted; received, disbursed and balance are the control state's (the fold ``audit`` makes: receipts
        and executions), so the page and ``naef ledger audit`` agree at every index."""
        with self._lock:
            f = self._refresh()
            summary = summarise(f.mdf_entries)
            summary.received_usd = f.state.received_usd
            summary.disbursed_usd = f.state.disbursed_usd
            return summary

    def stakeholders(self) -> list[Stakeholder]:
        """The governance's stakeholders in force."""
        with self._lock:
            return list(self._refresh().state.governance.stakeholders)

    def governance_json(self) -> dict[str, Any]:
        """The governance in force (stakeholders with roles and public keys, quorum, the conflict screen's reach
        as amended so far, and the indexes of the amendments) as JSON."""
        with self._lock:
            state = self._refresh().state
            out: dict[str, Any] = state.governance.model_dump(mode="json")
            out["conflict_reach"] = state.governance.conflict_reach.model_dump(mode="json")
            out["amendments"] = list(state.amendments)
            return out

    def audit_status(self) -> dict[str, Any]:
        """The audit of the committed log under the rules (:func:`naef.ledger.audit.audit`, folded
        incrementally): ok or the first entry that breaks a rule, with the MDF's received, disbursed and
        balance."""
        with self._lock:
            f = self._refresh()
            state = f.state
            faults = [*state.faults, *pending_faults(state)]  # a flagged proposal that ends the log lacks its flag
            first = faults[0] if faults else None
            return {
                "ok": first is None,
                "size": f.size,
                "governed_entries": sum(state.admitted.values()) + len(f.unreadable),  # admitted + skipped entries
                "faults": len(faults),
                "first_fault": None if first is None else {
                    "index": first.index, "type": first.entry_type, "rule": first.rule, "message": first.message
                },
                "received_usd": str(state.received_usd),
                "disbursed_usd": str(state.disbursed_usd),
                "balance_usd": str(state.balance_usd),
            }

    def unreadable(self) -> list[str]:
        """Entries that could not be folded into the control state (should be none)."""
        with self._lock:
            return list(self._refresh().unreadable)

    def proposals(self) -> list[dict[str, Any]]:
        """Every proposal with its status, approvals and what its execution still needs."""
        with self._lock:
            f = self._refresh()
            return [self._proposal_json(f, pid) for pid in f.state.proposals]

    def proposals_page(self, *, offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """``(number of proposals, the page [offset, offset + limit))`` in the order they were made; only the page
        is rendered."""
        with self._lock:
            f = self._refresh()
            ids = list(f.state.proposals)
            return len(ids), [self._proposal_json(f, pid) for pid in ids[offset:offset + limit]]

    def proposal(self, proposal_id: str) -> dict[str, Any]:
        """One proposal (ApiError 404 if unknown)."""
        with self._lock:
            f = self._refresh()
            if proposal_id not in f.state.proposals:
                raise ApiError(404, "not_found", f"proposal {proposal_id!r}: not in the log")
            return self._proposal_json(f, proposal_id)

    @staticmethod
    def _proposal_json(f: _Folded, pid: str) -> dict[str, Any]:
        state = f.state
        rec = state.proposals[pid]
        counted, ignored = counted_approvers(state, rec)
        decision = decide_execution(state, pid)
        if rec.executed_index is not None:
            status, needs = "executed", None
        elif decision.refusal is None:
            status, needs = "ready to execute", None
        else:
            status, needs = "awaiting approvals", decision.refusal.message.split(": ", 1)[-1]
        return {
            "proposal_id": pid,
            "index": rec.index,
            "proposal": rec.proposal.model_dump(mode="json"),
            "proposal_sha256": rec.signed.proposal_sha256,
            "canonical_proposal": canonical_proposal(rec.proposal).decode("utf-8"),
            "proposer_signature": rec.signed.signature,
            "approvals": [
                {"signer": s, "role": a.get("role"), "justification": a.get("justification"),
                 "signature": a.get("signature")}
                for s, a in sorted(rec.approvals.items())
            ],
            "counted_approvers": sorted(counted),
            "not_counted": ignored,
            "benchmark_flag": rec.benchmark,
            "executed_index": rec.executed_index,
            "status": status,
            "needs": needs,
            "refusals": [r for r in f.refusals if r.get("proposal_id") == pid],
            "summary": proposal_fields({"proposal": rec.proposal.model_dump(mode="json")}),
        }

    def approval_message(self, proposal_id: str, justification: str | None) -> bytes:
        """The exact bytes an approver signs for ``proposal_id`` with ``justification``."""
        with self._lock:
            rec = self._refresh().state.proposals.get(proposal_id)
            if rec is None:
                raise ApiError(404, "not_found", f"proposal {proposal_id!r}: not in the log")
            return approval_message(rec.proposal, justification)

    def signer_key(self, name: str) -> tuple[VerifierKey, str]:
        """The registered verifier key and role of stakeholder ``name`` (ApiError 401 if not registered)."""
        with self._lock:
            s = self._refresh().state.governance.stakeholder(name)
        if s is None:
            raise ApiError(401, "unknown_signer",
                           f"Signature-Input: keyid {name!r} is not a stakeholder of the governance in this ledger")
        return s.verifier, s.role

    # ---------------------------------------------------------------------------------------- writes

    def propose(self, signed: SignedProposalModel) -> list[int]:
        """Record a signed proposal (and its benchmark flag); LedgerError → 400 without appending."""
        try:
            return propose(self.ledger, signed)
        except LedgerError as exc:
            raise ApiError(400, "rejected", exc.message) from None

    def approve(self, approval: ApprovalModel) -> int:
        """Record an approval; a refusal is recorded too and answered with 409 naming its entry."""
        try:
            return approve(self.ledger, approval)
        except ApprovalRefusedError as exc:
            raise _refused(exc) from None
        except LedgerError as exc:
            raise ApiError(400, "rejected", exc.message) from None

    def execute(self, proposal_id: str) -> int:
        """Record an execution; a refusal is recorded and answered with 409 naming its entry."""
        try:
            return execute(self.ledger, proposal_id)
        except ApprovalRefusedError as exc:
            raise _refused(exc) from None
        except LedgerError as exc:
            raise ApiError(400, "rejected", exc.message) from None


def _refused(exc: ApprovalRefusedError) -> ApiError:
    return ApiError(409, exc.code, exc.message, extra={"refusal_index": exc.index})
