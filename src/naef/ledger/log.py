"""The append-only, publicly verifiable log: appends, proofs, signed checkpoints, witness cosignatures,
verify.

A :class:`Ledger` is a handle on one database (SQLite file or PostgreSQL). Every append runs inside one write
transaction that holds the single-writer lock (see :mod:`naef.ledger.store`): it reads the head size and the
``O(log n)`` right-edge subtree hashes, computes the new leaf and the complete subtrees it closes (RFC 9162
§2.1.1), inserts them and moves the head. It returns after the commit, so an acknowledged entry is durable,
and a writer killed at any moment leaves either the whole entry or nothing.

Part of the public API for sibling modules: :meth:`Ledger.transaction` yields a :class:`LedgerTransaction` in
which reads and appends see one state and commit together — check-then-append without races.
"""

from __future__ import annotations

import time as _time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, and_, func, or_, select

from naef.ledger import store
from naef.ledger.entries import Entry, decode_entry, format_time, make_entry
from naef.ledger.errors import LedgerError, VerificationError
from naef.ledger.keys import SIG_COSIGNATURE_V1, SIG_ED25519, SignerKey, VerifierKey
from naef.ledger.merkle import (
    EMPTY_ROOT,
    NodeId,
    consistency_plan,
    fold_range,
    inclusion_plan,
    leaf_hash,
    node_hash,
    range_nodes,
    verify_consistency,
    verify_inclusion,
)
from naef.ledger.note import Checkpoint, cosign_checkpoint, open_checkpoint, sign_checkpoint

__all__ = [
    "ConsistencyProof",
    "InclusionProof",
    "Ledger",
    "LedgerTransaction",
    "StoredCheckpoint",
    "StoredEntry",
    "VerifyReport",
]

_READ_CHUNK = 2048
_VERIFY_CHUNK = 4096


@dataclass(frozen=True)
class StoredEntry:
    """An entry as stored: its index plus the decoded envelope, canonical bytes and leaf hash."""

    index: int
    type: str
    time: str
    payload: Mapping[str, Any]
    canonical: bytes
    leaf_hash: bytes


@dataclass(frozen=True)
class InclusionProof:
    """RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size`` leaves with root ``root_hash``."""

    index: int
    size: int
    leaf_hash: bytes
    root_hash: bytes
    path: tuple[bytes, ...]

    def verify(self) -> bool:
        """RFC 9162 §2.1.3.2 check of this proof."""
        return verify_inclusion(self.leaf_hash, self.index, self.size, self.path, self.root_hash)

    def to_json(self) -> dict[str, Any]:
        """Hex-encoded JSON form (what ``naef ledger prove`` prints)."""
        return {
            "index": self.index,
            "size": self.size,
            "leaf_hash": self.leaf_hash.hex(),
            "root_hash": self.root_hash.hex(),
            "inclusion_path": [h.hex() for h in self.path],
        }


