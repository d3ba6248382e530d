"""The append-only log: a handle on one database, its appends and reads.

A :class:`Ledger` is a handle on one database (SQLite file or PostgreSQL). Every append runs inside one write
transaction that holds the single-writer lock (see :mod:`naef.ledger.store`): it reads the head size and the
``O(log n)`` right-edge subtree hashes, computes the new leaf and the complete subtrees it closes (RFC 9162
§2.1.1), inserts them and moves the head. It returns after the commit, so an acknowledged entry is durable,
and a writer killed at any moment leaves either the whole entry or nothing.

Proofs live in :mod:`naef.ledger.proofs`, checkpoints and witnesses in :mod:`naef.ledger.checkpoints`, the
full recomputation in :mod:`naef.ledger.verify`; the :class:`Ledger` methods of those names delegate to them.

Part of the public API for sibling modules: :meth:`Ledger.transaction` yields a :class:`LedgerTransaction` in
which reads and appends see one state and commit together — check-then-append without races.
"""

from __future__ import annotations

import hashlib
import time as _time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, select

from naef.ledger import checkpoints as _checkpoints
from naef.ledger import store
from naef.ledger.checkpoints import StoredCheckpoint
from naef.ledger.entries import (
    GOVERNED_ENTRY_TYPES,
    CanonicalRows,
    Entry,
    canonical_rows,
    decode_entry,
    format_time,
    load_extensions,
    make_entries,
    make_entry,
)
from naef.ledger.errors import LedgerError, VerificationError
from naef.ledger.keys import SIG_ED25519, SignerKey, VerifierKey
from naef.ledger.merkle import EMPTY_ROOT, fold_range, leaf_hash, node_hash, range_nodes
from naef.ledger.note import Checkpoint, open_checkpoint
from naef.ledger.proofs import (
    ConsistencyProof,
    InclusionProof,
    NodeCache,
    consistency_proof,
    inclusion_proof,
    lookup_nodes,
    param_mark,
    root_at,
)
from naef.ledger.verify import VerifyReport, verify_store

__all__ = [
    "ConsistencyProof",
    "InclusionProof",
    "Ledger",
    "LedgerTransaction",
    "StoredCheckpoint",
    "StoredEntry",
    "UnreadableEntry",
    "VerifyReport",
]

_READ_CHUNK = 2048
_PIPELINE_CHUNK = 2048
"""Entries ``append_batch`` prepares at a time in a large batch; each chunk's rows are inserted by a helper thread
while the next is prepared (a choice: large enough that a hand-over costs little per entry)."""
_COPY_MIN_ROWS = 64
"""Rows from which a PostgreSQL append uses COPY rather than executemany (a choice: below it the difference is
lost in the round trips)."""

_P = TypeVar("_P", InclusionProof, ConsistencyProof)

RulesHook = Callable[["LedgerTransaction", Entry, int], Sequence[Entry] | None]
"""``hook(tx, entry, index)``: raise a LedgerError unless the governed ``entry`` may be appended at ``index``; it may
return entries the rules derive from it (a proposal's benchmark flag), appended right after it in the same
transaction, each through the hook again."""

_RULES: RulesHook | None = None


def _install_rules(hook: RulesHook) -> None:
    """Install the control system's rules (done once by :mod:`naef.ledger.approvals.service` when it is imported;
    ``LedgerTransaction._push`` imports it before its first governed entry): every governed entry appended
    through a :class:`LedgerTransaction` passes ``hook`` first.

    Private and install-once: a second call raises (LedgerError), so no public call switches the gate off. It
    guards against mistakes, not against code in this process, which can rebind anything (write access to the
    process is write access to the database); ``naef ledger audit`` re-judges every stored entry and names what
    such code appended (docs/ledger.md)."""
    global _RULES
    if _RULES is not None:
        raise LedgerError("ledger: the control system's rules are installed once; a second install is refused")
    _RULES = hook


