"""Signed checkpoints of the log and their witnesses' cosignatures (C2SP tlog-checkpoint, tlog-cosignature).

The functions run inside a :class:`~naef.ledger.log.LedgerTransaction`'s connection (the writer lock held),
so a checkpoint is signed over exactly the tree it stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select

from naef.ledger import store
from naef.ledger.entries import format_time
from naef.ledger.errors import LedgerError, VerificationError
from naef.ledger.keys import SIG_COSIGNATURE_V1, SignerKey, VerifierKey
from naef.ledger.merkle import consistency_plan, is_empty_tree, verify_consistency
from naef.ledger.note import Checkpoint, cosign_checkpoint, open_checkpoint, parse_note, sign_checkpoint
from naef.ledger.proofs import fold_plans, root_of, root_plan

__all__ = [
    "CHAIN_EXTENSION",
    "StoredCheckpoint",
    "add_witness",
    "chain_of",
    "cosign",
    "store_checkpoint",
    "stored_checkpoints",
    "witness_keys",
]


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint as stored: size, root, the signed note (with any cosignatures) and when it was made."""

    size: int
    root_hash: bytes
    note: str
    created_at: str


CHAIN_EXTENSION = "naef-checkpoint"
"""The first word of the extension line (c2sp.org/tlog-checkpoint: lines after the root hash, ignored by clients
that do not know them) by which each checkpoint's signed note names its place among the log's checkpoints:
``naef-checkpoint <n> previous <size|none>`` — it is the log's ``n``-th checkpoint and the one before it has that
tree size. The log key signs it, so deleting a stored checkpoint row (with the head's counters edited too) leaves
a later checkpoint naming a size that is not stored, or a number larger than the rows stored up to it; ``verify``
names either (docs/ledger.md: "What verify proves")."""


def _chain_line(number: int, previous: int | None) -> str:
    return f"{CHAIN_EXTENSION} {number} previous {'none' if previous is None else previous}"


def chain_of(checkpoint: Checkpoint) -> tuple[int, int | None] | None:
    """``(n, previous size or None)`` of a checkpoint's chain line (:data:`CHAIN_EXTENSION`); ``None`` when its
    note has none (a checkpoint signed before the line existed); LedgerError when the line is malformed."""
    for line in checkpoint.extensions:
        words = line.split(" ")
        if words[0] != CHAIN_EXTENSION:
            continue
        ok = (len(words) == 4 and words[1].isdigit() and words[2] == "previous"
              and (words[3] == "none" or words[3].isdigit()))
        if not ok:
            raise LedgerError(f"checkpoint at size {checkpoint.size}: malformed chain line {line[:80]!r}")
        return int(words[1]), None if words[3] == "none" else int(words[3])
    return None


def store_checkpoint(
    conn: Connection, *, log_key: VerifierKey, log_signer: SignerKey, size: int, root: bytes
) -> str:
    """Sign (size, root) as a C2SP checkpoint with the log's key and store it; return the note.

    If a checkpoint of this size exists already, it is returned unchanged (with its cosignatures).
    """
    if log_signer.verifier() != log_key:
        raise LedgerError(
            f"--key: {log_signer.name}+{log_signer.key_id:08x} is not this log's key "
            f"{log_key.name}+{log_key.key_id:08x}"
        )
    c = store.checkpoints.c
    existing = conn.execute(select(c.note).where(c.size == size)).scalar()
    if existing is not None:
        return str(existing)
    # the log key signs this checkpoint's place among the stored ones (CHAIN_EXTENSION): the number of rows
    # stored before it plus one, and the size of the latest one (checkpoints are made at the current size, so the
    # latest stored is the one before it)
    count, previous = conn.execute(select(func.count(), func.max(c.size)).select_from(store.checkpoints)).one()
    chain = _chain_line(int(count) + 1, None if previous is None else int(previous))
    note = sign_checkpoint(Checkpoint(log_key.name, size, root, (chain,)), log_signer)
    conn.execute(
        store.checkpoints.insert().values(
            size=size, root_hash=root, note=note, created_at=format_time(datetime.now(UTC))
        )
    )
    # the head counts the checkpoints stored, so that a deleted row shows in verify
    conn.execute(store.head.update().where(store.head.c.id == 1).values(checkpoints=store.head.c.checkpoints + 1))
    return note


