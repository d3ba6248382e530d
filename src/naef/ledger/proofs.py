"""RFC 9162 proofs read from the store: inclusion and consistency proofs, historical roots.

Every proof reads the ``O(log n)`` complete-subtree hashes it needs in one query (:func:`lookup_nodes`) and folds
them (:func:`naef.ledger.merkle.fold_range`); the log is never rehashed.

A complete subtree's hash never changes once its last leaf is committed (the log is append-only: RFC 9162 §2.1.1
defines it from those leaves alone), so a reader may keep the hashes it has read: :class:`NodeCache` is a bounded,
thread-safe least-recently-used map of them, filled only from committed reads, which :func:`fold_plans` consults
before the database and fills with what it read.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from naef.ledger.errors import LedgerError, VerificationError
from naef.ledger.merkle import (
    EMPTY_ROOT,
    NodeId,
    consistency_plan,
    fold_range,
    inclusion_plan,
    range_nodes,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "ConsistencyProof",
    "InclusionProof",
    "NodeCache",
    "consistency_proof",
    "fold_plans",
    "inclusion_proof",
    "lookup_nodes",
    "nodes_found",
    "nodes_query",
    "root_at",
    "root_of",
    "root_plan",
]


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



class NodeCache:
    """At most ``max_nodes`` complete-subtree hashes read from committed state, least recently used dropped first.

    Memory: about 200 bytes a node in CPython (a 2-tuple key of two ints, a 32-byte ``bytes`` value and the
    ordered dict's slot), so the default of 262,144 nodes is about 50 MB; a tree of ``n`` entries has ``2n - 1``
    nodes (leaves included), so the default holds every node of a log of 131,072 entries and the upper levels (the
    ones every proof shares) of any larger log. ``max_nodes = 0`` keeps nothing.
    """

    DEFAULT_MAX_NODES = 262_144
    """The server's default bound (a choice: about 50 MB, see above), ``naef serve --node-cache``."""

    def __init__(self, max_nodes: int = DEFAULT_MAX_NODES) -> None:
        if max_nodes < 0:
            raise ValueError(f"max_nodes: must be >= 0 (got {max_nodes})")
        self.max_nodes = max_nodes
        self._nodes: OrderedDict[NodeId, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._nodes)

    def get_many(self, wanted: Sequence[NodeId]) -> tuple[dict[NodeId, bytes], list[NodeId]]:
        """(the cached hashes among ``wanted``, the ids not cached)."""
        found: dict[NodeId, bytes] = {}
        missing: list[NodeId] = []
        with self._lock:
            nodes = self._nodes
            for node in wanted:
                h = nodes.get(node)
                if h is None:
                    missing.append(node)
                else:
                    found[node] = h
                    nodes.move_to_end(node)
            self.hits += len(found)
            self.misses += len(missing)
        return found, missing

    def put_many(self, read: Mapping[NodeId, bytes]) -> None:
        """Keep hashes read from committed state (dropping the least recently used beyond the bound)."""
        if not self.max_nodes:
            return
        with self._lock:
            nodes = self._nodes
            nodes.update(read)
            while len(nodes) > self.max_nodes:
                nodes.popitem(last=False)


def param_mark(conn: Connection) -> str:
    """The DB-API parameter marker of the connection's driver (``?`` for SQLite, ``%s`` for psycopg)."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def lookup_nodes(conn: Connection, wanted: Sequence[NodeId]) -> dict[NodeId, bytes]:
    """Stored hashes of complete subtrees in one round trip: level 0 from ``ledger_entries.leaf_hash``, the
    rest from ``ledger_nodes`` (plain SQL: building SQLAlchemy expressions would cost more than the query)."""
    query = nodes_query(param_mark(conn), wanted)
    return {} if query is None else nodes_found(conn.exec_driver_sql(*query).all())


def nodes_query(mark: str, wanted: Sequence[NodeId]) -> tuple[str, tuple[int, ...]] | None:
    """The one statement (SQL with parameter marks ``mark``, parameters) of :func:`lookup_nodes`, for a caller that
    sends it with others (:func:`naef.ledger.store.pipelined`); ``None`` when nothing is wanted. Its rows go to
    :func:`nodes_found`."""
    leaves = [idx for level, idx in wanted if level == 0]
    inner = [(level, idx) for level, idx in wanted if level != 0]
    parts: list[str] = []
    params: list[int] = []
    if leaves:
        parts.append(f"SELECT 0, idx, leaf_hash FROM ledger_entries WHERE idx IN ({', '.join([mark] * len(leaves))})")
        params.extend(leaves)
    if inner:
        terms = " OR ".join([f"(level = {mark} AND idx = {mark})"] * len(inner))
        parts.append(f"SELECT level, idx, hash FROM ledger_nodes WHERE {terms}")
        for level, idx in inner:
            params.extend((level, idx))
    if not parts:
        return None
    return " UNION ALL ".join(parts), tuple(params)


def nodes_found(rows: Iterable[Sequence[Any]]) -> dict[NodeId, bytes]:
    """The hashes in the rows of a :func:`nodes_query`, by node id."""
    return {(int(level), int(idx)): bytes(h) for level, idx, h in rows}


def fold_plans(
    conn: Connection | None, plans: Sequence[Sequence[tuple[NodeId, ...]]], cache: NodeCache | None = None
) -> list[list[bytes]]:
    """Fetch every node the plans need in one lookup (those in ``cache`` from memory, the rest from ``conn`` — a
    read of committed state whenever ``cache`` is given — then kept in ``cache``), then fold each plan's elements.

    ``conn`` may be ``None`` only with a cache: a node missing from it is then reported by :class:`KeyError`
    so that the caller reads it with a connection."""
    wanted = list(dict.fromkeys(node for plan in plans for element in plan for node in element))
    if cache is None:
        assert conn is not None
        found = lookup_nodes(conn, wanted) if wanted else {}
    else:
        found, absent = cache.get_many(wanted)
        if absent:
            if conn is None:
                raise KeyError(absent[0])
            read = lookup_nodes(conn, absent)
            cache.put_many(read)
            found.update(read)
    missing = [node for node in wanted if node not in found]
    if missing:
        level, idx = missing[0]
        raise VerificationError(f"node (level {level}, index {idx}) is missing from the store", index=idx << level)
    return [[fold_range([found[node] for node in element]) for element in plan] for plan in plans]



def root_plan(size: int) -> list[tuple[NodeId, ...]]:
    """The one-element plan whose fold is the root of the tree of ``size`` leaves (none for the empty tree)."""
    return [range_nodes(0, size)] if size else []


def root_of(folded: list[bytes]) -> bytes:
    """The root folded from :func:`root_plan` (the empty-tree hash for size 0)."""
    return folded[0] if folded else EMPTY_ROOT


def root_at(conn: Connection | None, size: int, current: int, cache: NodeCache | None = None) -> bytes:
    """``MTH`` of the tree of ``size`` leaves (``0 <= size <= current``), from ``O(log n)`` stored hashes."""
    if not 0 <= size <= current:
        raise LedgerError(f"size: {size} is not between 0 and the log size {current}")
    return root_of(fold_plans(conn, [root_plan(size)], cache)[0])


def inclusion_proof(
    conn: Connection | None, index: int, size: int, current: int, cache: NodeCache | None = None
) -> InclusionProof:
    """RFC 9162 inclusion proof of entry ``index`` in the tree of ``size`` leaves; O(log n) reads (none of the
    nodes ``cache`` holds)."""
    if not 0 < size <= current:
        raise LedgerError(f"size: {size} is not between 1 and the log size {current}")
    if not 0 <= index < size:
        raise LedgerError(f"index: {index} is not in a tree of size {size}")
    path, root, leaf = fold_plans(conn, [inclusion_plan(index, size), root_plan(size), [((0, index),)]], cache)
    return InclusionProof(index, size, leaf[0], root_of(root), tuple(path))


def consistency_proof(
    conn: Connection | None, size1: int, size2: int, current: int, cache: NodeCache | None = None
) -> ConsistencyProof:
    """RFC 9162 consistency proof from ``size1`` to ``size2``; O(log n) reads (none of the nodes ``cache``
    holds)."""
    if not 0 <= size2 <= current:
        raise LedgerError(f"size: {size2} is not between 0 and the log size {current}")
    if not 0 < size1 <= size2:  # RFC 9162: no proof from the empty tree (merkle.is_empty_tree instead)
        raise LedgerError(f"from-size: {size1} is not between 1 and {size2} (no proof from the empty tree)")
    path, r1, r2 = fold_plans(conn, [consistency_plan(size1, size2), root_plan(size1), root_plan(size2)], cache)
    return ConsistencyProof(size1, size2, root_of(r1), root_of(r2), tuple(path))