@dataclass(frozen=True)
class StoredEntry:
    """An entry as stored: its index plus the decoded envelope, canonical bytes and leaf hash."""

    index: int
    type: str
    time: str
    payload: Mapping[str, Any]
    canonical: bytes
    leaf_hash: bytes


def _stored_entry(index: int, canonical: object, stored_leaf: object) -> StoredEntry:
    """Decode one stored row; a row of the wrong storage type or undecodable bytes is a VerificationError
    naming its index (never a TypeError: the web answers it with a 4xx)."""
    if not isinstance(canonical, bytes | memoryview) or not isinstance(stored_leaf, bytes | memoryview):
        raise VerificationError(
            f"entry {index}: stored with the wrong column types (canonical {type(canonical).__name__}, "
            f"leaf_hash {type(stored_leaf).__name__}); run `naef ledger verify`",
            index=index,
        )
    try:
        e = decode_entry(bytes(canonical))
    except LedgerError as exc:
        raise VerificationError(f"entry {index}: {exc.message}; run `naef ledger verify`", index=index) from None
    return StoredEntry(index, e.type, e.time, e.payload, e.canonical, bytes(stored_leaf))


@dataclass(frozen=True)
class UnreadableEntry:
    """A stored row that could not be decoded (changed in the database around the storage layer): its index, the
    type its ``entry_type`` column names, and the :class:`VerificationError` naming it."""

    index: int
    type: str
    error: VerificationError


def _read_rows(
    conn: Connection, start: int, end: int, entry_type: str | None
) -> list[StoredEntry | UnreadableEntry]:
    """Rows with ``start <= idx < end`` (optionally of one type) in index order, each decoded or, when it cannot
    be, an :class:`UnreadableEntry` (the read never stops at one bad row)."""
    e = store.entries.c
    q = select(e.idx, e.entry_type, e.canonical, e.leaf_hash).where(e.idx >= start, e.idx < end)
    if entry_type is not None:
        q = q.where(e.entry_type == entry_type)
    out: list[StoredEntry | UnreadableEntry] = []
    for i, t, c, h in conn.execute(q.order_by(e.idx)):
        try:
            out.append(_stored_entry(i, c, h))
        except VerificationError as exc:
            out.append(UnreadableEntry(i, str(t), exc))
    return out


def _read_entries(conn: Connection, start: int, end: int, entry_type: str | None) -> list[StoredEntry]:
    """As :func:`_read_rows`, but the first row that cannot be decoded raises its :class:`VerificationError`."""
    rows = _read_rows(conn, start, end, entry_type)
    for r in rows:
        if isinstance(r, UnreadableEntry):
            raise r.error
    return [r for r in rows if isinstance(r, StoredEntry)]


def _read_entries_or_faults(
    conn: Connection, start: int, end: int, entry_type: str
) -> tuple[list[StoredEntry], list[VerificationError]]:
    """As :func:`_read_rows` for one type, split into the decoded entries and the errors naming the rows that
    could not be decoded."""
    rows = _read_rows(conn, start, end, entry_type)
    return ([r for r in rows if isinstance(r, StoredEntry)],
            [r.error for r in rows if isinstance(r, UnreadableEntry)])


