"""Typed entries of the control system's log, and their canonical bytes.

An entry is the RFC 8785 (JSON Canonicalization Scheme) serialisation of the envelope

    {"payload": {...}, "time": "2031-03-31T00:00:00Z", "type": "revenue_collected"}

* ``type`` names a registered entry type; ``payload`` is validated by that type's pydantic model (unknown
fields   are refused) and stored in the model's JSON form (money as decimal *strings* with two decimals,
dates as ISO   8601 strings), so equal payloads always give equal bytes;
* ``time`` is when the operation was recorded, RFC 3339 in UTC with a ``Z`` (microseconds only when non-zero);
  the log sets it to the time of the append unless the caller supplies one (imports, the demo).

The Merkle leaf is ``leaf_hash(canonical bytes)`` (RFC 9162 §2.1.1). The entry's index is its position in the
log, not part of its bytes. Other modules add types with :func:`register_entry_type`.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import repeat
from operator import itemgetter
from types import NoneType
from typing import Annotated, Any, Literal

import rfc8785
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from naef.ledger.errors import LedgerError
from naef.ledger.merkle import leaf_hash
from naef.ledger.orgids import check_org_id

__all__ = [
    "BASE_ENTRY_TYPES",
    "GOVERNED_ENTRY_TYPES",
    "BenchmarkFlag",
    "BeneficialOwnershipStatement",
    "CanonicalRows",
    "DisbursementApproved",
    "DisbursementExecuted",
    "DisbursementProposed",
    "DisbursementRefused",
    "Entry",
    "GovernanceRegistered",
    "InterestDeclaration",
    "Payload",
    "ProjectMilestone",
    "RevenueCollected",
    "SecuritiesIssued",
    "Usd",
    "WaterfallPayment",
    "canonical_json",
    "canonical_rows",
    "decode_entry",
    "entry_model",
    "entry_types",
    "format_time",
    "load_extensions",
    "make_entries",
    "make_entry",
    "register_entry_type",
]

_CENT = Decimal("0.01")


def _to_cents(value: Decimal) -> Decimal:
    """``value`` with exactly two decimals; refused unless finite and a whole number of cents (one quantize)."""
    if not value.is_finite():
        raise ValueError("must be a finite amount")
    cents = value.quantize(_CENT)
    if value != cents:
        raise ValueError("must have at most two decimal places")
    return cents


Usd = Annotated[Decimal, Field(ge=0, le=Decimal("1e15")), AfterValidator(_to_cents)]
"""US dollars, exact to the cent, stored as a decimal string such as ``"1250000.00"``."""

Rate = Annotated[Decimal, Field(ge=0, le=1)]
"""A fraction per year (0.065 = 6.5 %), stored as a decimal string."""

Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=10_000)]


class Payload(BaseModel):
    """Base of every payload model: immutable, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class SecuritiesIssued(Payload):
    """NAEF securities sold to investors (one tranche)."""

    tranche: Name
    amount_usd: Usd
    coupon_rate: Rate
    issue_date: date
    maturity_date: date
    isin: Name | None = None


class RevenueCollected(Payload):
    """Revenue reaching the NAEF collection account in a period."""

    period: Name
    amount_usd: Usd
    source: Name
    volume_bbl: Decimal | None = Field(default=None, ge=0)
    reference: Name | None = None
    source_id: Name | None = None
    """The payer's organisation identifier (:mod:`naef.ledger.orgids`); ``source`` is its name as stated. Optional
    (entries before it existed have none: the EITI tables then show the payer's identity as not recorded)."""

    @field_validator("source_id")
    @classmethod
    def _an_identity(cls, value: str | None) -> str | None:
        return None if value is None else check_org_id(value)


class WaterfallPayment(Payload):
    """One step of the payment waterfall (fees, interest, principal, reserves, MDF residual)."""

    period: Name
    step: Name
    payee: Name
    amount_usd: Usd
    tranche: Name | None = None


class DisbursementProposed(Payload):
    """An MDF disbursement proposed by a stakeholder; money moves only after approvals and execution."""

    proposal_id: Name
    project_id: Name
    payee: Name
    amount_usd: Usd
    purpose: Text
    proposer: Name
    details: dict[str, JsonValue] = Field(default_factory=dict)


