"""Import of beneficial-ownership data: Beneficial Ownership Data Standard (BODS) 0.4 statements.

Each statement is validated against the official BODS 0.4 JSON Schema (draft 2020-12): ``statement.json``
(``$id`` ``urn:statement``) and the files it refers to by ``$id`` (``urn:components``, ``urn:entity``,
``urn:person``, ``urn:relationship``, ``urn:codelists``), registered with :mod:`referencing`; string formats
(``date``, ``date-time``, ``uri``, ``email``...) are checked with ``jsonschema``'s format checker.

All or nothing: a JSON array whose statements are all valid, with statementIds that are new (BODS 0.4: a
statementId is "a persistent globally unique identifier"), is appended as ``beneficial_ownership_statement``
entries in one transaction; one invalid statement refuses the whole array, naming the statement (array index
and statementId) and the schema's reason, and nothing is appended.

BODS 0.4 semantics the schema cannot check (:func:`check_beneficial_flags`): an interest with
``beneficialOwnershipOrControl: true`` says that the interested party is a beneficial owner, and "if true, the
interested party MUST be a natural person" — so such a relationship is refused unless its ``interestedParty`` is
the ``recordId`` of a person record (in the same array or already in the log, the latest statement about it
counting) or an unspecified record (an unknown person).

The schema files ship with naef (``naef/data/bods-0.4/``, Apache-2.0, © Open Ownership; see ``data/README.md``):
they are read from ``schema_dir`` (argument), else the directory in the environment variable
``NAEF_BODS_SCHEMA_DIR`` (an override, e.g. to try a newer schema), else the package's own copy.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

from naef.ledger.errors import LedgerError
from naef.resources import broken_install, data_dir

__all__ = [
    "SCHEMA_DIR_ENV",
    "BodsError",
    "check_beneficial_flags",
    "default_schema_dir",
    "read_statements",
    "validate_statements",
]

SCHEMA_DIR_ENV = "NAEF_BODS_SCHEMA_DIR"
#: The BODS 0.4 schema files (``statement.json`` refers to the others by ``$id``).
SCHEMA_FILES = ("statement.json", "components.json", "entity-record.json", "person-record.json",
                "relationship-record.json")
_MAX_REASON = 300


class BodsError(LedgerError):
    """BODS input refused: not a JSON array, a statement invalid against the schema, a repeated id."""


def default_schema_dir() -> Path:
    """``$NAEF_BODS_SCHEMA_DIR`` if set, else the BODS 0.4 schemas shipped in the package."""
    env = os.environ.get(SCHEMA_DIR_ENV)
    if env:
        return Path(env)
    return data_dir("bods-0.4")


@functools.lru_cache(maxsize=4)
def _validator(schema_dir: str) -> Draft202012Validator:
    directory = Path(schema_dir)
    shipped = os.environ.get(SCHEMA_DIR_ENV) is None and directory == default_schema_dir()
    for name in SCHEMA_FILES:  # statement.json refers to the others by $id: each must be there
        if not (directory / name).is_file():
            if shipped:
                raise broken_install(f"data/bods-0.4/{name}", "is missing")
            raise BodsError(f"BODS schema: {directory}/{name} not found (pass --schema-dir or set {SCHEMA_DIR_ENV})")
    resources = []
    for path in sorted(directory.glob("*.json")):
        try:
            contents = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            if shipped:
                raise broken_install(f"data/bods-0.4/{path.name}", f"cannot be read ({exc})") from None
            raise BodsError(f"BODS schema: {path} cannot be read ({exc})") from None
        if isinstance(contents, dict) and "$id" in contents:
            resources.append((str(contents["$id"]), Resource.from_contents(contents)))
    registry: Registry[Any] = Registry().with_resources(resources)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": "urn:statement#/$defs/Statement",
    }
    return Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _where(error: ValidationError) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path.lstrip(".") or "(statement)"


def _reason(error: ValidationError) -> str:
    text = " ".join(error.message.split())
    if error.context:  # anyOf / oneOf: say what each alternative wanted
        subs = dict.fromkeys(" ".join(e.message.split()) for e in error.context)
        text += " (" + "; ".join(subs) + ")"
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "…"


def _label(index: int, statement: Any) -> str:
    sid = statement.get("statementId") if isinstance(statement, dict) else None
    return f"statement {index} (statementId {sid!r})" if isinstance(sid, str) else f"statement {index}"


def validate_statements(
    data: Any, *, schema_dir: Path | None = None, source: str = "input"
) -> list[dict[str, Any]]:
    """Check that ``data`` is a JSON array of valid BODS 0.4 statements with distinct statementIds.

    Raises :class:`BodsError` for the first bad statement:
    ``input: statement 3 (statementId '…'): recordDetails.interests[0].type: 'bribe' is not one of [...]``.
    """
    if not isinstance(data, list):
        raise BodsError(f"{source}: expected a JSON array of BODS statements, got {type(data).__name__}")
    validator = _validator(str(schema_dir or default_schema_dir()))
    seen: dict[str, int] = {}
    for index, statement in enumerate(data):
        error = best_match(validator.iter_errors(statement))
        if error is not None:
            raise BodsError(f"{source}: {_label(index, statement)}: {_where(error)}: {_reason(error)}")
        sid = str(statement["statementId"])
        if sid in seen:
            raise BodsError(
                f"{source}: {_label(index, statement)}: statementId repeats statement {seen[sid]}"
            )
        seen[sid] = index
    return list(data)


def check_beneficial_flags(
    statements: Sequence[dict[str, Any]], *, known: Mapping[str, str] | None = None, source: str = "input"
) -> None:
    """Refuse a relationship statement with an interest flagged ``beneficialOwnershipOrControl: true`` whose
    interested party is not a natural person (BODS 0.4, ``Interest.beneficialOwnershipOrControl``).

    ``known`` maps the recordIds already in the log to their latest ``recordType``; the array's own statements
    (the latest about each recordId) count too. An unspecified interested party (an object, not a recordId) is
    accepted: BODS uses it for a person who cannot be identified.
    """
    kinds = dict(known or {})
    for statement in statements:
        kinds[str(statement.get("recordId"))] = str(statement.get("recordType"))
    for index, statement in enumerate(statements):
        details = statement.get("recordDetails")
        if statement.get("recordType") != "relationship" or not isinstance(details, Mapping):
            continue
        flagged = [
            n
            for n, i in enumerate(details.get("interests") or [])
            if isinstance(i, Mapping) and i.get("beneficialOwnershipOrControl") is True
        ]
        party = details.get("interestedParty")
        if not flagged or not isinstance(party, str) or kinds.get(party) == "person":
            continue
        kind = kinds.get(party)
        what = f"an {kind} record" if kind in ("entity", "relationship") else "not a person record here or in the log"
        field = f"recordDetails.interests[{flagged[0]}].beneficialOwnershipOrControl"
        raise BodsError(
            f"{source}: {_label(index, statement)}: {field}: true needs a natural person as interested party "
            f"(BODS 0.4), but {party!r} is {what}"
        )


def read_statements(path: Path) -> Any:
    """Parse a JSON file (no validation); BodsError naming the file, line and column on bad JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BodsError(f"{path}: cannot read ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise BodsError(f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except UnicodeDecodeError:
        raise BodsError(f"{path}: not UTF-8 text") from None