def _edge_levels(size: int) -> list[int]:
    """Levels of the right-edge complete subtrees of a tree of ``size`` leaves, left to right: its one bits,
    highest first (the subtrees :func:`naef.ledger.merkle.range_nodes` names for ``[0, size)``)."""
    return [b for b in range(size.bit_length() - 1, -1, -1) if size >> b & 1]


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
            found = lookup_nodes(conn, ids)
            try:
                self._stack = [(level, found[(level, idx)]) for level, idx in ids]
            except KeyError as exc:
                raise VerificationError(f"ledger: right-edge node {exc.args[0]} is missing; run verify") from None
        self.rule_state: object | None = None  # the control state, folded once per transaction by the rules
        self._entry_rows: list[tuple[int, str, bytes, bytes]] = []
        self._node_rows: list[tuple[int, int, bytes]] = []
        self._inserter: ThreadPoolExecutor | None = None  # made by _flush_behind, for large batches only
        self._inserting: Future[None] | None = None
        mark = param_mark(conn)
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
        """Append an entry whose leaf hash is known to be right (made by ``make_entry`` in this process).

        A governed entry type is admitted only by the control system's rules (:func:`_install_rules`). They are
        loaded here when nothing has loaded them yet (:func:`naef.ledger.entries.load_extensions` imports
        :mod:`naef.ledger.approvals`, whose service installs them), so a governed entry never goes in without them,
        whatever was imported first; if they still are not installed, it is refused."""
        i = self._size
        if entry.type in GOVERNED_ENTRY_TYPES:
            if _RULES is None:
                load_extensions()
            if _RULES is None:
                raise LedgerError(
                    f"entry {entry.type}: a governed entry is appended only under the control system's rules, "
                    "which are not installed (naef.ledger.approvals.service installs them)"
                )
            derived = _RULES(self, entry, i)
        else:
            derived = None
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
        for follower in derived or ():
            self._push(follower)
        return i

    def _push_rows(self, rows: CanonicalRows) -> None:
        """Append entries of one *ungoverned* type made in this process by :func:`canonical_rows`: what
        :meth:`_push` does for each, in one loop (no :class:`Entry` objects). The right edge of a tree of ``i``
        leaves holds one complete subtree per one bit of ``i``, so leaf ``i`` closes one subtree per trailing one
        bit of ``i``, each ``node_hash(left, right)`` (RFC 9162 §2.1.1)."""
        if rows.entry_type in GOVERNED_ENTRY_TYPES:  # never: append_batch sends governed types through _push
            raise LedgerError(f"entry {rows.entry_type}: a governed entry is appended only under the rules")
        start = i = self._size
        edge = [h for _, h in self._stack]
        node_rows = self._node_rows
        sha256 = hashlib.sha256
        for h in rows.leaves:
            closes = (i ^ (i + 1)).bit_length() - 1  # trailing one bits of i
            for level in range(1, closes + 1):
                h = sha256(b"\x01" + edge.pop() + h).digest()
                node_rows.append((level, i >> level, h))
            edge.append(h)
            i += 1
        self._entry_rows.extend(zip(range(start, i), repeat(rows.entry_type), rows.canonicals, rows.leaves,
                                    strict=False))
        self._stack = [(level, h) for level, h in zip(_edge_levels(i), edge, strict=True)]
        self._size = i

    def append_entries(self, items: Iterable[Entry]) -> range:
        """Append prepared entries in order; returns their index range."""
        start = self._size
        for entry in items:
            self.append_entry(entry)
        return range(start, self._size)

    def _flush_behind(self) -> None:
        """Hand the rows made so far to one helper thread that inserts them, in this transaction, while this thread
        prepares the next ones (the driver leaves Python's lock while SQLite or the server works). One insert at a
        time, in order; every read or write of this transaction's connection waits for it first (:meth:`_flush`),
        and the transaction ends only after it (:meth:`_close`)."""
        entry_rows, node_rows = self._entry_rows, self._node_rows
        self._entry_rows, self._node_rows = [], []
        self._wait()
        if self._inserter is None:
            self._inserter = ThreadPoolExecutor(1, thread_name_prefix="naef-ledger-insert")
        self._inserting = self._inserter.submit(self._insert_rows, entry_rows, node_rows)

    def _wait(self) -> None:
        """Wait for the helper's insert; its error, if any, is raised here."""
        if self._inserting is not None:
            inserting, self._inserting = self._inserting, None
            inserting.result()

    def _close(self) -> None:
        """Wait for the helper thread and stop it (before the transaction commits or rolls back)."""
        if self._inserter is not None:
            self._inserter.shutdown(wait=True)
            self._inserter = None

    def _insert_rows(self, entry_rows: list[Any], node_rows: list[Any]) -> None:
        if entry_rows:
            self._insert("ledger_entries (idx, entry_type, canonical, leaf_hash)", self._sql_entries, entry_rows)
        if node_rows:
            self._insert("ledger_nodes (level, idx, hash)", self._sql_nodes, node_rows)

    def _flush(self) -> None:
        self._wait()
        # The append hot path, without per-row SQLAlchemy processing: plain DB-API executemany on SQLite; on
        # PostgreSQL a COPY into the same transaction once there are more than a few rows (psycopg's executemany
        # adapts and sends each row as its own statement).
        entry_rows, node_rows = self._entry_rows, self._node_rows
        self._entry_rows, self._node_rows = [], []
        self._insert_rows(entry_rows, node_rows)

    def _insert(self, target: str, sql: str, rows: list[Any]) -> None:
        if len(rows) < _COPY_MIN_ROWS or self._conn.dialect.name != "postgresql":
            self._conn.exec_driver_sql(sql, rows)
            return
        with self._conn.connection.dbapi_connection.cursor() as cur, cur.copy(f"COPY {target} FROM STDIN") as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)

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

    def entries_or_faults(self, entry_type: str) -> tuple[list[StoredEntry], list[VerificationError]]:
        """Every entry of one type in index order, and the rows of that type that could not be decoded (each a
        :class:`VerificationError` naming its index)."""
        self._flush()
        return _read_entries_or_faults(self._conn, 0, self._size, entry_type)


