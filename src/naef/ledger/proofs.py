"""RFC 9162 proofs read from the store: inclusion and consistency proofs, historical roots.

Every proof reads the ``O(log n)`` complete-subtree hashes it needs in one query (:func:`lookup_nodes`) and folds
them (:func:`naef.ledger.merkle.fold_range`); the log is never rehashed.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    "consistency_proof",
    "fold_plans",
    "inclusion_proof",
    "lookup_nodes",
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



def param_mark(conn: Connection) -> str:
    """The DB-API parameter marker of the connection's driver (``?`` for SQLite, ``%s`` for psycopg)."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def lookup_nodes(conn: Connection, wanted: Sequence[NodeId]) -> dict[NodeId, bytes]:
    """Stored hashes of complete subtrees in one round trip: level 0 from ``ledger_entries.leaf_hash``, the
    rest from ``ledger_nodes`` (plain SQL: building SQLAlchemy expressions would cost more than the query)."""
    m = param_mark(conn)
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


def fold_plans(conn: Connection, plans: Sequence[Sequence[tuple[NodeId, ...]]]) -> list[list[bytes]]:
    """Fetch every node the plans need in one lookup, then fold each plan's elements."""
    wanted = list(dict.fromkeys(node for plan in plans for element in plan for node in element))
    found = lookup_nodes(conn, wanted) if wanted else {}
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


def root_at(conn: Connection, size: int, current: int) -> bytes:
    """``MTH`` of the tree of ``size`` leaves (``0 <= size <= current``), from ``O(log n)`` stored hashes."""
    if not 0 <= size <= current:
        raise LedgerError(f"size: {size} is not between 0 and the log size {current}")
    return root_of(fold_plans(conn, [root_plan(size)])[0])


def inclusion_proof(conn: Connection, index: int, size: int, current: int) -> InclusionProof:
    """RFC 9162 inclusion proof of entry ``index`` in the tree of ``size`` leaves; O(log n) reads."""
    if not 0 < size <= current:
        raise LedgerError(f"size: {size} is not between 1 and the log size {current}")
    if not 0 <= index < size:
        raise LedgerError(f"index: {index} is not in a tree of size {size}")
    path, root, leaf = fold_plans(conn, [inclusion_plan(index, size), root_plan(size), [((0, index),)]])
    return InclusionProof(index, size, leaf[0], root_of(root), tuple(path))


def consistency_proof(conn: Connection, size1: int, size2: int, current: int) -> ConsistencyProof:
    """RFC 9162 consistency proof from ``size1`` to ``size2``; O(log n) reads."""
    if not 0 <= size2 <= current:
        raise LedgerError(f"size: {size2} is not between 0 and the log size {current}")
    if not 0 < size1 <= size2:  # RFC 9162: no proof from the empty tree (merkle.is_empty_tree instead)
        raise LedgerError(f"from-size: {size1} is not between 1 and {size2} (no proof from the empty tree)")
    path, r1, r2 = fold_plans(conn, [consistency_plan(size1, size2), root_plan(size1), root_plan(size2)])
    return ConsistencyProof(size1, size2, root_of(r1), root_of(r2), tuple(path))