@dataclass(frozen=True)
class ConsistencyProof:
    """RFC 9162 consistency proof that the tree (``size1``, ``root1``) is a prefix of (``size2``,
    ``root2``)."""

    size1: int
    size2: int
    root1: bytes
    root2: bytes
    path: tuple[bytes, ...]

    def verify(self) -> bool:
        """RFC 9162 §2.1.4.2 check of this proof."""
        return verify_consistency(self.size1, self.size2, self.path, self.root1, self.root2)

    def to_json(self) -> dict[str, Any]:
        """Hex-encoded JSON form (what ``naef ledger prove --from-size`` prints)."""
        return {
            "size1": self.size1,
            "size2": self.size2,
            "root1": self.root1.hex(),
            "root2": self.root2.hex(),
            "consistency_path": [h.hex() for h in self.path],
        }


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint as stored: size, root, the signed note (with any cosignatures) and when it was made."""

    size: int
    root_hash: bytes
    note: str
    created_at: str


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


def _mark(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _lookup(conn: Connection, wanted: Sequence[NodeId]) -> dict[NodeId, bytes]:
    """Stored hashes of complete subtrees in one round trip: level 0 from ``ledger_entries.leaf_hash``, the
    rest from ``ledger_nodes`` (plain SQL: building SQLAlchemy expressions would cost more than the query)."""
    m = _mark(conn)
    leaves = [idx for level, idx in wanted if level == 0]
    inner = [(level, idx) for level, idx in wanted if level != 0]
    parts: list[str] = []
    params: list[int] = []
    if leaves:
        parts.append(f"SELECT 0, idx, leaf_hash FROM ledger_entries WHERE idx IN ({', '.join([m] * len(leaves))})")
        params.extend(leaves)
    if inner:
        terms = " OR ".join([f"(level = {m} AND idx = {m})"] * len(inner))
        parts.append(f"SELECT level, idx, hash FROM ledger_nodes WHERE {terms}")
        for level, idx in inner:
            params.extend((level, idx))
    if not parts:
        return {}
    rows = conn.exec_driver_sql(" UNION ALL ".join(parts), tuple(params)).all()
    return {(int(level), int(idx)): bytes(h) for level, idx, h in rows}


def _fold_plans(conn: Connection, plans: Sequence[Sequence[tuple[NodeId, ...]]]) -> list[list[bytes]]:
    """Fetch every node the plans need in one lookup, then fold each plan's elements."""
    wanted = list(dict.fromkeys(node for plan in plans for element in plan for node in element))
    found = _lookup(conn, wanted) if wanted else {}
    missing = [node for node in wanted if node not in found]
    if missing:
        level, idx = missing[0]
        raise VerificationError(f"node (level {level}, index {idx}) is missing from the store", index=idx << level)
    return [[fold_range([found[node] for node in element]) for element in plan] for plan in plans]


def _root_plan(size: int) -> list[tuple[NodeId, ...]]:
    return [range_nodes(0, size)] if size else []


def _root(folded: list[bytes]) -> bytes:
    return folded[0] if folded else EMPTY_ROOT


def _stored_entry(index: int, canonical: bytes, stored_leaf: bytes) -> StoredEntry:
    e = decode_entry(bytes(canonical))
    return StoredEntry(index, e.type, e.time, e.payload, e.canonical, bytes(stored_leaf))


def _read_entries(conn: Connection, start: int, end: int, entry_type: str | None) -> list[StoredEntry]:
    e = store.entries.c
    q = select(e.idx, e.canonical, e.leaf_hash).where(e.idx >= start, e.idx < end)
    if entry_type is not None:
        q = q.where(e.entry_type == entry_type)
    return [_stored_entry(i, c, h) for i, c, h in conn.execute(q.order_by(e.idx))]


def _head_size(conn: Connection) -> int:
    size = conn.exec_driver_sql("SELECT size FROM ledger_head WHERE id = 1").scalar_one_or_none()
    if size is None:
        raise LedgerError("ledger: not initialised (run `naef ledger init URL --key KEYFILE`)")
    return int(size)