class Ledger(AbstractContextManager["Ledger"]):
    """A handle on one ledger database. Open with :meth:`init` (first time) or :meth:`open`."""

    def __init__(self, engine: Engine, url: str, log_key: VerifierKey, node_cache: NodeCache | None = None) -> None:
        self._engine = engine
        self.url = url
        self.log_key = log_key
        self.node_cache = node_cache
        """Complete-subtree hashes kept in memory for proofs and roots (:class:`~naef.ledger.proofs.NodeCache`);
        ``None``: every proof reads the database."""
        self._known_size = 0  # the largest committed size this handle has read (sizes only grow)

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
    def open(cls, url: str, *, node_cache: NodeCache | None = None) -> Ledger:
        """Open an initialised ledger (runs any newer shipped migration first); with ``node_cache``, proofs and
        roots at a size this handle has seen committed are answered from the nodes it keeps in memory."""
        engine = store.make_engine(url)
        try:
            database = engine.url.database
            if store.is_sqlite(engine) and database and not Path(database).exists():
                # connecting would create the file: an open never leaves a file behind
                raise LedgerError(f"URL {url!r}: no ledger here (run `naef ledger init URL --key KEYFILE` first)")
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
        return cls(engine, url, vkey, node_cache)

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
            try:
                yield tx
                tx._finish()
            finally:
                tx._close()

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
        pending = list(items)
        # runs: a prepared Entry (its leaf hash checked again on append), or (first item, type, payloads) of
        # same-type pairs, made below with canonical_rows (governed types as Entries, through the rules)
        runs: list[Entry | tuple[int, str, list[Mapping[str, Any] | BaseModel]]] = []
        n = 0
        while n < len(pending):
            item = pending[n]
            if isinstance(item, Entry):
                runs.append(item)
                n += 1
                continue
            m = n + 1
            while m < len(pending) and not isinstance(pending[m], Entry) and pending[m][0] == item[0]:  # type: ignore[index]
                m += 1
            runs.append((n, item[0], [p[1] for p in pending[n:m]]))  # type: ignore[index]
            n = m
        with self.transaction() as tx:
            start = tx.size
            for run in runs:
                if isinstance(run, Entry):
                    tx._wait()  # the helper thread is done before the rules may use the connection
                    tx.append_entry(run)
                    continue
                first, entry_type, payloads = run
                for lo in range(0, len(payloads), _PIPELINE_CHUNK):
                    chunk = payloads[lo:lo + _PIPELINE_CHUNK]
                    try:
                        if entry_type in GOVERNED_ENTRY_TYPES:
                            made = make_entries(entry_type, chunk, time=stamp)
                        else:
                            rows = canonical_rows(entry_type, chunk, time=stamp)
                    except LedgerError:
                        for k, payload in enumerate(chunk, start=first + lo):  # which item, make_entry's message
                            try:
                                make_entry(entry_type, payload, time=stamp)
                            except LedgerError as exc:
                                raise LedgerError(f"batch item {k}: {exc.message}") from None
                        raise
                    if entry_type in GOVERNED_ENTRY_TYPES:
                        tx._wait()
                        for entry in made:
                            tx._push(entry)
                    else:
                        tx._push_rows(rows)
                        if len(payloads) > _PIPELINE_CHUNK:
                            tx._flush_behind()
            return range(start, tx.size)

    # ---------------------------------------------------------------------------- reads

    def _head(self, conn: Connection) -> int:
        current = store.head_size(conn)
        if current > self._known_size:
            self._known_size = current
        return current

    def _cached(self, size: int | None) -> NodeCache | None:
        """The node cache when an answer at ``size`` may come from memory alone: a size already seen committed
        (a complete subtree of it can never change)."""
        cache = self.node_cache
        return cache if cache is not None and size is not None and 0 <= size <= self._known_size else None

    def size(self) -> int:
        """Committed tree size."""
        with store.connect(self._engine) as conn:
            return self._head(conn)

    def root_hash(self, size: int | None = None) -> bytes:
        """``MTH`` of the tree at ``size`` (default: now), from ``O(log n)`` stored subtree hashes."""
        if (cache := self._cached(size)) is not None and size is not None:
            try:
                return root_at(None, size, self._known_size, cache)
            except KeyError:
                pass  # not all in memory: read the rest
        with store.connect(self._engine) as conn:
            current = self._head(conn)
            return root_at(conn, current if size is None else size, current, self.node_cache)

    def get(self, index: int) -> StoredEntry:
        """Entry ``index``."""
        with store.connect(self._engine) as conn:
            size = store.head_size(conn)
            if not 0 <= index < size:
                raise LedgerError(f"index: {index} is not in the log (size {size})")
            return _read_entries(conn, index, index + 1, None)[0]

    def entries(
        self, start: int = 0, end: int | None = None, *, entry_type: str | None = None
    ) -> Iterator[StoredEntry]:
        """Committed entries with ``start <= index < end`` (optionally of one type), streamed in index
        order."""
        for row in self._stream(start, end, entry_type, tolerant=False):
            assert isinstance(row, StoredEntry)
            yield row

    def entries_or_faults(self, start: int = 0, end: int | None = None) -> Iterator[StoredEntry | UnreadableEntry]:
        """As :meth:`entries`, but a row that cannot be decoded is yielded as an :class:`UnreadableEntry` naming
        it instead of ending the read (a fold over the log never stops at one bad row)."""
        return self._stream(start, end, None, tolerant=True)

    def _stream(
        self, start: int, end: int | None, entry_type: str | None, *, tolerant: bool
    ) -> Iterator[StoredEntry | UnreadableEntry]:
        with store.connect(self._engine) as conn:
            size = store.head_size(conn)
        end = size if end is None else min(end, size)
        pos = max(start, 0)
        read = _read_rows if tolerant else _read_entries
        while pos < end:
            stop = min(pos + _READ_CHUNK, end)
            with store.connect(self._engine) as conn:
                chunk: list[StoredEntry | UnreadableEntry] = list(read(conn, pos, stop, entry_type))
            yield from chunk
            pos = stop

    # ---------------------------------------------------------------------------- proofs

    def inclusion_proof(self, index: int, size: int | None = None) -> InclusionProof:
        """RFC 9162 inclusion proof of entry ``index`` in the tree of ``size`` (default: now); O(log n)
        reads."""
        if size is not None and (proof := self.inclusion_proof_from_memory(index, size)) is not None:
            return proof
        with store.connect(self._engine) as conn:
            current = self._head(conn)
            return inclusion_proof(conn, index, current if size is None else size, current, self.node_cache)

    def consistency_proof(self, size1: int, size2: int | None = None) -> ConsistencyProof:
        """RFC 9162 consistency proof from ``size1`` to ``size2`` (default: now); O(log n) reads."""
        if size2 is not None and (proof := self.consistency_proof_from_memory(size1, size2)) is not None:
            return proof
        with store.connect(self._engine) as conn:
            current = self._head(conn)
            return consistency_proof(conn, size1, current if size2 is None else size2, current, self.node_cache)

    def inclusion_proof_from_memory(self, index: int, size: int) -> InclusionProof | None:
        """:meth:`inclusion_proof` answered from the node cache alone — the same proof — or ``None`` when that is
        not possible (no cache, ``size`` not yet seen committed by this handle, a node not in memory); never reads
        the database, so it may run on an event loop. Bad arguments: ``LedgerError`` as :meth:`inclusion_proof`."""
        return self._from_memory(inclusion_proof, index, size)

    def consistency_proof_from_memory(self, size1: int, size2: int) -> ConsistencyProof | None:
        """:meth:`consistency_proof` from the node cache alone, or ``None`` (as
        :meth:`inclusion_proof_from_memory`)."""
        return self._from_memory(consistency_proof, size1, size2)

    def _from_memory(self, prove: Callable[[None, int, int, int, NodeCache], _P], first: int, size: int) -> _P | None:
        if (cache := self._cached(size)) is None:
            return None
        try:
            return prove(None, first, size, self._known_size, cache)
        except KeyError:  # a node not in memory
            return None

    # ---------------------------------------------------------------------------- checkpoints

    def checkpoint(self, log_signer: SignerKey) -> str:
        """Sign the current (size, root) as a C2SP checkpoint with the log's key, store it, return the note.

        If a checkpoint of this size exists already, it is returned unchanged (with its cosignatures).
        """
        with self.transaction() as tx:
            return _checkpoints.store_checkpoint(
                tx._conn, log_key=self.log_key, log_signer=log_signer, size=tx.size, root=tx.root_hash()
            )

    def checkpoints(self) -> list[StoredCheckpoint]:
        """All stored checkpoints, smallest size first."""
        with store.connect(self._engine) as conn:
            return _checkpoints.stored_checkpoints(conn)

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The checkpoint with the largest size, if any."""
        cps = self.checkpoints()
        return cps[-1] if cps else None

    def add_witness(self, vkey: VerifierKey) -> None:
        """Register a witness's ``cosignature/v1`` (type 0x04) verifier key; ``verify`` then checks its
        lines."""
        with self.transaction() as tx:
            _checkpoints.add_witness(tx._conn, log_key=self.log_key, vkey=vkey)

    def witnesses(self) -> list[VerifierKey]:
        """Registered witness keys."""
        with store.connect(self._engine) as conn:
            return _checkpoints.witness_keys(conn)

    def cosign(self, witness: SignerKey, *, size: int | None = None, timestamp: int | None = None) -> str:
        """A registered witness cosigns a stored checkpoint (default: the latest) after checking it
        (:func:`naef.ledger.checkpoints.cosign`)."""
        stamp = int(_time.time()) if timestamp is None else timestamp
        with self.transaction() as tx:
            return _checkpoints.cosign(tx._conn, log_key=self.log_key, witness=witness, size=size, timestamp=stamp)

    # ---------------------------------------------------------------------------- verify

    def verify(self, *, from_checkpoint: str | None = None, trusted_key: VerifierKey | None = None) -> VerifyReport:
        """Recompute everything from the stored bytes and raise ``VerificationError`` at the first fault
        (:mod:`naef.ledger.verify`); ``from_checkpoint`` is a published signed checkpoint to check as well,
        ``trusted_key`` the log key the caller trusts (else the one stored in the database)."""
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
            return verify_store(conn, log_key, published)
