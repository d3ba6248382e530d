"""Stored entry rows as read back: the decoded entry (:class:`StoredEntry`), a row that cannot be decoded
(:class:`UnreadableEntry`), and the readers of a range of rows (strict, or tolerant of undecodable rows)."""


from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from naef.ledger.entries import (
    decode_entry,
)
from naef.ledger.errors import LedgerError, VerificationError
from naef.ledger.proofs import param_mark

__all__ = [
    "StoredEntry",
    "UnreadableEntry",
    "decode_rows",
    "read_entries",
    "read_entries_or_faults",
    "read_rows",
    "rows_query",
]



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
    return decode_rows(conn.exec_driver_sql(*rows_query(param_mark(conn), start, end, entry_type)).all())


def rows_query(mark: str, start: int, end: int | None,
               entry_type: str | frozenset[str] | None) -> tuple[str, tuple[int | str, ...]]:
    """The statement (SQL with parameter marks ``mark``, parameters) of :func:`read_rows` — ``end`` ``None``: no
    upper bound — for a caller that sends it with others (:func:`naef.ledger.store.pipelined`); its rows go to
    :func:`decode_rows`."""
    sql = "SELECT idx, entry_type, canonical, leaf_hash FROM ledger_entries WHERE idx >= " + mark
    params: list[int | str] = [start]
    if end is not None:
        sql += f" AND idx < {mark}"
        params.append(end)
    types = [entry_type] if isinstance(entry_type, str) else sorted(entry_type or ())
    if entry_type is not None:
        sql += f" AND entry_type IN ({', '.join([mark] * len(types))})" if types else " AND 1 = 0"
        params.extend(types)
    return sql + " ORDER BY idx", tuple(params)


def decode_rows(rows: Iterable[Sequence[Any]]) -> list[StoredEntry | UnreadableEntry]:
    """The rows of a :func:`rows_query` (index, type, canonical bytes, leaf hash), each decoded or the
    :class:`UnreadableEntry` naming it."""
    out: list[StoredEntry | UnreadableEntry] = []
    for i, t, c, h in rows:
        try:
            out.append(_stored_entry(int(i), c, h))
        except VerificationError as exc:
            out.append(UnreadableEntry(int(i), str(t), exc))
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