class LedgerTransaction:
    """Reads and appends under the writer lock; everything commits together when the block exits cleanly."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        # the head row is the writers' lock on PostgreSQL (SQLite is already the one writer: BEGIN IMMEDIATE)
        lock = "" if conn.dialect.name == "sqlite" else " FOR UPDATE"
        size = conn.exec_driver_sql(f"SELECT size FROM ledger_head WHERE id = 1{lock}").scalar_one_or_none()
        if size is None:
            raise LedgerError("ledger: not initialised (run `naef ledger init URL --key KEYFILE`)")
        self._size = int(size)
        self._stack: list[tuple[int, bytes]] = []
        if self._size:
            ids = range_nodes(0, self._size)
            found = _lookup(conn, ids)
            try:
                self._stack = [(level, found[(level, idx)]) for level, idx in ids]
            except KeyError as exc:
                raise VerificationError(f"ledger: right-edge node {exc.args[0]} is missing; run verify") from None
        self._entry_rows: list[tuple[int, str, bytes, bytes]] = []
        self._node_rows: list[tuple[int, int, bytes]] = []
        mark = _mark(conn)
        self._sql_entries = (
            "INSERT INTO ledger_entries (idx, entry_type, canonical, leaf_hash) "
            f"VALUES ({mark}, {mark}, {mark}, {mark})"
        )
        self._sql_nodes = f"INSERT INTO ledger_nodes (level, idx, hash) VALUES ({mark}, {mark}, {mark})"

    @property
    def size(self) -> int:
        """Tree size including this transaction's appends."""
        return self._size

    def root_hash(self) -> bytes:
        """``MTH`` of the current tree (this transaction's appends included), from the right-edge subtrees."""
        if not self._stack:
            return EMPTY_ROOT
        return fold_range([h for _, h in self._stack])

    def append(
        self, entry_type: str, payload: Mapping[str, Any] | BaseModel, *, time: datetime | str | None = None
    ) -> int:
        """Validate and append one typed entry; returns its index (final once the transaction commits)."""
        return self._push(make_entry(entry_type, payload, time=time))

    def append_entry(self, entry: Entry) -> int:
        """Append a prepared :class:`Entry` (from :func:`naef.ledger.entries.make_entry`)."""
        if leaf_hash(entry.canonical) != entry.leaf_hash:
            raise LedgerError(f"entry {entry.type}: leaf hash does not match its canonical bytes")
        return self._push(entry)

    def _push(self, entry: Entry) -> int:
        """Append an entry whose leaf hash is known to be right (made by ``make_entry`` in this process)."""
        i = self._size
        h = entry.leaf_hash
        self._entry_rows.append((i, entry.type, entry.canonical, h))
        level = 0
        stack = self._stack
        while stack and stack[-1][0] == level:
            h = node_hash(stack.pop()[1], h)
            level += 1
            self._node_rows.append((level, i >> level, h))
        stack.append((level, h))
        self._size = i + 1
        return i

    def append_entries(self, items: Iterable[Entry]) -> range:
        """Append prepared entries in order; returns their index range."""
        start = self._size
        for entry in items:
            self.append_entry(entry)
        return range(start, self._size)

    def _flush(self) -> None:
        # Plain DB-API executemany (no per-row SQLAlchemy processing): the append hot path.
        if self._entry_rows:
            self._conn.exec_driver_sql(self._sql_entries, self._entry_rows)
            self._entry_rows = []
        if self._node_rows:
            self._conn.exec_driver_sql(self._sql_nodes, self._node_rows)
            self._node_rows = []

    def _finish(self) -> None:
        self._flush()
        self._conn.execute(store.head.update().where(store.head.c.id == 1).values(size=self._size))

    def get(self, index: int) -> StoredEntry:
        """Entry ``index`` (appends of this transaction included)."""
        self._flush()
        if not 0 <= index < self._size:
            raise LedgerError(f"index: {index} is not in the log (size {self._size})")
        return _read_entries(self._conn, index, index + 1, None)[0]

    def entries(self, start: int = 0, end: int | None = None, *, entry_type: str | None = None) -> list[StoredEntry]:
        """Entries with ``start <= index < end`` (optionally of one type), in index order."""
        self._flush()
        return _read_entries(self._conn, start, self._size if end is None else end, entry_type)


