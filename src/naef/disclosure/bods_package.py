"""The BODS 0.4 statements a disclosure relies on, published beside it as a BODS package
(``bods-statements.json``).

BODS 0.4 data is a JSON array of statements. The OC4IDS package's ``parties[].beneficialOwners`` and the IATI
payees' ``@ref``/``@type`` and conflict-of-interest chains are derived from the ``beneficial_ownership_statement``
entries of the ledger, so their bundles carry all of them, as recorded and
in log order (BODS statements are immutable and a later statement about a ``recordId`` supersedes the earlier
ones, so a reader needs the history, not only the latest). Every statement was validated against the official
BODS 0.4 schema when it was imported (:mod:`naef.ledger.bods`); the tests validate the exported package again.
The record ``bods package`` has the statements' entries as leaves and is compared statement by statement.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from naef.disclosure.common import Record, Rendered, first_difference
from naef.disclosure.model import ENTRY_BODS
from naef.ledger.log import StoredEntry

__all__ = ["FILE", "RECORD", "compare", "labelled_compare", "render", "rendered_with"]

FILE = "bods-statements.json"
RECORD = "bods package"


def render(entries: Sequence[StoredEntry]) -> tuple[bytes, Record] | None:
    """The BODS package of the ``beneficial_ownership_statement`` entries (log order) and its record; ``None``
    when there are none."""
    used = [e for e in sorted(entries, key=lambda x: x.index) if e.type == ENTRY_BODS]
    statements = [e.payload.get("statement") for e in used]
    if not used:
        return None
    text = json.dumps(statements, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return text.encode("utf-8"), Record(RECORD, (FILE,), tuple(e.index for e in used))


def rendered_with(entries: Sequence[StoredEntry], files: Mapping[str, bytes], records: Sequence[Record]) -> Rendered:
    """An export's files and records with the BODS package of ``entries`` beside them (when there is one): every
    bundle whose files rely on BODS statements carries them."""
    package = render(entries)
    if package is None:
        return Rendered(dict(files), tuple(records))
    return Rendered({**files, FILE: package[0]}, (*records, package[1]))


def labelled_compare(folder: Path, expected: Rendered) -> list[str]:
    """:func:`compare` with the record's label from ``expected``."""
    label = next((r.label() for r in expected.records if r.id == RECORD), RECORD)
    return compare(folder, expected.files, label)


def compare(folder: Path, expected: Mapping[str, bytes], label: str) -> list[str]:
    """Failures where ``folder``'s BODS package differs from the expected one (``label`` names the record)."""
    if FILE not in expected:
        return [f"{label}: {FILE} is in the bundle but the ledger has no BODS statement"] if (
            folder / FILE
        ).exists() else []
    try:
        actual: Any = json.loads((folder / FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [f"{label}: {FILE} is missing"]
    except OSError as exc:
        return [f"{label}: {FILE}: cannot read ({exc.strerror})"]
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return [f"{label}: {FILE}: not JSON ({exc})"]
    found = first_difference(actual, json.loads(expected[FILE].decode("utf-8")))
    return [f"{label}: {FILE}: {found}"] if found else []