class DisbursementApproved(Payload):
    """One stakeholder's approval: an Ed25519 signature (base64) over the canonical proposal."""

    proposal_id: Name
    approver: Name
    signature: Name
    justification: Text | None = None


class DisbursementRefused(Payload):
    """A refusal (by a stakeholder or by a rule such as a conflict of interest), with its reason."""

    proposal_id: Name
    reason: Text
    by: Name | None = None
    details: dict[str, JsonValue] = Field(default_factory=dict)


class DisbursementExecuted(Payload):
    """Money actually paid out on an approved proposal."""

    proposal_id: Name
    amount_usd: Usd
    executed_by: Name
    reference: Name | None = None


MilestoneType = Literal[
    "preProcurement", "approval", "engagement", "assessment", "delivery", "reporting", "financing", "payment",
    "procurement", "contractClose",
]
"""The OC4IDS 0.9.4 ``milestoneType`` codelist (``codelists/milestoneType.csv``: OCDS core codes plus ``procurement``
and ``contractClose`` of the OCDS for PPPs extension)."""


class ProjectMilestone(Payload):
    """Progress of an MDF project."""

    project_id: Name
    milestone: Name
    status: Literal["planned", "started", "reached", "missed", "cancelled"]
    on: date
    evidence: Text | None = None
    milestone_type: MilestoneType | None = None
    """What kind of milestone, a code of the OC4IDS 0.9.4 / OCDS ``milestoneType`` codelist (CoST IDS publishes it);
    optional — a milestone recorded without it is published without a type."""


class InterestDeclaration(Payload):
    """An official's declaration of interests (entities in which the declarant has an interest)."""

    declarant: Name
    interests: list[Name]
    declared_on: date
    details: dict[str, JsonValue] = Field(default_factory=dict)


class BeneficialOwnershipStatement(Payload):
    """One BODS 0.4 statement (schema validation is done by the importer before appending)."""

    statement: dict[str, JsonValue]


class BenchmarkFlag(Payload):
    """A unit cost outside the reference range, with the recorded justification if any."""

    proposal_id: Name
    project_type: Name
    unit_cost_usd: Decimal = Field(ge=0)
    range_low_usd: Decimal = Field(ge=0)
    range_high_usd: Decimal = Field(ge=0)
    justification: Text | None = None


class GovernanceRegistered(Payload):
    """The governance in force: stakeholders (with roles and public keys) and the disbursement quorum
    rules."""

    stakeholders: list[dict[str, JsonValue]]
    rules: dict[str, JsonValue] = Field(default_factory=dict)


GOVERNED_ENTRY_TYPES: frozenset[str] = frozenset(
    {
        "governance_registered",
        "disbursement_proposed",
        "disbursement_approved",
        "disbursement_refused",
        "disbursement_executed",
        "benchmark_flag",
        "beneficial_ownership_statement",
        "interest_declaration",
        "mdf_receipt",
        "governance_amended",
    }
)
"""Entry types the storage layer appends only after the control system's rules (:mod:`naef.ledger.approvals`)
admitted them, whichever way they arrive (:meth:`naef.ledger.log.LedgerTransaction.append`)."""

BASE_ENTRY_TYPES: Mapping[str, type[Payload]] = {
    "securities_issued": SecuritiesIssued,
    "revenue_collected": RevenueCollected,
    "waterfall_payment": WaterfallPayment,
    "disbursement_proposed": DisbursementProposed,
    "disbursement_approved": DisbursementApproved,
    "disbursement_refused": DisbursementRefused,
    "disbursement_executed": DisbursementExecuted,
    "project_milestone": ProjectMilestone,
    "interest_declaration": InterestDeclaration,
    "beneficial_ownership_statement": BeneficialOwnershipStatement,
    "benchmark_flag": BenchmarkFlag,
    "governance_registered": GovernanceRegistered,
}

_REGISTRY: dict[str, type[BaseModel]] = dict(BASE_ENTRY_TYPES)
_TYPE_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def register_entry_type(name: str, model: type[BaseModel], *, replace: bool = False) -> None:
    """Add (or, with ``replace``, redefine) an entry type. Names are ``[a-z0-9_]``, 1–64 characters.

    Existing entries are never re-validated, so a replacement model only governs new appends.
    """
    if not name or len(name) > 64 or not set(name) <= _TYPE_NAME_CHARS:
        raise LedgerError(f"entry type {name!r}: names are 1-64 characters of a-z, 0-9 and _")
    if name in _REGISTRY and not replace and _REGISTRY[name] is not model:
        raise LedgerError(f"entry type {name!r}: already registered (pass replace=True to redefine it)")
    _REGISTRY[name] = model