class Ledger(AbstractContextManager["Ledger"]):
    """A handle on one ledger database. Open with :meth:`init` (first time) or :meth:`open`."""

    def __init__(self, engine: Engine, url: str, log_key: VerifierKey) -> None:
        self._engine = engine
        self.url = url
        self.log_key = log_key

    # ---------------------------------------------------------------------------- lifecycle

    @classmethod
    def init(cls, url: str, log_key: VerifierKey | SignerKey) -> Ledger:
        """Create the schema (Alembic migrations) and record the log's verifier key; the origin is its name.

        Idempotent for the same key; refuses a database already initialised with another key.
        """
        vkey = log_key.verifier() if isinstance(log_key, SignerKey) else log_key
        if vkey.sig_type != SIG_ED25519:
            raise LedgerError(f"--key: the log key must be an Ed25519 (type 0x01) key, not 0x{vkey.sig_type:02x}")
        engine = store.make_engine(url)
        try:
            store.upgrade(engine)
            with store.write_transaction(engine) as conn:
                existing = conn.execute(select(store.meta.c.value).where(store.meta.c.key == "log_vkey")).scalar()
                if existing is not None:
                    if existing != vkey.encode():
                        raise LedgerError(f"URL {url!r}: already initialised with log key {existing.split('+')[0]}")
                else:
                    conn.execute(
                        store.meta.insert(),
                        [
                            {"key": "log_vkey", "value": vkey.encode()},
                            {"key": "origin", "value": vkey.name},
                            {"key": "created_at", "value": format_time(datetime.now(UTC))},
                        ],
                    )
                    conn.execute(store.head.insert().values(id=1, size=0))
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, url, vkey)

    @classmethod
    def open(cls, url: str) -> Ledger:
        """Open an initialised ledger (runs any newer shipped migration first)."""
        engine = store.make_engine(url)
        try:
            try:
                rev = store.current_revision(engine)
            except Exception as exc:
                raise LedgerError(f"URL {url!r}: cannot connect ({str(exc).splitlines()[0]})") from exc
            if rev is None:
                raise LedgerError(f"URL {url!r}: no ledger here (run `naef ledger init URL --key KEYFILE` first)")
            if rev != store.head_revision():
                store.upgrade(engine)
            with store.connect(engine) as conn:
                value = conn.execute(select(store.meta.c.value).where(store.meta.c.key == "log_vkey")).scalar()
            if value is None:
                raise LedgerError(f"URL {url!r}: ledger schema exists but the log key was never recorded (run init)")
            vkey = VerifierKey.parse(value)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, url, vkey)

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def origin(self) -> str:
        """The checkpoint origin line (the log key's name)."""
        return self.log_key.name

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for tests and tools; do not write to the ledger tables directly)."""
        return self._engine

    # ---------------------------------------------------------------------------- appends

    @contextmanager
    def transaction(self) -> Iterator[LedgerTransaction]:
        """Hold the writer lock: reads see one state, appends commit together on a clean exit (else
        nothing)."""
        with store.write_transaction(self._engine) as conn:
            tx = LedgerTransaction(conn)
            yield tx
            tx._finish()

    def append(
        self, entry_type: str, payload: Mapping[str, Any] | BaseModel, *, time: datetime | str | None = None
    ) -> int:
        """Validate, append and commit one entry; returns its index. Bad input: ``LedgerError``, nothing
        appended."""
        entry = make_entry(entry_type, payload, time=time)
        return self.append_entry(entry)

    def append_entry(self, entry: Entry) -> int:
        """Append and commit one prepared entry; returns its index."""
        with self.transaction() as tx:
            return tx.append_entry(entry)

    def append_batch(
        self,
        items: Iterable[Entry | tuple[str, Mapping[str, Any] | BaseModel]],
        *,
        time: datetime | str | None = None,
    ) -> range:
        """Validate all, then append all in one transaction (all or nothing); returns the index range.

        Items are prepared :class:`Entry` objects or ``(type, payload)`` pairs; pairs without their own time
        get
        ``time`` (default: now, one timestamp for the whole batch).
        """
        stamp = (
            format_time(time if isinstance(time, datetime) else datetime.now(UTC))
            if not isinstance(time, str)
            else time
        )
        prepared: list[Entry] = []
        made: list[bool] = []
        for n, item in enumerate(items):
            if isinstance(item, Entry):
                prepared.append(item)
                made.append(False)
                continue
            try:
                prepared.append(make_entry(item[0], item[1], time=stamp))
            except LedgerError as exc:
                raise LedgerError(f"batch item {n}: {exc.message}") from None
            made.append(True)
        with self.transaction() as tx:
            start = tx.size
            for entry, trusted in zip(prepared, made, strict=True):
                if trusted:
                    tx._push(entry)
                else:
                    tx.append_entry(entry)
            return range(start, tx.size)

    # ---------------------------------------------------------------------------- reads

    def size(self) -> int:
        """Committed tree size."""
        with store.connect(self._engine) as conn:
            return _head_size(conn)

    def root_hash(self, size: int | None = None) -> bytes:
        """``MTH`` of the tree at ``size`` (default: now), from ``O(log n)`` stored subtree hashes."""
        with store.connect(self._engine) as conn:
            current = _head_size(conn)
            size = current if size is None else size
            if not 0 <= size <= current:
                raise LedgerError(f"size: {size} is not between 0 and the log size {current}")
            return _root(_fold_plans(conn, [_root_plan(size)])[0])

    def get(self, index: int) -> StoredEntry:
        """Entry ``index``."""
        with store.connect(self._engine) as conn:
            size = _head_size(conn)
            if not 0 <= index < size:
                raise LedgerError(f"index: {index} is not in the log (size {size})")
            return _read_entries(conn, index, index + 1, None)[0]

    def entries(
        self, start: int = 0, end: int | None = None, *, entry_type: str | None = None
    ) -> Iterator[StoredEntry]:
        """Committed entries with ``start <= index < end`` (optionally of one type), streamed in index
        order."""
        with store.connect(self._engine) as conn:
            size = _head_size(conn)
        end = size if end is None else min(end, size)
        pos = max(start, 0)
        while pos < end:
            stop = min(pos + _READ_CHUNK, end)
            with store.connect(self._engine) as conn:
                chunk = _read_entries(conn, pos, stop, entry_type)
            yield from chunk
            pos = stop

    # ---------------------------------------------------------------------------- proofs

    def inclusion_proof(self, index: int, size: int | None = None) -> InclusionProof:
        """RFC 9162 inclusion proof of entry ``index`` in the tree of ``size`` (default: now); O(log n)
        reads."""
        with store.connect(self._engine) as conn:
            current = _head_size(conn)
            size = current if size is None else size
            if not 0 < size <= current:
                raise LedgerError(f"size: {size} is not between 1 and the log size {current}")
            if not 0 <= index < size:
                raise LedgerError(f"index: {index} is not in a tree of size {size}")
            plan = inclusion_plan(index, size)
            path, root, leaf = _fold_plans(conn, [plan, _root_plan(size), [((0, index),)]])
        return InclusionProof(index, size, leaf[0], _root(root), tuple(path))

    def consistency_proof(self, size1: int, size2: int | None = None) -> ConsistencyProof:
        """RFC 9162 consistency proof from ``size1`` to ``size2`` (default: now); O(log n) reads."""
        with store.connect(self._engine) as conn:
            current = _head_size(conn)
            size2 = current if size2 is None else size2
            if not 0 <= size2 <= current:
                raise LedgerError(f"size: {size2} is not between 0 and the log size {current}")
            if not 0 <= size1 <= size2:
                raise LedgerError(f"from-size: {size1} is not between 0 and {size2}")
            path, r1, r2 = _fold_plans(conn, [consistency_plan(size1, size2), _root_plan(size1), _root_plan(size2)])
        return ConsistencyProof(size1, size2, _root(r1), _root(r2), tuple(path))

    # ---------------------------------------------------------------------------- checkpoints

    def checkpoint(self, log_signer: SignerKey) -> str:
        """Sign the current (size, root) as a C2SP checkpoint with the log's key, store it, return the note.

        If a checkpoint of this size exists already, it is returned unchanged (with its cosignatures).
        """
        if log_signer.verifier() != self.log_key:
            raise LedgerError(
                f"--key: {log_signer.name}+{log_signer.key_id:08x} is not this log's key "
                f"{self.log_key.name}+{self.log_key.key_id:08x}"
            )
        with self.transaction() as tx:
            conn = tx._conn
            c = store.checkpoints.c
            existing = conn.execute(select(c.note).where(c.size == tx.size)).scalar()
            if existing is not None:
                return str(existing)
            root = tx.root_hash()
            note = sign_checkpoint(Checkpoint(self.origin, tx.size, root), log_signer)
            conn.execute(
                store.checkpoints.insert().values(
                    size=tx.size, root_hash=root, note=note, created_at=format_time(datetime.now(UTC))
                )
            )
            return note

    def checkpoints(self) -> list[StoredCheckpoint]:
        """All stored checkpoints, smallest size first."""
        c = store.checkpoints.c
        with store.connect(self._engine) as conn:
            rows = conn.execute(select(c.size, c.root_hash, c.note, c.created_at).order_by(c.size)).all()
        return [StoredCheckpoint(int(s), bytes(r), str(n), str(t)) for s, r, n, t in rows]

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The checkpoint with the largest size, if any."""
        cps = self.checkpoints()
        return cps[-1] if cps else None

    def add_witness(self, vkey: VerifierKey) -> None:
        """Register a witness's ``cosignature/v1`` (type 0x04) verifier key; ``verify`` then checks its
        lines."""
        if vkey.sig_type != SIG_COSIGNATURE_V1:
            raise LedgerError(f"witness key {vkey.name}: must be a cosignature/v1 (type 0x04) verifier key")
        if vkey.name == self.log_key.name:
            raise LedgerError(f"witness key {vkey.name}: a witness cannot share the log's name")
        with self.transaction() as tx:
            w = store.witnesses.c
            if tx._conn.execute(select(w.vkey).where(w.vkey == vkey.encode())).scalar() is None:
                tx._conn.execute(
                    store.witnesses.insert().values(
                        vkey=vkey.encode(), name=vkey.name, added_at=format_time(datetime.now(UTC))
                    )
                )

    def witnesses(self) -> list[VerifierKey]:
        """Registered witness keys."""
        with store.connect(self._engine) as conn:
            return [VerifierKey.parse(v) for v in conn.execute(select(store.witnesses.c.vkey)).scalars()]

    def cosign(self, witness: SignerKey, *, size: int | None = None, timestamp: int | None = None) -> str:
        """A registered witness cosigns a stored checkpoint (default: the latest) after checking it.

        The witness checks the log's signature, that the root matches the stored tree at that size, and that
        the checkpoint is consistent (RFC 9162 consistency proof) with the largest checkpoint it cosigned
        before.
        """
        wkey = witness.verifier(SIG_COSIGNATURE_V1)
        if wkey not in self.witnesses():
            raise LedgerError(f"--key: {wkey.name} is not a registered witness of this log (add-witness first)")
        stamp = int(_time.time()) if timestamp is None else timestamp
        with self.transaction() as tx:
            conn = tx._conn
            c = store.checkpoints.c
            q = select(c.size, c.note).order_by(c.size.desc())
            rows = conn.execute(q if size is None else q.where(c.size == size)).all()
            if not rows:
                raise LedgerError(
                    "checkpoint: none to cosign" if size is None else f"size: no checkpoint of size {size}"
                )
            target_size, target_note = int(rows[0][0]), str(rows[0][1])
            cp = open_checkpoint(target_note, self.log_key).checkpoint
            prior = conn.execute(select(c.size, c.note).where(c.size < target_size).order_by(c.size.desc())).all()
            prev: Checkpoint | None = None
            for _, note in prior:
                opened = open_checkpoint(str(note), self.log_key, [wkey])
                if opened.cosigners:
                    prev = opened.checkpoint
                    break
            plans = [_root_plan(cp.size)]
            if prev is not None:
                plans += [consistency_plan(prev.size, cp.size)]
            folded = _fold_plans(conn, plans)
            if _root(folded[0]) != cp.root_hash:
                raise VerificationError(
                    f"checkpoint at size {cp.size}: root differs from the stored tree",
                    checkpoint_size=cp.size,
                )
            if prev is not None and not verify_consistency(prev.size, cp.size, folded[1], prev.root_hash, cp.root_hash):
                raise VerificationError(
                    f"checkpoint at size {cp.size}: not consistent with size {prev.size} cosigned before",
                    checkpoint_size=cp.size,
                )
            note = cosign_checkpoint(target_note, witness, timestamp=stamp)
            conn.execute(store.checkpoints.update().where(c.size == target_size).values(note=note))
            return note

    # ---------------------------------------------------------------------------- verify

    def verify(self, *, from_checkpoint: str | None = None, trusted_key: VerifierKey | None = None) -> VerifyReport:
        """Recompute everything from the stored bytes and raise ``VerificationError`` at the first fault.

        Checks, in order: the log key (against ``trusted_key`` if given); every stored checkpoint's signature
        (log key; cosignatures of registered witnesses) and root column; then, streaming the entries in index
        order: indexes contiguous, ``leaf_hash(bytes)`` equals the stored leaf hash, the bytes decode to an
        envelope whose type matches the type column, every complete subtree hash equals ``node_hash`` of the
        recomputed children (RFC 9162 §2.1.1), and at each checkpoint's size the recomputed root equals the
        signed root; finally no entry or node row lies beyond the head. ``from_checkpoint`` (a published
        signed checkpoint) must verify with the (trusted) log key, its root must equal the recomputed root at
        its size, and an RFC 9162 consistency proof from it to the current tree must verify.
        """
        log_key = self.log_key
        if trusted_key is not None and trusted_key != log_key:
            raise VerificationError(
                f"log key: the database holds {log_key.name}+{log_key.key_id:08x}, "
                f"not the trusted {trusted_key.name}+{trusted_key.key_id:08x}"
            )
        published: Checkpoint | None = None
        if from_checkpoint is not None:
            try:
                published = open_checkpoint(from_checkpoint, log_key).checkpoint
            except LedgerError as exc:
                raise VerificationError(f"published checkpoint: {exc.message}") from None
        with store.connect(self._engine) as conn:
            if not store.is_sqlite(self._engine):
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            return self._verify(conn, log_key, published)

    def _verify(self, conn: Connection, log_key: VerifierKey, published: Checkpoint | None) -> VerifyReport:
        size = _head_size(conn)
        wkeys = [VerifierKey.parse(v) for v in conn.execute(select(store.witnesses.c.vkey)).scalars()]
        c = store.checkpoints.c
        want_root: dict[int, bytes] = {}
        n_cosig = 0
        cp_rows = conn.execute(select(c.size, c.root_hash, c.note).order_by(c.size)).all()
        for s, r, note in cp_rows:
            s = int(s)
            try:
                opened = open_checkpoint(str(note), log_key, wkeys)
            except LedgerError as exc:
                raise VerificationError(f"checkpoint at size {s}: {exc.message}", checkpoint_size=s) from None
            cp = opened.checkpoint
            if cp.size != s or cp.root_hash != bytes(r):
                raise VerificationError(
                    f"checkpoint at size {s}: stored size/root columns differ from the signed note",
                    checkpoint_size=s,
                )
            if s > size:
                raise VerificationError(f"checkpoint at size {s}: beyond the log size {size}", checkpoint_size=s)
            want_root[s] = cp.root_hash
            n_cosig += len(opened.cosigners)
        if published is not None and published.size > size:
            raise VerificationError(
                f"published checkpoint: size {published.size} is beyond the log size {size}",
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
                    stored_nodes[(int(lv), int(ix))] = bytes(h)
            expected = pos
            for idx, etype, canonical, stored_leaf in rows:
                if idx != expected:
                    raise VerificationError(f"entry {expected}: missing from the store", index=expected)
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
            (path,) = _fold_plans(conn, [consistency_plan(published.size, size)])
            if not verify_consistency(published.size, size, path, published.root_hash, root):
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
