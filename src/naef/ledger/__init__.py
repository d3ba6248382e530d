"""The independent control system's tamper-evident log (DESIGN.md §5).

Every operation of NAEF and the MDF is an :class:`~naef.ledger.entries.Entry` — RFC 8785 canonical JSON,
hashed as an RFC 9162 Merkle leaf — appended to a :class:`~naef.ledger.log.Ledger` stored with SQLAlchemy
(SQLite file or PostgreSQL). Checkpoints are C2SP signed notes (Ed25519), cosigned by witnesses; inclusion
and consistency proofs follow RFC 9162, so anyone holding a published checkpoint can check the log without
trusting its operator. See ``docs/ledger.md``.

The names are loaded on first use (PEP 562), so that importing one module of the package (``naef.ledger.governance``,
which the scenario reads) does not load SQLAlchemy and the whole log. The control system's rules, the gate every
governed append passes (:mod:`naef.ledger.approvals.service`), are installed by the log itself before it appends
its first governed entry (``LedgerTransaction._push`` in :mod:`naef.ledger.transaction`), whatever was imported first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from naef.lazy import lazy_names

if TYPE_CHECKING:
    from naef.ledger import approvals
    from naef.ledger.entries import Entry, canonical_json, entry_types, make_entry, register_entry_type
    from naef.ledger.errors import LedgerError, VerificationError
    from naef.ledger.keys import SIG_COSIGNATURE_V1, SIG_ED25519, SignerKey, VerifierKey, generate_key
    from naef.ledger.log import (
        ConsistencyProof,
        InclusionProof,
        Ledger,
        LedgerTransaction,
        StoredCheckpoint,
        StoredEntry,
        VerifyReport,
    )

__all__ = [
    "SIG_COSIGNATURE_V1",
    "SIG_ED25519",
    "ConsistencyProof",
    "Entry",
    "InclusionProof",
    "Ledger",
    "LedgerError",
    "LedgerTransaction",
    "SignerKey",
    "StoredCheckpoint",
    "StoredEntry",
    "VerificationError",
    "VerifierKey",
    "VerifyReport",
    "approvals",
    "canonical_json",
    "entry_types",
    "generate_key",
    "make_entry",
    "register_entry_type",
]

_HOME = {
    "approvals": "naef.ledger.approvals",
    "SIG_COSIGNATURE_V1": "naef.ledger.keys",
    "SIG_ED25519": "naef.ledger.keys",
    "ConsistencyProof": "naef.ledger.log",
    "Entry": "naef.ledger.entries",
    "InclusionProof": "naef.ledger.log",
    "Ledger": "naef.ledger.log",
    "LedgerError": "naef.ledger.errors",
    "LedgerTransaction": "naef.ledger.log",
    "SignerKey": "naef.ledger.keys",
    "StoredCheckpoint": "naef.ledger.log",
    "StoredEntry": "naef.ledger.log",
    "VerificationError": "naef.ledger.errors",
    "VerifierKey": "naef.ledger.keys",
    "VerifyReport": "naef.ledger.log",
    "canonical_json": "naef.ledger.entries",
    "entry_types": "naef.ledger.entries",
    "generate_key": "naef.ledger.keys",
    "make_entry": "naef.ledger.entries",
    "register_entry_type": "naef.ledger.entries",
}


#: the public names' modules (PEP 562, :func:`naef.lazy.lazy_names`); ``approvals`` is the subpackage itself
__getattr__ = lazy_names(__name__, _HOME)
