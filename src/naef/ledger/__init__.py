"""The independent control system's tamper-evident log (DESIGN.md §5).

Every operation of NAEF and the MDF is an :class:`~naef.ledger.entries.Entry` — RFC 8785 canonical JSON,
hashed as an RFC 9162 Merkle leaf — appended to a :class:`~naef.ledger.log.Ledger` stored with SQLAlchemy
(SQLite file or PostgreSQL). Checkpoints are C2SP signed notes (Ed25519), cosigned by witnesses; inclusion
and consistency proofs follow RFC 9162, so anyone holding a published checkpoint can check the log without
trusting its operator. See ``docs/ledger.md``.
"""

from __future__ import annotations

# The control system's rules: loading them installs the gate every governed append passes
# (naef.ledger.approvals.service); without it the log refuses governed entry types.
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
