"""The EITI Summary Data Template's parts, derived from the ledger (pure functions).

We follow the **EITI Summary Data Template version 2** (the revised template the EITI Board adopted by decision
2019-33, required for data published from 1 July 2019; https://eiti.org/summary-data-template and the EITI
guidance "Collecting and publishing structured extractive sector data"). Its five worksheets are:

* **Part 1 — About** (basic country and data characteristics): country, fiscal year, period covered, currency,
  publication date, the publisher; here also the signed checkpoint the data come from;
* **Part 2 — Disclosure checklist** (contextual data, EITI Requirements 2–6, and whether systematically
  disclosed): the ledger holds no contextual data, so each item says which sheet discloses it or "not recorded";
* **Part 3 — Reporting entities**: government entities and companies, each by **identifier** (an org-id,
  :mod:`naef.ledger.orgids`; compared in Unicode NFC, never by name), with every name the ledger recorded for it;
* **Part 4 — Government revenues**: revenue by receiving government entity, IMF GFS 2014 code (validated at append,
  :mod:`naef.ledger.government_payments`) and stream, per fiscal year with its quarters;
* **Part 5 — Company data**: the same payments by company (payer identity), government entity, GFS code and
  stream, per fiscal year with its quarters and the volumes where recorded.

Beside them: the reconciliation of payer- against recipient-reported figures (EITI Requirement 4.9; NAEF's
payments to the MDF against the MDF's signed receipts, :mod:`naef.disclosure.eiti`) and **out of scope**: every
entry the EITI tables read that is not a company payment to a government entity nor a transfer to the MDF, with
the reason — nothing is dropped silently.

What counts as a company payment to government: a ``government_payment`` (payer → government entity, as recorded)
and a ``revenue_collected`` (the source → the NAEF collection account, a state vehicle; the source's org-id when
``source_id`` is recorded, else the identity is "not recorded" and the row keeps the source's name). The ledger
does not say which side reported a payment, so Parts 4 and 5 show the same entries in the template's two views.
An amount is "not recorded" (``None``: an empty cell, ``null`` in JSON) where no entry exists, never zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from naef.disclosure.model import MDF_NAME, parse_period
from naef.disclosure.orgid import Publisher
from naef.ledger.government_payments import ENTRY_GOVERNMENT_PAYMENT, GFS_2014_REVENUE
from naef.ledger.log import StoredEntry
from naef.ledger.orgids import org_id_key, split_org_id

__all__ = [
    "NAEF_ACCOUNT_ID",
    "TEMPLATE",
    "CompanyPayment",
    "OutOfScope",
    "Parts",
    "derive_parts",
]

TEMPLATE = "EITI Summary Data Template version 2 (EITI Board decision 2019-33, from 1 July 2019)"
NAEF_ACCOUNT_ID = "XE-EXAMPLE-NAEF"
"""Illustrative org-id of the NAEF collection account (``XE-EXAMPLE``: the org-id.guide prefix for examples)."""
NAEF_ACCOUNT = "NAEF collection account"
COLLECTION_STREAM = "net revenue collected"
MDF_STEP = "mdf_residual"
NOT_RECORDED = "not recorded"
COUNTRY = ("Mexico", "MEX")
FISCAL_YEAR = "calendar year (1 January - 31 December; Ley Federal de Presupuesto y Responsabilidad Hacendaria)"

CHECKLIST: tuple[tuple[str, str, str], ...] = (
    ("2.1-2.4", "legal framework, licences and contracts", NOT_RECORDED),
    ("2.5", "beneficial ownership", "not in these tables: the OC4IDS bundle publishes the BODS statements"),
    ("2.6", "state participation", NOT_RECORDED),
    ("3.1-3.3", "exploration, production and exports", "volumes in part_5 where a payment records one"),
    ("4.1", "comprehensive disclosure of taxes and revenues", "part_4 and part_5; out_of_scope lists the rest"),
    ("4.5", "state-owned enterprise transactions", "part_5 (payments by PEMEX group entities)"),
    ("4.7", "level of disaggregation", "part_5 by company, government entity, GFS code, stream and quarter"),
    ("4.9", "data quality: reconciliation", "reconciliation (NAEF's payments to the MDF against its receipts)"),
    ("5.1-5.3", "distribution and management of revenues", "reconciliation (the MDF's inflows by period)"),
    ("6.1-6.4", "social and economic spending", NOT_RECORDED),
)
"""Part 2: each requirement group of the template's checklist, and where this file discloses it."""


