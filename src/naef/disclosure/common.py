"""What the three formats share: the checkpoint an export is made from, records tied to ledger entries, the
rendered files, and the structural comparisons that name the first differing field of a record.

Every format module (:mod:`~naef.disclosure.iati`, :mod:`~naef.disclosure.oc4ids`, :mod:`~naef.disclosure.eiti`)
is a pure function ``render(entries, checkpoint) -> Rendered`` of the ledger entries it reads (``INPUT_TYPES``)
and the signed checkpoint, plus ``compare(folder, expected) -> failures`` that reads the published files and
names each record that differs from the one re-derived from the ledger entries. :mod:`naef.disclosure.bundle`
runs the first to export and both to verify.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from naef.ledger.log import StoredEntry

if TYPE_CHECKING:
    from naef.disclosure.orgid import Publisher

__all__ = [
    "DERIVATION",
    "ExportCheckpoint",
    "FormatModule",
    "Record",
    "Rendered",
    "entry_span",
    "first_difference",
    "format_usd",
    "latest_time",
    "shown",
]

DERIVATION = "naef.disclosure/4"
"""Version of the derivation rules (field mappings): a verifier re-derives only bundles of the same version."""


@dataclass(frozen=True)
class ExportCheckpoint:
    """The signed checkpoint an export was made from: origin, tree size, root hash and the signed note text
    (C2SP tlog-checkpoint, with any witness cosignatures)."""

    origin: str
    size: int
    root_hash: bytes
    note: str

    def to_json(self) -> dict[str, Any]:
        """``{"origin", "size", "root_hash" (hex), "note"}``."""
        return {"origin": self.origin, "size": self.size, "root_hash": self.root_hash.hex(), "note": self.note}


@dataclass(frozen=True)
class Record:
    """One published record (an IATI activity, an OC4IDS project, an EITI table row), the files that show it and
    the indexes of the ledger entries it is derived from (its leaves)."""

    id: str
    files: tuple[str, ...]
    leaves: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        """``{"id", "files", "leaves"}``."""
        return {"id": self.id, "files": list(self.files), "leaves": list(self.leaves)}

    def label(self) -> str:
        """``<id> (ledger entries 18, 19, 22)`` — how failures name the record."""
        return f"{self.id} ({entry_span(self.leaves)})" if self.leaves else self.id


@dataclass(frozen=True)
class Rendered:
    """The files of one export (name → bytes) and its records."""

    files: Mapping[str, bytes]
    records: tuple[Record, ...]


class FormatModule(Protocol):
    """What :mod:`naef.disclosure.bundle` needs of a format module."""

    NAME: str
    INPUT_TYPES: frozenset[str]

    def render(
        self, entries: Sequence[StoredEntry], checkpoint: ExportCheckpoint, *, publisher: Publisher = ...
    ) -> Rendered:
        """The export derived from ``entries`` (any order; other types ignored) at ``checkpoint``, published by
        ``publisher`` (its organisation identifier)."""
        ...

    def compare(self, folder: Path, expected: Rendered) -> list[str]:
        """Failures (one line each, naming the record) where the files in ``folder`` differ from ``expected``."""
        ...


def entry_span(indexes: Iterable[int]) -> str:
    """``"ledger entry 5"`` or ``"ledger entries 5, 6, 9"``."""
    ordered = sorted(set(indexes))
    if len(ordered) == 1:
        return f"ledger entry {ordered[0]}"
    return "ledger entries " + ", ".join(str(i) for i in ordered)


def format_usd(amount: Decimal) -> str:
    """A US-dollar amount as a decimal string with two decimals (``"60000000.00"``)."""
    return f"{amount.quantize(Decimal('0.01')):f}"


def latest_time(entries: Iterable[StoredEntry]) -> str:
    """The latest ``time`` (RFC 3339, UTC, ``Z``) of the entries; ``""`` when there are none.

    Entry times are all formatted by :func:`naef.ledger.entries.format_time` (same width up to the optional
    microseconds), so the maximum is taken on the parsed instant, not on the text.
    """
    best = ""
    best_key = ""
    for e in entries:
        key = e.time.replace("Z", ".000000Z") if "." not in e.time else e.time
        if key > best_key:
            best, best_key = e.time, key
    return best


def shown(value: Any) -> str:
    """A value as a failure message shows it (repr, cut at 80 characters)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def first_difference(actual: Any, expected: Any, path: str = "") -> str | None:
    """The first place where the JSON-like value ``actual`` (from the file) differs from ``expected`` (derived
    from the ledger), as ``"<path>: the file has X, the ledger gives Y"``; ``None`` when they are equal.

    Objects are compared key by key (missing and extra keys are named), arrays item by item, scalars by type and
    value (``1`` and ``1.0`` differ: a JSON writer that changes one into the other changed the text).
    """
    where = path or "/"
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return f"{where}: the file has {shown(actual)}, the ledger gives an object"
        for key in expected:
            if key not in actual:
                return f"{path}/{key}: missing from the file (the ledger gives {shown(expected[key])})"
            found = first_difference(actual[key], expected[key], f"{path}/{key}")
            if found:
                return found
        for key in actual:
            if key not in expected:
                return f"{path}/{key}: in the file ({shown(actual[key])}) but not derived from the ledger"
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"{where}: the file has {shown(actual)}, the ledger gives an array"
        for i, (a, b) in enumerate(zip(actual, expected, strict=False)):
            found = first_difference(a, b, f"{path}/{i}")
            if found:
                return found
        if len(actual) != len(expected):
            return f"{where}: the file has {len(actual)} items, the ledger gives {len(expected)}"
        return None
    if type(actual) is type(expected) and actual == expected:
        return None
    return f"{where}: the file has {shown(actual)}, the ledger gives {shown(expected)}"
