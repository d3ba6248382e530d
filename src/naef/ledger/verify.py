"""``verify``: recompute every leaf, node and checkpoint of the store and name the first fault.

Checks, in order: the log key (against a trusted key if given); every stored checkpoint's signature (log key;
cosignatures of registered witnesses), root column and signed chain line (it names the previous stored checkpoint
and its own number: a deleted checkpoint row shows even when the head's counters were edited too; only the latest
one's deletion needs a copy kept outside, given as the published checkpoint); then, streaming the entries in index
order: indexes contiguous, ``leaf_hash(bytes)`` equals the stored leaf hash, the bytes decode to an envelope whose
type matches the type column, every complete subtree hash equals ``node_hash`` of the recomputed children (RFC 9162
§2.1.1), and at each checkpoint's size the recomputed root equals the signed root; finally no entry or node row
lies beyond the head. A published checkpoint must verify with the (trusted) log key, its root must equal the
recomputed root at its size, an RFC 9162 consistency proof from it to the current tree must verify, and when it
carries a chain line (this log signed it) it must still be stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, func, or_, select

from naef.ledger import store
from naef.ledger.checkpoints import chain_of
from naef.ledger.entries import decode_entry
from naef.ledger.errors import LedgerError, VerificationError
from naef.ledger.keys import VerifierKey
from naef.ledger.merkle import (
    EMPTY_ROOT,
    NodeId,
    consistency_plan,
    fold_range,
    leaf_hash,
    node_hash,
    verify_consistency,
)
from naef.ledger.note import Checkpoint, open_checkpoint
from naef.ledger.proofs import fold_plans

__all__ = ["VerifyReport", "verify_store"]

_VERIFY_CHUNK = 4096


@dataclass(frozen=True)
class VerifyReport:
    """What :meth:`Ledger.verify` checked."""

    size: int
    root_hash: bytes
    entries: int
    nodes: int
    checkpoints: int
    cosignatures: int
    published_checkpoint_size: int | None = None


def _chain(cp: Checkpoint) -> tuple[int, int | None] | None:
    try:
        return chain_of(cp)
    except LedgerError as exc:
        raise VerificationError(exc.message, checkpoint_size=cp.size) from None


def _check_chain(cp: Checkpoint, *, stored_before: int, previous: int | None) -> None:
    """The checkpoint's signed chain line (:data:`naef.ledger.checkpoints.CHAIN_EXTENSION`) against the rows
    stored before it: it names the previous stored checkpoint's size and is number ``stored_before + 1``; a note
    without the line (signed before it existed) is not checked."""
    chain = _chain(cp)
    if chain is None:
        return
    number, named = chain
    if named != previous:
        missing = "no earlier checkpoint" if named is None else f"the checkpoint at size {named}"
        raise VerificationError(
            f"checkpoint at size {cp.size}: its signed note names {missing} as the one before it, but the stored "
            f"one before it is {'none' if previous is None else f'at size {previous}'} (a checkpoint row was "
            "deleted)",
            checkpoint_size=cp.size if named is None else named,
        )
    if number != stored_before + 1:
        raise VerificationError(
            f"checkpoint at size {cp.size}: its signed note makes it the log's checkpoint number {number}, but "
            f"{stored_before} are stored before it (a checkpoint row was deleted)",
            checkpoint_size=cp.size,
        )


def verify_store(conn: Connection, log_key: VerifierKey, published: Checkpoint | None) -> VerifyReport:
    """Recompute everything from the stored bytes; ``VerificationError`` at the first fault (see the module)."""
    size = store.head_size(conn)
    hc = store.head.c
    head_checkpoints, head_cosignatures = conn.execute(select(hc.checkpoints, hc.cosignatures).where(hc.id == 1)).one()
    wkeys = [VerifierKey.parse(v) for v in conn.execute(select(store.witnesses.c.vkey)).scalars()]
    c = store.checkpoints.c
    want_root: dict[int, bytes] = {}
    n_cosig = 0
    n_lines = 0
    cp_rows = conn.execute(select(c.size, c.root_hash, c.note).order_by(c.size)).all()
    for s, r, note in cp_rows:
        if not isinstance(s, int) or not isinstance(r, bytes | memoryview) or not isinstance(note, str):
            raise VerificationError(
                f"checkpoint row (size {s!r}): stored with the wrong column types "
                f"({type(s).__name__}, {type(r).__name__}, {type(note).__name__})"
            )
        try:
            opened = open_checkpoint(note, log_key, wkeys)
        except LedgerError as exc:
            raise VerificationError(f"checkpoint at size {s}: {exc.message}", checkpoint_size=s) from None
        n_lines += len(opened.note.signatures) - 1
        cp = opened.checkpoint
        if cp.size != s or cp.root_hash != bytes(r):
            raise VerificationError(
                f"checkpoint at size {s}: stored size/root columns differ from the signed note",
                checkpoint_size=s,
            )
        if s > size:
            raise VerificationError(f"checkpoint at size {s}: beyond the log size {size}", checkpoint_size=s)
        _check_chain(cp, stored_before=len(want_root), previous=max(want_root, default=None))
        want_root[s] = cp.root_hash
        n_cosig += len(opened.cosigners)
    if len(cp_rows) != head_checkpoints:
        raise VerificationError(
            f"checkpoints: {len(cp_rows)} stored where the head records {head_checkpoints} "
            "(a checkpoint row was deleted or inserted)"
        )
    if n_lines != head_cosignatures:
        raise VerificationError(
            f"cosignatures: the stored checkpoints carry {n_lines} witness cosignature lines where the head "
            f"records {head_cosignatures} (a cosignature was removed from or added to a stored note)"
        )
    if published is not None and published.size > size:
        raise VerificationError(
            f"published checkpoint: size {published.size} is beyond the log size {size}",
            checkpoint_size=published.size,
        )
    if published is not None and published.size not in want_root and _chain(published) is not None:
        raise VerificationError(
            f"published checkpoint (size {published.size}): this log signed it, but it is not stored (a "
            "checkpoint row was deleted)",
            checkpoint_size=published.size,
        )
    capture = set(want_root)
    if published is not None:
        capture.add(published.size)
    roots: dict[int, bytes] = {0: EMPTY_ROOT}
    if want_root.get(0, EMPTY_ROOT) != EMPTY_ROOT:
        raise VerificationError("checkpoint at size 0: root is not the empty-tree hash", checkpoint_size=0)

    stack: list[tuple[int, bytes]] = []
    e, n = store.entries.c, store.nodes.c
    n_nodes = 0
    pos = 0
    while pos < size:
        stop = min(pos + _VERIFY_CHUNK, size)
        rows = conn.execute(
            select(e.idx, e.entry_type, e.canonical, e.leaf_hash).where(e.idx >= pos, e.idx < stop).order_by(e.idx)
        ).all()
        levels = [lv for lv in range(1, stop.bit_length() + 1) if (pos >> lv) < (stop >> lv)]
        stored_nodes: dict[NodeId, bytes] = {}
        if levels:
            cond = or_(*(and_(n.level == lv, n.idx >= (pos >> lv), n.idx < (stop >> lv)) for lv in levels))
            for lv, ix, h in conn.execute(select(n.level, n.idx, n.hash).where(cond)):
                if not isinstance(h, bytes | memoryview) or not isinstance(lv, int) or not isinstance(ix, int):
                    raise VerificationError(
                        f"node (level {lv!r}, index {ix!r}): stored with the wrong column types "
                        f"(hash {type(h).__name__})"
                    )
                stored_nodes[(lv, ix)] = bytes(h)
        expected = pos
        for idx, etype, canonical, stored_leaf in rows:
            if idx != expected:
                raise VerificationError(f"entry {expected}: missing from the store", index=expected)
            if not isinstance(canonical, bytes | memoryview) or not isinstance(stored_leaf, bytes | memoryview):
                raise VerificationError(
                    f"entry {idx}: stored with the wrong column types (canonical {type(canonical).__name__}, "
                    f"leaf_hash {type(stored_leaf).__name__}; both must be bytes)",
                    index=idx,
                )
            canonical = bytes(canonical)
            h = leaf_hash(canonical)
            if h != bytes(stored_leaf):
                raise VerificationError(
                    f"entry {idx}: stored leaf hash does not match the stored entry bytes", index=idx
                )
            try:
                decoded = decode_entry(canonical)
            except LedgerError as exc:
                raise VerificationError(f"entry {idx}: {exc.message}", index=idx) from None
            if decoded.type != etype:
                raise VerificationError(
                    f"entry {idx}: type column {etype!r} differs from the entry's type {decoded.type!r}",
                    index=idx,
                )
            level = 0
            while stack and stack[-1][0] == level:
                h = node_hash(stack.pop()[1], h)
                level += 1
                key = (level, idx >> level)
                got = stored_nodes.get(key)
                first = (idx >> level) << level
                if got is None:
                    raise VerificationError(
                        f"node (level {level}, index {key[1]}) over entries {first}..{idx}: missing",
                        index=first,
                    )
                if got != h:
                    raise VerificationError(
                        f"node (level {level}, index {key[1]}) over entries {first}..{idx}: "
                        "stored hash does not match the entries below it",
                        index=first,
                    )
                n_nodes += 1
            stack.append((level, h))
            expected = idx + 1
            if expected in capture:
                roots[expected] = fold_range([x for _, x in stack])
                if expected in want_root and roots[expected] != want_root[expected]:
                    raise VerificationError(
                        f"checkpoint at size {expected}: signed root differs from the root "
                        f"recomputed from entries 0..{expected - 1}",
                        checkpoint_size=expected,
                        index=expected - 1,
                    )
        if expected != stop:
            raise VerificationError(f"entry {expected}: missing from the store", index=expected)
        pos = stop

    extra_entries = conn.execute(select(func.count()).select_from(store.entries).where(e.idx >= size)).scalar_one()
    if extra_entries:
        raise VerificationError(f"entry {size}: stored beyond the head size {size}", index=size)
    stray = conn.execute(select(e.idx).where(or_(e.idx < 0, e.idx >= size)).order_by(e.idx).limit(1)).scalar()
    total_entries = conn.execute(select(func.count()).select_from(store.entries)).scalar_one()
    if stray is not None or total_entries != size:
        where = f"an entry row at index {stray!r}" if stray is not None else f"{total_entries} entry rows"
        raise VerificationError(
            f"entries: {where} stored outside the log of size {size} (a stray row)",
            index=stray if isinstance(stray, int) else None,
        )
    total_nodes = conn.execute(select(func.count()).select_from(store.nodes)).scalar_one()
    if total_nodes != n_nodes:
        raise VerificationError(
            f"nodes: {total_nodes} node rows stored where the log of size {size} has {n_nodes}",
            index=None,
        )
    root = fold_range([x for _, x in stack]) if stack else EMPTY_ROOT
    if published is not None:
        if roots[published.size] != published.root_hash:
            raise VerificationError(
                f"published checkpoint (size {published.size}): its root differs from the log's "
                "recomputed root at that size (history was rewritten)",
                checkpoint_size=published.size,
            )
        # size 0: the root was checked against MTH({}) just above; RFC 9162 has no proof from the empty tree
        path = fold_plans(conn, [consistency_plan(published.size, size)])[0] if published.size else []
        if published.size and not verify_consistency(published.size, size, path, published.root_hash, root):
            raise VerificationError(
                f"published checkpoint (size {published.size}): consistency proof to size {size} fails",
                checkpoint_size=published.size,
            )
    return VerifyReport(
        size=size,
        root_hash=root,
        entries=size,
        nodes=n_nodes,
        checkpoints=len(cp_rows),
        cosignatures=n_cosig,
        published_checkpoint_size=None if published is None else published.size,
    )
