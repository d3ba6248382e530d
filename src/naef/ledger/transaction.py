"""One write transaction of the log (:class:`LedgerTransaction`): reads and appends under the writer lock, the
rules' hook every governed entry passes, and the pipelined insert of large batches (RFC 9162 §2.1.1: each leaf
and the complete subtrees it closes)."""


import hashlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from functools import lru_cache
from itertools import chain, repeat
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from naef.ledger import store
from naef.ledger.entries import (
    GOVERNED_ENTRY_TYPES,
    CanonicalRows,
    Entry,
    load_extensions,
    make_entry,
)
from naef.ledger.errors import LedgerError, VerificationError
from naef.ledger.merkle import EMPTY_ROOT, fold_range, leaf_hash, node_hash, range_nodes
from naef.ledger.proofs import (
    lookup_nodes,
    nodes_found,
    nodes_query,
    param_mark,
)
from naef.ledger.rows import (
    StoredEntry,
    UnreadableEntry,
    decode_rows,
    read_entries,
    read_entries_or_faults,
    read_rows,
    rows_query,
)

__all__ = ["PIPELINE_CHUNK", "LedgerTransaction", "RuleStateMemo", "RulesHook"]

PIPELINE_CHUNK = 256
"""Entries ``append_batch`` prepares at a time in a large batch; each chunk's rows are inserted by a helper thread
while the next is prepared (a choice: large enough that a hand-over costs little per entry, small enough that a
chunk's objects stay in the CPU's caches and die young: a chunk's validated models and JSON forms that are still
alive when Python's collector runs its middle generation are moved to the oldest, and enough of them start a full
collection, which walks every object of the process. Measured at batch 10,000 on SQLite, 100,000 entries, one
process, alternately, best of 5: 10.3–10.6 µs of CPU per entry with chunks of 256, 10.5–11.1 with 1,024 (one full
collection per run instead of none; the main thread's CPU 6.3–6.5 against 7.1–7.7), 10.8 with 128; earlier: 11.2–11.7
with 2,048, 12.1–12.5 with no chunks)."""
_HANDOVER_ROWS = 1024
"""Entry rows gathered before :meth:`LedgerTransaction._flush_behind` hands them to the insert thread (a choice:
chunks of :data:`PIPELINE_CHUNK` are prepared, but the thread gets about 1,024 rows at a time, so its statements stay
as large as before — with chunks of 256 handed over one by one, the insert thread's CPU rose by about 0.5 µs per
entry and took back most of what the smaller chunks saved)."""
_COPY_MIN_ROWS = 64
"""Rows from which a PostgreSQL append uses COPY rather than executemany (a choice: below it the difference is
lost in the round trips)."""
_STATEMENT_ROWS = 1024
"""Most rows per ``INSERT … VALUES (…), (…), …`` statement on SQLite (fewer when the library binds fewer
parameters). One multi-row statement costs about 0.5 µs less per row than single-row statements (measured: groups of
16 to 1,024 rows alike), and the insert helper needs Python's lock only to bind each statement — while SQLite steps
through it the lock is free, so a whole chunk (:data:`PIPELINE_CHUNK`) in few statements overlaps best with the
preparation of the next."""
_STATEMENT_STEP = 128
"""Statement sizes are multiples of this many rows, plus one statement for the rest (fewer rows), so that a
connection prepares and caches few distinct statements (about 0.4 MB each per 1,000 rows of four columns)."""

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



_ENTRIES = "ledger_entries (idx, entry_type, canonical, leaf_hash)"
_NODES = "ledger_nodes (level, idx, hash)"


@lru_cache(maxsize=512)
def _values_sql(target: str, width: int, rows: int, mark: str) -> str:
    """``INSERT INTO target VALUES (m, …), …`` with ``rows`` groups of ``width`` parameter marks ``mark`` (cached:
    the row counts of successive chunks repeat, and SQLite's statement cache then finds them prepared)."""
    group = "(" + ", ".join([mark] * width) + ")"
    return f"INSERT INTO {target} VALUES " + ", ".join([group] * rows)