@dataclass(frozen=True)
class CompanyPayment:
    """One entry read as a company payment to a government entity."""

    index: int
    period: str
    fiscal_year: int
    quarter: int | None  # 1-4, None when the period spans more than one quarter (a half-year or a year)
    payer_id: str  # NFC; "" when the entry records no payer identity
    payer_name: str
    payee_id: str
    payee_name: str
    stream: str
    gfs_code: str
    amount_usd: Decimal
    volume_bbl: Decimal | None


@dataclass(frozen=True)
class OutOfScope:
    """An entry the EITI tables read that no part publishes, and why."""

    index: int
    type: str
    period: str
    amount_usd: Decimal
    reason: str


@dataclass(frozen=True)
class Parts:
    """The template's parts as tables: header row first, one list per row (cells are ``str``, ``Decimal``,
    ``int`` or ``None`` for "not recorded"); ``keys`` maps each table to its rows' record ids (first column)."""

    about: list[list[Any]]
    checklist: list[list[Any]]
    entities: list[list[Any]]
    government_revenues: list[list[Any]]
    company_data: list[list[Any]]
    out_of_scope: list[list[Any]]
    payments: tuple[CompanyPayment, ...]
    excluded: tuple[OutOfScope, ...]


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _amount(entry: StoredEntry) -> Decimal:
    return Decimal(_s(entry.payload.get("amount_usd")) or "0")


