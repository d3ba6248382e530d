"""Stored entry rows as read back: the decoded entry (:class:`StoredEntry`), a row that cannot be decoded
(:class:`UnreadableEntry`), and the readers of a range of rows (strict, or tolerant of undecodable rows)."""


from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from naef.ledger import store
from naef.ledger.entries import (
    decode_entry,
)
from naef.ledger.errors import LedgerError, VerificationError

__all__ = ["StoredEntry", "UnreadableEntry", "read_entries", "read_entries_or_faults", "read_rows"]



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


def read_rows(
    conn: Connection, start: int, end: int, entry_type: str | frozenset[str] | None
) -> list[StoredEntry | UnreadableEntry]:
    """Rows with ``start <= idx < end`` (optionally of one type, or of any of a set of types) in index order,
    each decoded or, when it cannot be, an :class:`UnreadableEntry` (the read never stops at one bad row)."""
    e = store.entries.c
    q = select(e.idx, e.entry_type, e.canonical, e.leaf_hash).where(e.idx >= start, e.idx < end)
    if isinstance(entry_type, str):
        q = q.where(e.entry_type == entry_type)
    elif entry_type is not None:
        q = q.where(e.entry_type.in_(sorted(entry_type)))
    out: list[StoredEntry | UnreadableEntry] = []
    for i, t, c, h in conn.execute(q.order_by(e.idx)):
        try:
            out.append(_stored_entry(i, c, h))
        except VerificationError as exc:
            out.append(UnreadableEntry(i, str(t), exc))
    return out


def read_entries(conn: Connection, start: int, end: int, entry_type: str | None) -> list[StoredEntry]:
    """As :func:`read_rows`, but the first row that cannot be decoded raises its :class:`VerificationError`."""
    rows = read_rows(conn, start, end, entry_type)
    for r in rows:
        if isinstance(r, UnreadableEntry):
            raise r.error
    return [r for r in rows if isinstance(r, StoredEntry)]


def read_entries_or_faults(
    conn: Connection, start: int, end: int, entry_type: str
) -> tuple[list[StoredEntry], list[VerificationError]]:
    """As :func:`read_rows` for one type, split into the decoded entries and the errors naming the rows that
    could not be decoded."""
    rows = read_rows(conn, start, end, entry_type)
    return ([r for r in rows if isinstance(r, StoredEntry)],
            [r.error for r in rows if isinstance(r, UnreadableEntry)])