def _statement_rows(dbapi_connection: Any, width: int) -> int:
    """Rows of ``width`` values per SQLite INSERT: :data:`_STATEMENT_ROWS`, or fewer when the library binds fewer
    parameters per statement (``SQLITE_LIMIT_VARIABLE_NUMBER``: 32,766 since SQLite 3.32, 999 before)."""
    try:
        limit = int(dbapi_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    except (AttributeError, sqlite3.Error):  # pragma: no cover - a driver without getlimit
        limit = 999
    return max(1, min(_STATEMENT_ROWS, limit // width))


class RuleStateMemo:
    """The rules' state as folded from a *committed* prefix ``[0, size)`` of the log, kept by one
    :class:`~naef.ledger.log.Ledger` handle between its write transactions with the root hash of that prefix's tree,
    so that the next transaction folds only the entries committed since (by this process or any other) instead of
    the whole log again.

    Why that is the same state: the rules' fold is a left fold in index order, so ``fold([0, n)) = fold([size, n))``
    applied to ``fold([0, size))`` — provided the stored log still begins with the ``size`` entries the state was
    folded from. The log is append-only, but a writer with access to the database can move the head back (a
    truncation, a fail-over to a replica that lacks the last commits, a restore under a running server) and even
    refill it to the same size with other entries, a consistent tree that ``verify`` accepts. So the state is
    reused only when ``size`` is at most the committed size and the root of the stored tree at ``size``
    (:meth:`LedgerTransaction.take_rule_memo`) is the root kept with it: the root commits to every leaf hash of the
    prefix (RFC 9162 §2.1.1), so any other prefix — shorter, replaced, or rewritten with its hashes recomputed —
    makes the next write fold the whole log again. What this still gives up: a row whose stored bytes were changed
    while its leaf hash and the nodes were left alone is not re-read by this handle's next writes (they decide on
    the entry as it was admitted); ``naef ledger verify`` fails on it, and ``naef ledger audit`` and
    :func:`~naef.ledger.approvals.control_state` (every stored row read again and re-judged) name it.

    Ownership, not sharing: a transaction *takes* the state (the memo is then empty) and mutates it as the rules
    admit its entries; :meth:`Ledger.transaction <naef.ledger.log.Ledger.transaction>` gives it back only after
    the commit (size = the committed size), or after a rollback in which the rules' gate never ran (the state is
    then still the fold of the prefix it was made from), and the transaction then drops its own reference. Any other
    ending — a rollback after the gate ran, a state handed out to a caller (:func:`naef.ledger.approvals.state_of`),
    a fold whose end the rules could not close (:meth:`LedgerTransaction._hold_rule_state`) — leaves the memo empty:
    the next transaction folds the whole log, exactly as without the memo. The state's type is the rules' business
    (``object`` here).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: tuple[int, bytes, object] | None = None

    def take(self) -> tuple[int, bytes, object] | None:
        """``(size, root, state)`` and the memo empty, or ``None`` when it holds nothing."""
        with self._lock:
            kept, self._kept = self._kept, None
            return kept

    def kept_size(self) -> int | None:
        """The size of the prefix whose fold the memo holds (``None``: it holds nothing), without taking it: what a
        transaction reads ahead for the rules (:class:`LedgerTransaction`)."""
        with self._lock:
            return None if self._kept is None else self._kept[0]

    def keep(self, size: int, root: bytes, state: object) -> None:
        """Hold ``state``, the fold of the committed entries ``[0, size)`` whose tree has root ``root`` (a larger
        size already held wins)."""
        with self._lock:
            if self._kept is None or self._kept[0] <= size:
                self._kept = (size, root, state)


def _edge_levels(size: int) -> list[int]:
    """Levels of the right-edge complete subtrees of a tree of ``size`` leaves, left to right: its one bits,
    highest first (the subtrees :func:`naef.ledger.merkle.range_nodes` names for ``[0, size)``)."""
    return [b for b in range(size.bit_length() - 1, -1, -1) if size >> b & 1]


class LedgerTransaction:
    """Reads and appends under the writer lock; everything commits together when the block exits cleanly."""

    def __init__(self, conn: Connection, *, memo: RuleStateMemo | None = None, edge_hint: int = 0) -> None:
        """Lock the head and read what the transaction starts from, in one round trip on PostgreSQL, the
        transaction's ``BEGIN`` included (:func:`naef.ledger.store.pipelined`): the head's size (``FOR UPDATE``:
        the writers' lock; SQLite is already the one writer, ``BEGIN IMMEDIATE``), then — sent before the size is
        known, each statement running once the lock is held — the right-edge subtrees of a tree of ``edge_hint``
        entries (the size the handle last knew committed) and, when ``memo`` holds the rules' state folded up to
        some size, the governed rows from that size on (what the rules' fold will read, :meth:`rows`). Read again,
        separately, when the guess was wrong (another process wrote since): the answer never depends on the
        guesses, only the round trips."""
        self._conn = conn
        mark = param_mark(conn)
        lock = "" if conn.dialect.name == "sqlite" else " FOR UPDATE"
        statements: list[tuple[str, Sequence[Any]]] = [(f"SELECT size FROM ledger_head WHERE id = 1{lock}", ())]
        edge_query = nodes_query(mark, range_nodes(0, edge_hint)) if edge_hint > 0 else None
        if edge_query is not None:
            statements.append(edge_query)
        rules_from = None if memo is None else memo.kept_size()
        if rules_from is not None:
            statements.append(rows_query(mark, rules_from, None, GOVERNED_ENTRY_TYPES))
        read = store.pipelined(conn, statements, begin=True)
        if not read[0]:
            raise LedgerError("ledger: not initialised (run `naef ledger init URL --key KEYFILE`)")
        self._size = int(read[0][0][0])
        self._committed_size = self._size  # the size before this transaction's appends (the head read under the lock)
        self._prefetched: tuple[int, list[StoredEntry | UnreadableEntry]] | None = None
        if rules_from is not None and rules_from <= self._size:  # rows beyond the head are in no committed tree
            rows = decode_rows(r for r in read[-1] if int(r[0]) < self._size)
            self._prefetched = (rules_from, rows)
        self._stack: list[tuple[int, bytes]] = []
        if self._size:
            ids = range_nodes(0, self._size)
            found = nodes_found(read[1]) if edge_query is not None and edge_hint == self._size else \
                lookup_nodes(conn, ids)
            try:
                self._stack = [(level, found[(level, idx)]) for level, idx in ids]
            except KeyError as exc:
                raise VerificationError(f"ledger: right-edge node {exc.args[0]} is missing; run verify") from None
        self._committed_edge = [h for _, h in self._stack]  # the stored right edge at the committed size
        # The rules' state (the rules' business: :mod:`naef.ledger.approvals.service`), private to the rules and
        # to this transaction; dropped when the transaction ends (:meth:`_return_rule_state`).
        self._rule_state: object | None = None
        self._rule_state_open_end = False  # the fold's end added a fault a later entry could still take back
        self._rule_state_lent = False  # handed to a caller outside the rules: never kept for reuse
        self._memo = memo
        self._gate_ran = False
        self._gate_admitted = False  # a governed entry passed the gate in this transaction
        self._entry_rows: list[tuple[int, str, bytes, bytes]] = []
        self._node_rows: list[tuple[int, int, bytes]] = []
        self._inserter: ThreadPoolExecutor | None = None  # made by _flush_behind, for large batches only
        self._inserting: Future[None] | None = None
        self.known_nodes: dict[tuple[int, int], bytes] = {}
        """After a pipelined finish (:meth:`_finish_pipelined`), committed hashes of complete subtrees this
        transaction knows: the right edge it read under the lock, and each leaf and subtree it wrote — what the
        handle may keep in its node cache once the transaction has returned."""
        self._sql_head = f"UPDATE ledger_head SET size = {mark} WHERE id = 1"

    @property
    def committed_size(self) -> int:
        """The committed size this transaction started from (the head read under the lock)."""
        return self._committed_size

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
            self._gate_ran = True  # from here on the state may be changed: reusable only once committed
            derived = _RULES(self, entry, i)
            self._gate_admitted = True
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
        add_node = self._node_rows.append
        pop, push = edge.pop, edge.append
        sha256 = hashlib.sha256
        for h in rows.leaves:
            j, level = i, 0
            while j & 1:  # one closed subtree per trailing one bit of i: (level, i >> level)
                level += 1
                j >>= 1
                h = sha256(b"\x01" + pop() + h).digest()
                add_node((level, j, h))
            push(h)
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
        and the transaction ends only after it (:meth:`_close`). Rows are kept until at least
        :data:`_HANDOVER_ROWS` entries are waiting (the rest goes in with :meth:`_flush`).

        While an insert is under way this thread first lets go of Python's lock for a moment (``time.sleep(0)``): the
        helper needs the lock briefly between its statements (to bind one, and on the way back from SQLite), and a
        thread running Python code gives it up to a waiting one only after the switch interval (5 ms), so without
        the yield the helper sat waiting for the lock and this thread then waited for the helper (measured at batch
        10,000: 23 ms per transaction spent waiting here, about 1 ms with the yield; 100,000 entries in transactions
        of 10,000, pairs of runs in alternating order on a loaded machine: 7 of 10 pairs faster with the yield,
        median ratio 1.09, best run 98,017 against 88,996 entries/s)."""
        inserting = self._inserting
        if inserting is not None and not inserting.done():
            time.sleep(0)
        if len(self._entry_rows) < _HANDOVER_ROWS:
            return
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
            self._insert(_ENTRIES, 4, entry_rows)
        if node_rows:
            self._insert(_NODES, 3, node_rows)

    def _flush(self) -> None:
        self._wait()
        # The append hot path, without per-row SQLAlchemy processing: plain DB-API executemany on SQLite; on
        # PostgreSQL a COPY into the same transaction once there are more than a few rows (psycopg's executemany
        # adapts and sends each row as its own statement).
        entry_rows, node_rows = self._entry_rows, self._node_rows
        self._entry_rows, self._node_rows = [], []
        self._insert_rows(entry_rows, node_rows)

    def _insert(self, target: str, width: int, rows: list[Any]) -> None:
        """Insert ``rows`` (tuples of ``width`` values) into ``target`` (``table (columns)``) in this transaction:
        on PostgreSQL by COPY from ``_COPY_MIN_ROWS`` rows, else by executemany; on SQLite by multi-row INSERT
        statements over the rows flattened: as many rows as :func:`_statement_rows` allows, rounded down to a
        multiple of :data:`_STATEMENT_STEP`, then the rest in one statement."""
        mark = param_mark(self._conn)
        if self._conn.dialect.name == "postgresql":
            if len(rows) < _COPY_MIN_ROWS:
                self._conn.exec_driver_sql(_values_sql(target, width, 1, mark), rows)
                return
            statement = f"COPY {target} FROM STDIN"
            driver_error = self._conn.dialect.loaded_dbapi.Error
            try:
                with self._conn.connection.dbapi_connection.cursor() as cur, cur.copy(statement) as copy:  # type: ignore[union-attr]
                    for row in rows:
                        copy.write_row(row)
            except driver_error as exc:  # the raw cursor is outside SQLAlchemy: wrap as its own statements are
                raise DBAPIError.instance(statement, None, exc, driver_error) from exc
            return
        most = _statement_rows(self._conn.connection.dbapi_connection, width)
        lo = 0
        while lo < len(rows):
            n = min(most, len(rows) - lo)
            if n >= _STATEMENT_STEP:
                n -= n % _STATEMENT_STEP
            part = rows[lo:lo + n]
            self._conn.exec_driver_sql(_values_sql(target, width, n, mark), tuple(chain.from_iterable(part)))
            lo += n

    def take_rule_memo(self) -> tuple[int, object] | None:
        """For the rules: ``(size, state)`` folded from the committed prefix ``[0, size)`` by an earlier
        transaction of this handle (:class:`RuleStateMemo`), now owned by this transaction; ``None``: fold from
        the start — nothing kept, or what was kept is not the fold of the stored log's prefix (``size`` beyond the
        committed size, or the stored tree's root at ``size`` not the root kept with it: the head was moved back
        or the prefix replaced)."""
        kept = None if self._memo is None else self._memo.take()
        if kept is None:
            return None
        size, root, state = kept
        if size > self._committed_size or self._stored_root(size) != root:
            return None
        return size, state

    def _stored_root(self, size: int) -> bytes | None:
        """``MTH`` of the stored tree of ``size <= `` the committed size: at the committed size from the right edge
        read under the lock, else from the ``O(log n)`` stored subtrees of ``[0, size)`` (one query); ``None``
        when one of those is missing."""
        if size == self._committed_size:
            return self._committed_root()
        if size == 0:
            return EMPTY_ROOT
        ids = range_nodes(0, size)
        self._wait()  # the helper thread is done with the connection
        found = lookup_nodes(self._conn, ids)
        if any(i not in found for i in ids):
            return None
        return fold_range([found[i] for i in ids])

    def _committed_root(self) -> bytes:
        """``MTH`` of the committed tree this transaction started from (its right edge read under the lock)."""
        return fold_range(self._committed_edge) if self._committed_edge else EMPTY_ROOT

    def _hold_rule_state(self, state: object, *, open_end: bool) -> None:
        """For the rules: ``state`` is the fold of the log ``[0, size)`` as this transaction sees it now.
        ``open_end``: ending the fold there added a fault that the next entry could still take back (a flagged
        proposal whose flag may be the next entry, ``naef.ledger.approvals.admission.finish``); such a state is the
        fold of this prefix *as a whole log*, not a prefix of a longer one, so it is kept for reuse only once a
        governed entry admitted after it has settled that question (:meth:`_return_rule_state`)."""
        self._rule_state = state
        self._rule_state_open_end = open_end

    def _return_rule_state(self, *, committed: bool) -> None:
        """Give the rules' state back to the memo when it is the fold of a committed prefix (class docstring of
        :class:`RuleStateMemo`): after the commit it covers every entry of this transaction; after a rollback only
        if the gate never ran (no governed entry of this transaction is in it: it is the fold of the committed
        prefix, kept at the committed size and root). Either way the transaction lets go of it: the memo's state is
        never reachable through a finished transaction."""
        state, self._rule_state = self._rule_state, None
        if self._memo is None or state is None or self._rule_state_lent:
            return
        if self._rule_state_open_end and not self._gate_admitted:
            return
        if committed:
            self._memo.keep(self._size, self.root_hash(), state)
        elif not self._gate_ran:  # no governed entry of this transaction in it: the fold of [0, committed size)
            self._memo.keep(self._committed_size, self._committed_root(), state)

    def _finish(self) -> None:
        if self._conn.dialect.name == "postgresql" and not self._inserting and \
                len(self._entry_rows) < _COPY_MIN_ROWS and len(self._node_rows) < _COPY_MIN_ROWS:
            self._finish_pipelined()
            return
        large = self._inserter is not None  # at least one hand-over: a batch of _HANDOVER_ROWS entries or more
        self._flush()
        self._conn.exec_driver_sql(self._sql_head, (self._size,))
        if large:
            store.defer_checkpoint(self._conn)  # SQLite: checkpointed behind the commit, not in it

    def _finish_pipelined(self) -> None:
        """PostgreSQL, a few rows (a governed write): the entries, the nodes, the head's new size and the
        ``COMMIT`` sent in one pipeline: one round trip, where the commit took one more (psycopg's pipeline mode; the
        statements and their order are those of :meth:`_flush` and the head update, in the same transaction, then
        the commit :meth:`naef.ledger.log.Ledger.transaction` would send next, as durable: the server answers it
        after its WAL flush, and SQLAlchemy's own commit then finds no transaction open and sends nothing; a driver
        error is wrapped as SQLAlchemy wraps its own, so the write fails with the same one-line LedgerError and the
        transaction is rolled back). The hashes it knows are kept in :attr:`known_nodes` — only when every entry of the
        transaction is in this pipeline (an earlier flush, for a read within the transaction, would leave the new
        tree's hashes incomplete in memory)."""
        entry_rows, node_rows = self._entry_rows, self._node_rows
        self._entry_rows, self._node_rows = [], []
        dbapi = self._conn.connection.dbapi_connection
        assert dbapi is not None
        driver_error = self._conn.dialect.loaded_dbapi.Error
        statement = f"INSERT INTO {_ENTRIES}; INSERT INTO {_NODES}; {self._sql_head}; COMMIT (one pipeline)"
        try:
            with dbapi.pipeline(), dbapi.cursor() as cur:  # type: ignore[attr-defined]
                if entry_rows:
                    cur.executemany(_values_sql(_ENTRIES, 4, 1, "%s"), entry_rows)
                if node_rows:
                    cur.executemany(_values_sql(_NODES, 3, 1, "%s"), node_rows)
                cur.execute(self._sql_head, (self._size,))
                cur.execute("COMMIT")  # in the same trip (a commit() here would sync: one trip more)
        except driver_error as exc:
            raise DBAPIError.instance(statement, None, exc, driver_error) from exc
        if len(entry_rows) != self._size - self._committed_size:
            return  # rows of this transaction went in earlier (a read flushed them): this pipeline's are not all
        edge = range_nodes(0, self._committed_size) if self._committed_size else []
        known = dict(zip(edge, self._committed_edge, strict=True))
        known.update(((0, i), h) for i, _, _, h in entry_rows)
        known.update(((level, i), h) for level, i, h in node_rows)
        self.known_nodes = known

    def get(self, index: int) -> StoredEntry:
        """Entry ``index`` (appends of this transaction included)."""
        self._flush()
        if not 0 <= index < self._size:
            raise LedgerError(f"index: {index} is not in the log (size {self._size})")
        return read_entries(self._conn, index, index + 1, None)[0]

    def entries(self, start: int = 0, end: int | None = None, *, entry_type: str | None = None) -> list[StoredEntry]:
        """Entries with ``start <= index < end`` (optionally of one type), in index order."""
        self._flush()
        return read_entries(self._conn, start, self._size if end is None else end, entry_type)

    def entries_or_faults(self, entry_type: str) -> tuple[list[StoredEntry], list[VerificationError]]:
        """Every entry of one type in index order, and the rows of that type that could not be decoded (each a
        :class:`VerificationError` naming its index)."""
        self._flush()
        return read_entries_or_faults(self._conn, 0, self._size, entry_type)

    def rows(self, entry_types: frozenset[str], *, start: int = 0) -> list[StoredEntry | UnreadableEntry]:
        """The rows of any of ``entry_types`` from index ``start`` on, in index order (one query), each decoded or,
        when it cannot be, the :class:`~naef.ledger.rows.UnreadableEntry` naming it. The governed rows read with
        the lock (:meth:`__init__`) answer the first such call when it asks for exactly them before any append."""
        prefetched, self._prefetched = self._prefetched, None
        if prefetched is not None and prefetched[0] == start and entry_types == GOVERNED_ENTRY_TYPES and \
                self._size == self._committed_size:
            return prefetched[1]
        self._flush()
        return read_rows(self._conn, start, self._size, entry_types)
