"""``audit``: replay a whole log under the control system's rules, independently of the code that wrote it.

``verify`` proves the log was never rewritten; ``audit`` proves the fund obeyed its rules in it. It folds the
entries in index order through the same gate the storage layer applies at append
(:func:`naef.ledger.approvals.admission.check_entry`): every proposer's, approver's, declarant's, registrar's
and recorder's signature against the keys registered at that index, the quorum, conflicts of interest as known
at that index, benchmark flags and justifications, payees that are BODS records, and the MDF's balance (no
disbursement above what was received). An entry written around the gate — raw SQL into the database — is
named with the rule it breaks.

:func:`audit` is pure (entries in, report out): ``naef ledger audit``, the portal and ``verify-bundle`` call it
on what they read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from naef.ledger.approvals.admission import GovernedEntry, admit, finish
from naef.ledger.approvals.rules import ControlState
from naef.ledger.entries import GOVERNED_ENTRY_TYPES

__all__ = ["AuditFault", "AuditReport", "audit"]


@dataclass(frozen=True)
class AuditFault:
    """One entry the rules refuse: where, which rule, why."""

    index: int | None
    entry_type: str
    rule: str
    message: str


@dataclass(frozen=True)
class AuditReport:
    """What :func:`audit` found."""

    entries: int
    governed: int
    admitted: Mapping[str, int]
    signatures: int
    received_usd: Decimal
    disbursed_usd: Decimal
    faults: tuple[AuditFault, ...]

    @property
    def ok(self) -> bool:
        """True when every governed entry follows the rules."""
        return not self.faults

    @property
    def balance_usd(self) -> Decimal:
        """The MDF's balance at the end of the log: received − disbursed."""
        return self.received_usd - self.disbursed_usd

    @property
    def first_fault(self) -> AuditFault | None:
        """The first entry that breaks a rule, if any."""
        return self.faults[0] if self.faults else None

    def line(self) -> str:
        """One line: ``ok: ...`` with counts, or the first entry that breaks a rule."""
        first = self.first_fault
        if first is not None:
            more = f" ({len(self.faults) - 1} more)" if len(self.faults) > 1 else ""
            return f"audit failed: {first.message}{more}"
        counts = ", ".join(f"{n} {t}" for t, n in sorted(self.admitted.items()))
        return (
            f"ok: {self.entries} entries, {self.governed} governed entries follow the rules ({counts or 'none'}); "
            f"{self.signatures} signatures checked; MDF received {self.received_usd} USD, disbursed "
            f"{self.disbursed_usd} USD, balance {self.balance_usd} USD"
        )

    def to_json(self) -> dict[str, Any]:
        """JSON form (``naef ledger audit --json``; money as decimal strings)."""
        return {
            "ok": self.ok,
            "entries": self.entries,
            "governed_entries": self.governed,
            "admitted": dict(sorted(self.admitted.items())),
            "signatures_checked": self.signatures,
            "mdf": {
                "received_usd": str(self.received_usd),
                "disbursed_usd": str(self.disbursed_usd),
                "balance_usd": str(self.balance_usd),
            },
            "faults": [
                {"index": f.index, "type": f.entry_type, "rule": f.rule, "message": f.message} for f in self.faults
            ],
        }


def audit(entries: Iterable[GovernedEntry]) -> AuditReport:
    """Replay ``entries`` (every entry of a log, or of a bundle, in index order) under the rules.

    An entry that breaks a rule is reported and skipped (so the entries after it are judged on the state the
    rules would have produced); the report lists every such entry, the first one first.
    """
    state = ControlState()
    n = 0
    governed = 0
    for e in entries:
        n += 1
        if e.type in GOVERNED_ENTRY_TYPES:
            governed += 1
            admit(state, e.type, e.payload, e.index, strict=False)
    finish(state)
    faults = tuple(AuditFault(f.index, f.entry_type, f.rule, f.message) for f in state.faults)
    return AuditReport(
        entries=n,
        governed=governed,
        admitted=dict(state.admitted),
        signatures=state.signatures_checked,
        received_usd=state.received_usd,
        disbursed_usd=state.disbursed_usd,
        faults=faults,
    )