_EXTENSION_MODULES = (
    "naef.ledger.governance",
    "naef.ledger.approvals",
    "naef.ledger.interests",
    "naef.ledger.bods",
    "naef.ledger.benchmarking",
    "naef.ledger.government_payments",
)
_extensions_loaded = False


def load_extensions() -> None:
    """Import the sibling modules that register entry types (once), so a lookup by name finds them."""
    global _extensions_loaded
    if _extensions_loaded:
        return
    _extensions_loaded = True
    for module in _EXTENSION_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def entry_types() -> Mapping[str, type[BaseModel]]:
    """The registered entry types, including those of the sibling modules that register their own."""
    load_extensions()
    return dict(_REGISTRY)


def entry_model(name: str) -> type[BaseModel]:
    """The payload model of entry type ``name``; ``LedgerError`` if unknown.

    The sibling modules that register (or refine) payload models are always loaded first, so a type's model does
    not depend on which modules the process happened to import before.
    """
    load_extensions()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise LedgerError(f"type: unknown entry type {name!r} (known: {known})") from None


# ------------------------------------------------------------------------------------------ canonical


_MAX_SAFE_INT = 2**53 - 1


def _simple(value: Any) -> bool:
    """True when ``json.dumps(sort_keys=True)`` is already RFC 8785 output for ``value``.

    That holds for ASCII object keys (code-point order = UTF-16 order), ASCII strings (same escapes: the short
    forms and ``\\u00xx`` in lower case), integers of magnitude ``<= 2**53 - 1`` (ES6 prints them as
    integers), booleans and null. Anything else (floats, non-ASCII text, big integers) goes through
    ``rfc8785``.
    """
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is str:
            if not v.isascii():
                return False
        elif t is dict:
            for k, x in v.items():
                if type(k) is not str or not k.isascii():
                    return False
                stack.append(x)
        elif t is list:
            stack.extend(v)
        elif t is int:
            if not -_MAX_SAFE_INT <= v <= _MAX_SAFE_INT:
                return False
        elif v is not None and t is not bool:
            return False
    return True


_FAST_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON of ``value`` (dicts, lists, str, int, float, bool, None) as UTF-8 bytes."""
    if _simple(value):
        return _sorted_compact(value).encode("utf-8")
    try:
        return bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise LedgerError(f"payload: cannot be written as canonical JSON ({exc})") from exc


# ------------------------------------------------------------------------------------------ entries


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with ``Z``; microseconds only when non-zero. Naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise LedgerError("time: must carry a time zone (e.g. 2031-03-31T00:00:00Z)")
    moment = moment.astimezone(UTC)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return moment.strftime(fmt)


_STAMP_CACHE: dict[str, str] = {}


def _parse_time(value: datetime | str) -> str:
    if isinstance(value, str):
        cached = _STAMP_CACHE.get(value)
        if cached is not None:
            return cached
    if isinstance(value, datetime):
        return format_time(value)
    try:
        stamp = format_time(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError as exc:
        raise LedgerError(f"time: {value!r} is not an RFC 3339 date-time") from exc
    if len(_STAMP_CACHE) > 4096:
        _STAMP_CACHE.clear()
    _STAMP_CACHE[value] = stamp
    return stamp


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry: its type, time, payload (JSON form), canonical bytes and RFC 9162 leaf hash."""

    type: str
    time: str
    payload: Mapping[str, Any]
    canonical: bytes
    leaf_hash: bytes


