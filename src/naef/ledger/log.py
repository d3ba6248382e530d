"""The append-only log: a handle on one database, its appends and reads.

A :class:`Ledger` is a handle on one database (SQLite file or PostgreSQL). Every append runs inside one write
transaction that holds the single-writer lock (see :mod:`naef.ledger.store`): it reads the head size and the
``O(log n)`` right-edge subtree hashes, computes the new leaf and the complete subtrees it closes (RFC 9162
§2.1.1), inserts them and moves the head. It returns after the commit, so an acknowledged entry is durable,
and a writer killed at any moment leaves either the whole entry or nothing.

Proofs live in :mod:`naef.ledger.proofs`, checkpoints and witnesses in :mod:`naef.ledger.checkpoints`, the
full recomputation in :mod:`naef.ledger.verify`; the :class:`Ledger` methods of those names delegate to them. One
write transaction (appends, the rules' hook, pipelined batches) is :mod:`naef.ledger.transaction`; stored rows as
read back are :mod:`naef.ledger.rows`.

Part of the public API for sibling modules: :meth:`Ledger.transaction` yields a :class:`LedgerTransaction` in
which reads and appends see one state and commit together — check-then-append without races.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
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
    Entry,
    canonical_rows,
    format_time,
    make_entries,
    make_entry,
)
from naef.ledger.errors import LedgerError, VerificationError
from naef.ledger.keys import SIG_ED25519, SignerKey, VerifierKey
from naef.ledger.merkle import EMPTY_ROOT, fold_range, range_nodes
from naef.ledger.note import Checkpoint, open_checkpoint
from naef.ledger.proofs import (
    ConsistencyProof,
    InclusionProof,
    NodeCache,
    consistency_proof,
    inclusion_proof,
    lookup_nodes,
    nodes_found,
    nodes_query,
    param_mark,
    root_at,
)
from naef.ledger.rows import StoredEntry, UnreadableEntry, decode_rows, read_entries, read_rows, rows_query
from naef.ledger.transaction import PIPELINE_CHUNK, LedgerTransaction, RuleStateMemo
from naef.ledger.verify import VerifyReport, verify_store

__all__ = [
    "CatchUp",
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
REFRESH_CATCH_UP = 256
"""Entries appended since the size a handle knew up to which :meth:`Ledger.refresh` reads every node they added
(about twice as many hashes, in one query; a choice: a few writes' worth — after a large batch only the right
edge is read, and the proofs read the rest as they need it)."""

_P = TypeVar("_P", InclusionProof, ConsistencyProof)



@dataclass(frozen=True)
class CatchUp:
    """What :meth:`Ledger.catch_up` read: the committed ``size``, the stored root at the reader's ``start``
    (``None``: beyond the size, or a node missing), the ``root`` at ``size``, and the ``rows`` from ``start`` on."""

    size: int
    root_at_start: bytes | None
    root: bytes
    rows: list[StoredEntry | UnreadableEntry]


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
        self._edge_hint = 0  # the size this handle's last write committed (its next write's right-edge guess)
        self._rule_memo = RuleStateMemo()
        """The rules' state folded from the committed log by this handle's last write transaction (each write
        folds only what was committed since; :class:`~naef.ledger.transaction.RuleStateMemo`)."""

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
        tx: LedgerTransaction | None = None
        try:
            with store.write_transaction(self._engine) as conn:
                tx = LedgerTransaction(conn, memo=self._rule_memo, edge_hint=max(self._known_size, self._edge_hint))
                try:
                    yield tx
                    tx._finish()
                finally:
                    tx._close()
        except BaseException:
            if tx is not None:
                tx._return_rule_state(committed=False)
            raise
        assert tx is not None
        tx._return_rule_state(committed=True)  # here the commit has returned
        self._committed(tx.size, tx.known_nodes, base=tx.committed_size)

    def _committed(self, size: int, known: Mapping[tuple[int, int], bytes], *, base: int) -> None:
        """After this handle's own commit: ``size`` is its next write's right-edge guess. When the transaction
        knows the hashes of the new tree (``known``: the right edge it read under the lock, each leaf it wrote and
        each subtree those closed — what :meth:`refresh` would read for the new size; a pipelined PostgreSQL write),
        they are kept in the node cache and ``size`` is taken as seen committed (:attr:`known_size`), so proofs and
        roots at the new size need no read of the database. Otherwise :attr:`known_size` stays: rising without the
        new hashes in memory it would send the proofs at the new size to the database one by one, where the proof
        fast path reads them once for all (:meth:`refresh`). Nor are they kept when the transaction started from a
        committed size (``base``, the head read under the lock) below the size this handle had already seen: the
        head went back (a truncation, a fail-over to a replica behind) and the cache still holds the old tree's
        hashes beyond ``base``, which the new ones must not be mixed with."""
        self._edge_hint = size
        if self.node_cache is None or not known or base < self._known_size:
            return
        self.node_cache.put_many(known)
        if size > self._known_size:
            self._known_size = size

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
                for lo in range(0, len(payloads), PIPELINE_CHUNK):
                    chunk = payloads[lo:lo + PIPELINE_CHUNK]
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
                        if len(payloads) > PIPELINE_CHUNK:
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

    @property
    def known_size(self) -> int:
        """The largest committed size this handle has read (it only grows): answers at a size up to it may come
        from the node cache alone."""
        return self._known_size

    def refresh(self) -> int:
        """Read the committed size (one small query) and, with a node cache, keep in it the hashes the proofs at
        that size need beyond those of the trees this handle had seen (one more query); returns the size.

        Those are the ``O(log n)`` right-edge subtrees of the new tree — the hash of each part of the tree right of
        a proof's path is folded from a suffix of them (RFC 9162 §2.1.3, §2.1.4) — and, when at most
        :data:`REFRESH_CATCH_UP` entries were appended since the size this handle knew, every leaf and complete
        subtree they added (the proofs of the new entries themselves)."""
        before = self._known_size
        with store.connect(self._engine) as conn:
            current = self._head(conn)
            if self.node_cache is not None and current:
                wanted = list(range_nodes(0, current))
                if 0 < current - before <= REFRESH_CATCH_UP:
                    wanted += [(level, idx) for level in range(current.bit_length())
                               for idx in range(before >> level, current >> level)]
                _, missing = self.node_cache.get_many(list(dict.fromkeys(wanted)))
                if missing:
                    self.node_cache.put_many(lookup_nodes(conn, missing))
        return current

    def warm_node_cache(self) -> int:
        """Fill the node cache from the database in two sequential reads, up to its bound: the complete subtrees
        above the leaves first (the upper levels are shared by the most proofs), then the leaf hashes from index 0
        on; returns the number of hashes kept. Both reads are bounded by the committed size read first (kept as
        :attr:`known_size`): leaves ``idx < size`` and the nodes of complete subtrees of that tree,
        ``(idx + 1) << level <= size`` (node ``(level, idx)`` covers the leaves ``[idx << level, (idx + 1) <<
        level)``). Those are committed and never change, so they are the hashes the proofs would read one request at
        a time (a cold cache sends most of the first proofs over a large log to the database); a row stored beyond
        the head (a writer's leftover, or planted) is in no committed tree and is not cached — the cache trusts a
        hash it holds at every later size."""
        cache = self.node_cache
        if cache is None or not cache.max_nodes:
            return 0
        budget = cache.max_nodes
        with store.connect(self._engine) as conn:
            size = self._head(conn)
            m = param_mark(conn)
            inner = conn.exec_driver_sql(
                f"SELECT level, idx, hash FROM ledger_nodes WHERE ((idx + 1) << level) <= {m} "
                f"ORDER BY level DESC, idx LIMIT {m}", (size, budget)
            ).all()
            leaves = conn.exec_driver_sql(
                f"SELECT idx, leaf_hash FROM ledger_entries WHERE idx < {m} ORDER BY idx LIMIT {m}",
                (size, budget - len(inner)),
            ).all() if len(inner) < budget else []
        read: dict[tuple[int, int], bytes] = {(0, int(i)): bytes(h) for i, h in leaves}  # least kept first
        read.update(((int(level), int(i)), bytes(h)) for level, i, h in reversed(inner))
        cache.put_many(read)
        return len(read)

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
            return read_entries(conn, index, index + 1, None)[0]

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

    def catch_up(self, start: int) -> CatchUp:
        """For a reader that folds the log as it grows and has folded ``[0, start)``, in one round trip on PostgreSQL
        (:func:`naef.ledger.store.pipelined` outside a transaction, :func:`naef.ledger.store.connect` with
        ``autocommit``: no BEGIN, no COMMIT): the committed size; the root of the stored tree of ``start`` leaves
        read from the database itself, not from the node cache — the point is to see that the log folded is still
        the stored one (``None`` when ``start`` is beyond the committed size or a node is missing); the root at the
        committed size (from the node cache when it holds it, else read); and the rows from ``start`` on (at most
        one read chunk; as :meth:`entries_or_faults`). The statements run one after the other, each seeing at
        least what the one before saw committed, so rows and nodes are read from a log at least as long as the size
        read first, and what lies beyond that size is ignored."""
        with store.connect(self._engine, autocommit=True) as conn:
            m = param_mark(conn)
            statements: list[tuple[str, Sequence[Any]]] = [("SELECT size FROM ledger_head WHERE id = 1", ())]
            start_query = nodes_query(m, range_nodes(0, start)) if start > 0 else None
            if start_query is not None:
                statements.append(start_query)
            statements.append(rows_query(m, start, start + _READ_CHUNK, None))
            read = store.pipelined(conn, statements)
            if not read[0]:
                raise LedgerError("ledger: not initialised (run `naef ledger init URL --key KEYFILE`)")
            size = int(read[0][0][0])
            if size > self._known_size:
                self._known_size = size
            stored: bytes | None = None
            if start == 0:
                stored = EMPTY_ROOT
            elif start <= size:
                found, ids = nodes_found(read[1]), range_nodes(0, start)
                stored = fold_range([found[i] for i in ids]) if all(i in found for i in ids) else None
            rows = decode_rows(r for r in read[-1] if int(r[0]) < size) if start < size else []
            return CatchUp(size, stored, root_at(conn, size, size, self.node_cache), rows)

    def _stream(
        self, start: int, end: int | None, entry_type: str | None, *, tolerant: bool
    ) -> Iterator[StoredEntry | UnreadableEntry]:
        with store.connect(self._engine) as conn:
            size = store.head_size(conn)
        end = size if end is None else min(end, size)
        pos = max(start, 0)
        read = read_rows if tolerant else read_entries
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