def _place(period: str) -> tuple[int, int | None] | None:
    """(fiscal year, quarter or None) of a period label; the fiscal year is the calendar year it starts in."""
    span = parse_period(period)
    if span is None:
        return None
    start, end = span
    quarter = (start.month - 1) // 3 + 1
    return start.year, quarter if (end.year, (end.month - 1) // 3 + 1) == (start.year, quarter) else None


def _volume(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def classify(entries: Sequence[StoredEntry]) -> tuple[list[CompanyPayment], list[OutOfScope], list[int]]:
    """The company payments, the out-of-scope entries and the indexes of the MDF flows (residuals paid to the MDF
    and its receipts, published in the reconciliation): every entry of the types the EITI tables read falls in
    exactly one of the three."""
    payments: list[CompanyPayment] = []
    excluded: list[OutOfScope] = []
    mdf: list[int] = []
    for e in sorted(entries, key=lambda x: x.index):
        p = e.payload
        period = _s(p.get("period"))
        if e.type == "mdf_receipt" or (e.type == "waterfall_payment" and p.get("step") == MDF_STEP):
            mdf.append(e.index)
            continue
        if e.type == "waterfall_payment":
            reason = (f"NAEF's payment to {_s(p.get('payee'))} (waterfall step {_s(p.get('step'))}): debt service, "
                      "fees or reserves, not a payment to a government entity (EITI Requirement 4.1)")
            excluded.append(OutOfScope(e.index, e.type, period, _amount(e), reason))
            continue
        if e.type not in (ENTRY_GOVERNMENT_PAYMENT, "revenue_collected"):
            continue
        placed = _place(period)
        if placed is None:
            reason = f"period {period!r} is not a quarter, half-year, month or year: no fiscal year to place it in"
            excluded.append(OutOfScope(e.index, e.type, period, _amount(e), reason))
            continue
        if e.type == ENTRY_GOVERNMENT_PAYMENT:
            payer, payee = _s(p.get("payer")), _s(p.get("payee"))
            bad = next((f for f, v in (("payer", payer), ("payee", payee)) if split_org_id(v) is None), None)
            if bad is not None:
                reason = (f"{bad} {_s(p.get(bad))!r} is not an organisation identifier (recorded before identities "
                          "were required): the template lists reporting entities by identifier")
                excluded.append(OutOfScope(e.index, e.type, period, _amount(e), reason))
                continue
            payments.append(CompanyPayment(
                e.index, period, *placed, org_id_key(payer), _s(p.get("payer_name")), org_id_key(payee),
                _s(p.get("payee_name")), _s(p.get("stream")), _s(p.get("gfs_code")), _amount(e),
                _volume(p.get("volume_bbl")),
            ))
        else:
            source_id = _s(p.get("source_id"))
            payments.append(CompanyPayment(
                e.index, period, *placed, org_id_key(source_id), _s(p.get("source")), NAEF_ACCOUNT_ID,
                NAEF_ACCOUNT, COLLECTION_STREAM, "", _amount(e), _volume(p.get("volume_bbl")),
            ))
    return payments, excluded, mdf


def _joined(indexes: Iterable[int]) -> str:
    return ";".join(str(i) for i in sorted(set(indexes)))


def _names(values: Iterable[str]) -> str:
    seen: list[str] = []
    for v in values:
        if v and v not in seen:
            seen.append(v)
    return "; ".join(seen)


ENTITY_COLUMNS = ("record_id", "entity_type", "identifier", "identifier_scheme", "names_recorded", "roles",
                  "ledger_entries")
REVENUE_COLUMNS = ("record_id", "fiscal_year", "government_entity_id", "gfs_code", "gfs_name", "revenue_stream",
                   "q1_usd", "q2_usd", "q3_usd", "q4_usd", "other_periods_usd", "fiscal_year_total_usd",
                   "volume_bbl", "volume_status", "currency", "ledger_entries")
COMPANY_COLUMNS = ("record_id", "fiscal_year", "company_id", "company_identity", "company_names",
                   *REVENUE_COLUMNS[2:])
OUT_OF_SCOPE_COLUMNS = ("record_id", "ledger_entry", "entry_type", "period", "amount_usd", "reason")


def _gfs_name(code: str) -> str:
    base = code.split("E")[0] if "E" in code else code
    return GFS_2014_REVENUE.get(base, NOT_RECORDED if not code else "")


def _amounts(group: Sequence[CompanyPayment]) -> list[Any]:
    """q1..q4, other periods, fiscal-year total (None where nothing was recorded), volume, volume status."""
    cells: list[Any] = []
    for q in (1, 2, 3, 4, None):
        these = [x.amount_usd for x in group if x.quarter == q]
        cells.append(sum(these, Decimal(0)) if these else None)
    cells.append(sum((x.amount_usd for x in group), Decimal(0)))
    stated = [x.volume_bbl for x in group if x.volume_bbl is not None]
    cells.append(sum(stated, Decimal(0)) if stated else None)
    if len(stated) == len(group):
        cells.append("recorded")
    else:
        cells.append(NOT_RECORDED if not stated else f"recorded for {len(stated)} of {len(group)} entries")
    return cells


def _grouped(payments: Sequence[CompanyPayment], key: Any) -> list[tuple[tuple[Any, ...], list[CompanyPayment]]]:
    groups: dict[tuple[Any, ...], list[CompanyPayment]] = {}
    for x in payments:
        groups.setdefault(key(x), []).append(x)
    return sorted(groups.items(), key=lambda kv: tuple(str(k) for k in kv[0]))


def derive_parts(
    entries: Sequence[StoredEntry], publisher: Publisher, checkpoint_text: tuple[str, int, str]
) -> Parts:
    """The template's parts from ``entries`` (any order; other types ignored), published by ``publisher``, from
    the checkpoint ``(origin, size, root hash hex)``."""
    payments, excluded, mdf = classify(entries)
    years = sorted({x.fiscal_year for x in payments})
    periods = [parse_period(x.period) for x in payments]
    starts = [s[0] for s in periods if s]
    ends = [s[1] for s in periods if s]
    origin, size, root = checkpoint_text
    about: list[list[Any]] = [
        ["field", "value"],
        ["template", TEMPLATE],
        ["country", COUNTRY[0]],
        ["country_iso3", COUNTRY[1]],
        ["fiscal_year", FISCAL_YEAR],
        ["fiscal_years_covered", ", ".join(str(y) for y in years) or NOT_RECORDED],
        ["period_start", min(starts).isoformat() if starts else NOT_RECORDED],
        ["period_end", max(ends).isoformat() if ends else NOT_RECORDED],
        ["reporting_currency", "USD"],
        ["publication_date", publisher.as_of or NOT_RECORDED],
        ["publisher_id", publisher.ref],
        ["publisher_name", MDF_NAME],
        ["data_source", f"naef transparency ledger {origin}, signed checkpoint size {size}, root {root}"],
    ]
    checklist: list[list[Any]] = [["requirement", "subject", "disclosed"], *[list(c) for c in CHECKLIST]]

    roles: dict[tuple[str, str], tuple[set[str], list[str], list[int]]] = {}

    def note(kind: str, ident: str, name: str, role: str, index: int | None) -> None:
        key = (kind, ident if ident else f"name:{name}")
        got = roles.setdefault(key, (set(), [], []))
        got[0].add(role)
        got[1].append(name)
        if index is not None:
            got[2].append(index)

    for x in payments:
        note("company", x.payer_id, x.payer_name, "payer", x.index)
        note("government entity", x.payee_id, x.payee_name, "receives company payments", x.index)
    residuals = {e.index for e in entries if e.type == "waterfall_payment"}
    for i in mdf:
        if i in residuals:
            note("government entity", NAEF_ACCOUNT_ID, NAEF_ACCOUNT, "pays the MDF its residual", i)
        note("government entity", org_id_key(publisher.ref), MDF_NAME, "receives NAEF's residual", i)
    entities: list[list[Any]] = [list(ENTITY_COLUMNS)]
    for (kind, key), (role_set, names, leaves) in sorted(roles.items()):
        ident = "" if key.startswith("name:") else key
        split = split_org_id(ident) if ident else None
        entities.append([
            f"{kind}|{key}", kind, ident or None, split[0] if split else NOT_RECORDED, _names(names),
            "; ".join(sorted(role_set)), _joined(leaves),
        ])

    revenues: list[list[Any]] = [list(REVENUE_COLUMNS)]
    for (year, payee, gfs, stream), group in _grouped(
        payments, lambda x: (x.fiscal_year, x.payee_id, x.gfs_code, x.stream)
    ):
        rid = f"{year}|{payee}|{gfs}|{stream}"
        revenues.append([rid, year, payee, gfs or None, _gfs_name(gfs), stream, *_amounts(group), "USD",
                         _joined(x.index for x in group)])
    company: list[list[Any]] = [list(COMPANY_COLUMNS)]
    for (year, payer, name, payee, gfs, stream), group in _grouped(
        payments,
        lambda x: (x.fiscal_year, x.payer_id, "" if x.payer_id else x.payer_name, x.payee_id, x.gfs_code,
                   x.stream),
    ):
        identity = "org-id" if payer else f"{NOT_RECORDED} (name as recorded)"
        rid = f"{year}|{payer or 'name:' + name}|{payee}|{gfs}|{stream}"
        company.append([rid, year, payer or None, identity, _names(x.payer_name for x in group), payee,
                        gfs or None, _gfs_name(gfs), stream, *_amounts(group), "USD",
                        _joined(x.index for x in group)])
    out: list[list[Any]] = [list(OUT_OF_SCOPE_COLUMNS)]
    for o in excluded:
        out.append([f"entry {o.index}", o.index, o.type, o.period, o.amount_usd, o.reason])
    return Parts(about, checklist, entities, revenues, company, out, tuple(payments), tuple(excluded))