def _error_location(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    return f"payload.{loc}: {first['msg']}" if loc else f"payload: {first['msg']}"


def make_entry(entry_type: str, payload: Mapping[str, Any] | BaseModel, *, time: datetime | str | None = None) -> Entry:
    """Validate ``payload`` against the type's model and build the entry's canonical bytes and leaf hash.

    Raises ``LedgerError`` naming the type and the first bad field (e.g. ``payload.amount_usd``).
    """
    model = entry_model(entry_type)
    try:
        if isinstance(payload, BaseModel):
            if not isinstance(payload, model):
                raise LedgerError(f"payload: a {type(payload).__name__} is not a {entry_type} payload")
            validated = payload
        else:
            if not isinstance(payload, Mapping):
                raise LedgerError(f"payload: must be a JSON object for entry type {entry_type!r}")
            validated = model.model_validate(payload)
    except ValidationError as exc:
        raise LedgerError(f"entry {entry_type}: {_error_location(exc)}") from None
    data = validated.model_dump(mode="json", exclude_none=True)
    stamp = format_time(datetime.now(UTC)) if time is None else _parse_time(time)
    # The envelope's keys are ASCII and already in order, the type is [a-z0-9_] and the stamp ASCII digits and
    # punctuation, so splicing the canonical payload in gives the RFC 8785 form of the whole envelope.
    canonical = b'{"payload":%s,"time":"%s","type":"%s"}' % (
        canonical_json(data),
        stamp.encode(),
        entry_type.encode(),
    )
    return Entry(entry_type, stamp, data, canonical, leaf_hash(canonical))


_TYPED_KEYS = ("type", "$ref", "anyOf", "oneOf", "allOf", "enum", "const")


def _schema_is_textual(node: Any) -> bool:
    """True when a JSON Schema (serialization mode) admits only strings, booleans, null, and arrays and objects of
    them: no ``number`` or ``integer`` anywhere, no enum or const of another kind, and no untyped (any-value)
    position. Conservative: whatever it does not recognise makes it False."""
    if isinstance(node, list):
        return all(_schema_is_textual(x) for x in node)
    if not isinstance(node, dict):
        return True
    kind = node.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "number" in kinds or "integer" in kinds:
        return False
    if any(not (v is None or isinstance(v, str | bool)) for v in node.get("enum", [])):
        return False
    if "const" in node and not (node["const"] is None or isinstance(node["const"], str | bool)):
        return False
    for key in ("properties", "$defs", "definitions", "patternProperties"):
        for sub in (node.get(key) or {}).values():
            if not (isinstance(sub, dict) and any(k in sub for k in _TYPED_KEYS)) or not _schema_is_textual(sub):
                return False
    for key in ("items", "additionalProperties", "prefixItems", "anyOf", "oneOf", "allOf"):
        if key not in node:
            continue
        sub = node[key]
        if key == "additionalProperties" and sub is False:
            continue
        subs = sub if isinstance(sub, list) else [sub]
        if not all(isinstance(x, dict) and any(k in x for k in _TYPED_KEYS) for x in subs):
            return False
        if not _schema_is_textual(subs):
            return False
    return True


def _no_default(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _c_sorted_compact() -> Callable[[Any, int], Sequence[str]] | None:
    """The C encoder behind ``_FAST_ENCODER`` with the same settings, made once (``JSONEncoder.iterencode`` makes a
    new one on every call); no circular-reference check (the values are pydantic's JSON form, a tree). ``None``
    on a CPython without its ``_json`` accelerator."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython without its _json accelerator
        return None
    encoder: Callable[[Any, int], Sequence[str]] = make(
        None, _no_default, json.encoder.encode_basestring, None, ":", ",", True, False, True)
    return encoder


_C_SORTED_COMPACT = _c_sorted_compact()


def _encode_each(values: Iterable[Any]) -> Iterator[str]:
    """``_FAST_ENCODER.encode(v)`` for each of ``values``, lazily; with the C encoder the loop runs in C (``map``:
    no Python frame per value)."""
    if _C_SORTED_COMPACT is None:  # pragma: no cover - CPython without its _json accelerator
        return map(_FAST_ENCODER.encode, values)
    return map("".join, map(_C_SORTED_COMPACT, values, repeat(0)))


def _sorted_compact(value: Any) -> str:
    """``_FAST_ENCODER.encode(value)``, by the C encoder made once (:func:`_c_sorted_compact`)."""
    if _C_SORTED_COMPACT is None:  # pragma: no cover - CPython without its _json accelerator
        return _FAST_ENCODER.encode(value)
    return "".join(_C_SORTED_COMPACT(value, 0))


_TEXTUAL_FIELDS: dict[type[BaseModel], frozenset[str]] = {}


def _textual_fields(model: type[BaseModel]) -> frozenset[str]:
    """The top-level fields of ``model`` whose JSON form holds only text, booleans and null
    (:func:`_schema_is_textual` on each property; a property that refers to shared definitions counts only when
    every definition is textual). Cached; a model pydantic cannot describe has none."""
    known = _TEXTUAL_FIELDS.get(model)
    if known is not None:
        return known
    try:
        schema = model.model_json_schema(mode="serialization")
        defs = [*(schema.get("$defs") or {}).values(), *(schema.get("definitions") or {}).values()]
        defs_textual = all(isinstance(d, dict) and _schema_is_textual(d) for d in defs)
        known = frozenset(
            name
            for name, sub in (schema.get("properties") or {}).items()
            if isinstance(sub, dict)
            and any(k in sub for k in _TYPED_KEYS)
            and _schema_is_textual(sub)
            and (defs_textual or "$ref" not in json.dumps(sub))
        )
    except Exception:  # a model pydantic cannot describe: take the general path
        known = frozenset()
    _TEXTUAL_FIELDS[model] = known
    return known


_LIST_ADAPTERS: dict[type[BaseModel], TypeAdapter[list[Any]]] = {}


def _list_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    """``TypeAdapter(list[model])``, cached: validates a list of dicts in one call, each item by ``model``'s own
    validator."""
    adapter = _LIST_ADAPTERS.get(model)
    if adapter is None:
        adapter = _LIST_ADAPTERS[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    return adapter


_HASH_DIGEST = type(hashlib.sha256()).digest
_AFTER_FIRST_BYTE = itemgetter(slice(1, None))
_TEXT_TYPES = frozenset({str, bool, NoneType})


def _ascii_rows(forms: list[Any], textual: frozenset[str], tail: str) -> tuple[list[bytes], list[bytes]] | None:
    """The canonical bytes and leaf hashes of the JSON forms ``forms`` (each a ``dict``) with the envelope's
    ``tail`` (``,"time":…,"type":…}``), when the whole chunk is on the fast path of :func:`canonical_rows` —
    sorted, compact ``json`` output all ASCII and every value outside ``textual`` passing :func:`_simple` — else
    ``None`` (the caller then takes each entry on its own).

    The same bytes at less cost per entry: one string for the chunk — for each form the byte 0x00,
    ``{"payload":``, its text and the tail, joined by line feeds — tested once for ASCII, encoded once and split at
    the line feeds. ``json`` writes a control character in a string or key only escaped (a short escape or
    ``u00xx`` after a backslash) and no line feed between tokens without ``indent``, and the tail is ASCII without
    one, so the pieces are the entries, each with the leaf prefix 0x00 in front: its SHA-256 is the leaf hash
    (RFC 9162 §2.1.1) and the rest the canonical bytes. Encoding, splitting and hashing run through ``map`` (no
    Python frame per entry)."""
    if not all(type(f) is dict for f in forms):
        return None
    head = '\x00{"payload":'
    text = head + (tail + "\n" + head).join(_encode_each(forms)) + tail
    if not text.isascii():  # a string or key outside ASCII: RFC 8785 orders and escapes it otherwise (§3.2.3)
        return None
    for name in set().union(*forms) - textual:  # numbers: §3.2.2.3 (ASCII text and booleans pass _simple)
        values = list(map(dict.get, forms, repeat(name)))
        if not set(map(type, values)) <= _TEXT_TYPES and not all(map(_simple, values)):
            return None
    prefixed = text.encode("ascii").split(b"\n")
    if len(prefixed) != len(forms):  # pragma: no cover - json never writes a bare line feed (docstring)
        return None
    return list(map(_AFTER_FIRST_BYTE, prefixed)), list(map(_HASH_DIGEST, map(hashlib.sha256, prefixed)))


@dataclass(frozen=True, slots=True)
class CanonicalRows:
    """Entries of one type and time as columns: ``payloads[k]`` (JSON form), ``canonicals[k]`` (bytes) and
    ``leaves[k]`` (``leaf_hash(canonicals[k])``) are entry ``k``'s."""

    entry_type: str
    time: str
    payloads: list[Mapping[str, Any]]
    canonicals: list[bytes]
    leaves: list[bytes]


def canonical_rows(
    entry_type: str, payloads: Sequence[Mapping[str, Any] | BaseModel], *, time: str
) -> CanonicalRows:
    """The payload JSON forms, canonical bytes and leaf hashes of ``payloads``, exactly as :func:`make_entry`
    makes them (same bytes, same checks, same errors) at less cost per entry — the batch path of
    ``append_batch``.

    The model, validator, serializer and time are looked up once; a list of dicts is validated and put in its
    JSON form in one call each of ``TypeAdapter(list[model])`` (each item by the model's own validator and
    serializer; on any validation error, item by item again, so the error is the first bad item's, worded as
    :func:`make_entry` words it); and the RFC 8785 test of :func:`canonical_json` is cut short: the sorted,
    compact ``json`` output *is* the RFC 8785 form when it is ASCII and every field outside :func:`_textual_fields`
    (numbers) passes :func:`_simple` — RFC 8785 §3.2.2.2: ASCII strings take JSON's short escapes and ``\\u00xx``
    in lower case, as ``json`` writes them; §3.2.2.3: integers of magnitude at most 2**53 - 1 print as integers;
    §3.2.3: keys sorted by UTF-16 code units, which for ASCII is ``sorted``. Anything else takes
    :func:`canonical_json`. A payload that is not a ``dict`` goes through :func:`make_entry`.
    """
    model = entry_model(entry_type)
    validate = model.__pydantic_validator__.validate_python
    to_python = model.__pydantic_serializer__.to_python
    textual = _textual_fields(model)
    encode = _sorted_compact
    simple = _simple
    stamp = _parse_time(time)
    tail = b',"time":"%s","type":"%s"}' % (stamp.encode(), entry_type.encode())
    forms: list[Any] | None = None  # the JSON forms of all the payloads, when all are dicts and all valid
    if all(type(p) is dict for p in payloads):
        adapter = _list_adapter(model)
        try:
            forms = adapter.dump_python(adapter.validate_python(payloads), mode="json", exclude_none=True)
        except ValidationError:
            forms = None  # item by item below: the first bad item's error, worded as make_entry words it
        if forms is not None:
            made = _ascii_rows(forms, textual, tail.decode("ascii")) if tail.isascii() else None
            if made is not None:
                return CanonicalRows(entry_type, stamp, forms, *made)
    data_out: list[Mapping[str, Any]] = []
    canonicals: list[bytes] = []
    keep = data_out.append
    append = canonicals.append
    for k, payload in enumerate(payloads):
        if forms is not None:
            data = forms[k]
        elif type(payload) is not dict:
            e = make_entry(entry_type, payload, time=stamp)
            keep(e.payload)
            append(e.canonical)
            continue
        else:
            try:
                data = to_python(validate(payload), mode="json", exclude_none=True)
            except ValidationError as exc:
                raise LedgerError(f"entry {entry_type}: {_error_location(exc)}") from None
        keep(data)
        text = encode(data)
        if text.isascii() and (data.keys() <= textual or all(simple(data[name]) for name in data.keys() - textual)):
            append(b'{"payload":' + text.encode("ascii") + tail)
        else:
            append(b'{"payload":' + canonical_json(data) + tail)
    sha256 = hashlib.sha256
    leaves = [sha256(b"\x00" + c).digest() for c in canonicals]  # leaf_hash, RFC 9162 §2.1.1
    return CanonicalRows(entry_type, stamp, data_out, canonicals, leaves)


def make_entries(
    entry_type: str, payloads: Sequence[Mapping[str, Any] | BaseModel], *, time: str
) -> list[Entry]:
    """``[make_entry(entry_type, p, time=time) for p in payloads]`` with the same bytes, the same checks and the
    same errors, at less cost per entry (:func:`canonical_rows`)."""
    rows = canonical_rows(entry_type, payloads, time=time)
    return [Entry(entry_type, rows.time, *row) for row in zip(rows.payloads, rows.canonicals, rows.leaves, strict=True)]


def decode_entry(canonical: bytes) -> Entry:
    """Read stored canonical bytes back into an :class:`Entry` (checks the envelope, not the payload
    model)."""
    try:
        obj = json.loads(canonical.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LedgerError(f"entry bytes are not UTF-8 JSON ({exc})") from exc
    if not isinstance(obj, dict) or set(obj) != {"payload", "time", "type"}:
        raise LedgerError("entry bytes: expected an object with exactly payload, time and type")
    if not isinstance(obj["type"], str) or not isinstance(obj["time"], str) or not isinstance(obj["payload"], dict):
        raise LedgerError("entry bytes: type and time must be strings and payload an object")
    return Entry(obj["type"], obj["time"], obj["payload"], bytes(canonical), leaf_hash(canonical))