def stored_checkpoints(conn: Connection) -> list[StoredCheckpoint]:
    """All stored checkpoints, smallest size first."""
    c = store.checkpoints.c
    rows = conn.execute(select(c.size, c.root_hash, c.note, c.created_at).order_by(c.size)).all()
    return [StoredCheckpoint(int(s), bytes(r), str(n), str(t)) for s, r, n, t in rows]


def add_witness(conn: Connection, *, log_key: VerifierKey, vkey: VerifierKey) -> None:
    """Register a witness's ``cosignature/v1`` (type 0x04) verifier key (idempotent)."""
    if vkey.sig_type != SIG_COSIGNATURE_V1:
        raise LedgerError(f"witness key {vkey.name}: must be a cosignature/v1 (type 0x04) verifier key")
    if vkey.name == log_key.name:
        raise LedgerError(f"witness key {vkey.name}: a witness cannot share the log's name")
    w = store.witnesses.c
    if conn.execute(select(w.vkey).where(w.vkey == vkey.encode())).scalar() is None:
        conn.execute(
            store.witnesses.insert().values(vkey=vkey.encode(), name=vkey.name, added_at=format_time(datetime.now(UTC)))
        )


def witness_keys(conn: Connection) -> list[VerifierKey]:
    """Registered witness keys."""
    return [VerifierKey.parse(v) for v in conn.execute(select(store.witnesses.c.vkey)).scalars()]


def cosign(conn: Connection, *, log_key: VerifierKey, witness: SignerKey, size: int | None, timestamp: int) -> str:
    """A registered witness cosigns a stored checkpoint (default: the latest) after checking it.

    The witness checks the log's signature, that the root matches the stored tree at that size, and that the
    checkpoint is consistent (RFC 9162 consistency proof) with the largest checkpoint it cosigned before.
    """
    wkey = witness.verifier(SIG_COSIGNATURE_V1)
    if wkey not in witness_keys(conn):
        raise LedgerError(f"--key: {wkey.name} is not a registered witness of this log (add-witness first)")
    c = store.checkpoints.c
    q = select(c.size, c.note).order_by(c.size.desc())
    rows = conn.execute(q if size is None else q.where(c.size == size)).all()
    if not rows:
        raise LedgerError("checkpoint: none to cosign" if size is None else f"size: no checkpoint of size {size}")
    target_size, target_note = int(rows[0][0]), str(rows[0][1])
    cp = open_checkpoint(target_note, log_key).checkpoint
    prior = conn.execute(select(c.size, c.note).where(c.size < target_size).order_by(c.size.desc())).all()
    prev: Checkpoint | None = None
    for _, note in prior:
        opened = open_checkpoint(str(note), log_key, [wkey])
        if opened.cosigners:
            prev = opened.checkpoint
            break
    plans = [root_plan(cp.size)]
    if prev is not None and prev.size:
        plans += [consistency_plan(prev.size, cp.size)]
    folded = fold_plans(conn, plans)
    if root_of(folded[0]) != cp.root_hash:
        raise VerificationError(
            f"checkpoint at size {cp.size}: root differs from the stored tree", checkpoint_size=cp.size
        )
    if prev is not None and not (
        is_empty_tree(prev.size, prev.root_hash) if prev.size == 0  # RFC 9162: no proof from the empty tree
        else verify_consistency(prev.size, cp.size, folded[1], prev.root_hash, cp.root_hash)
    ):
        raise VerificationError(
            f"checkpoint at size {cp.size}: not consistent with size {prev.size} cosigned before",
            checkpoint_size=cp.size,
        )
    note = cosign_checkpoint(target_note, witness, timestamp=timestamp)
    conn.execute(store.checkpoints.update().where(c.size == target_size).values(note=note))
    added = len(parse_note(note).signatures) - len(parse_note(target_note).signatures)  # 0: a renewed line
    if added:
        h = store.head.c
        conn.execute(store.head.update().where(h.id == 1).values(cosignatures=h.cosignatures + added))
    return note
