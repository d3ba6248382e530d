"""EITI-style revenue tables derived from the ledger: ``eiti-revenue.csv`` and ``eiti-revenue.xlsx``.

Three flows, each by period and revenue stream (EITI Standard 2019, Requirement 4.1 on comprehensive disclosure
of taxes and revenues, 4.5 on state-owned enterprise transactions and 4.7 on level of disaggregation):

* ``pemex_to_government`` — ``government_payment`` entries (:mod:`naef.ledger.government_payments`): payer, government
  payee, stream and GFS code as recorded;
* ``pemex_to_naef`` — ``revenue_collected`` entries whose ``source`` is PEMEX (``PEMEX``, ``PEMEX ...`` or
  ``PEMEX-...`` such as ``PEMEX-PMI``, its trading arm):
  revenue reaching the NAEF collection account, stream ``net revenue collected``;
* ``other_to_naef`` — every other ``revenue_collected`` entry (another buyer, a payer name that is not PEMEX's): a
  collection is never dropped by a name filter;
* ``naef_to_mdf`` — ``waterfall_payment`` entries of step ``mdf_residual``: the residual NAEF pays the MDF.

Entries with the same flow, period, payer, payee, stream and GFS code are summed into one row; each row names its
ledger entries (``ledger_entries``, ``;``-separated) and the checkpoint (``checkpoint_size``,
``checkpoint_root``). Rows come by flow, then period (chronological), payer, payee, stream.

The CSV has amounts as decimal strings with two decimals. The workbook has one sheet per flow with the same
columns (amounts and sizes as numbers, ``#,##0.00``; period dates as dates), a ``by_period`` sheet with the flows'
totals per period (an empty cell where a flow has no entry in the period: "not recorded", not zero), and a
``checkpoint`` sheet (origin, size, root hash, signed note). The workbook is byte-for-byte reproducible (fixed
document properties and zip timestamps).

The **EITI Summary Data Template** (version 2; :mod:`naef.disclosure.eiti_template`): the workbook also carries its
parts — ``part_1_about``, ``part_2_checklist``, ``part_3_entities`` (reporting entities by org-id),
``part_4_gov_revenues`` (by government entity and GFS 2014 code), ``part_5_company_data`` (by company), each per
fiscal year with its quarters and volumes — and ``out_of_scope`` (every entry read that no part publishes, with
the reason); ``eiti-summary-data.json`` carries the same parts, the reconciliation and the fiscal-year totals
(amounts exact decimal strings, ``null`` = not recorded). Every row is a record re-derived by ``verify-bundle``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.writer.excel import ExcelWriter

from naef.disclosure.common import (
    ExportCheckpoint,
    Record,
    Rendered,
    first_difference,
    format_usd,
    latest_time,
    shown,
)
from naef.disclosure.eiti_template import TEMPLATE, Parts, derive_parts
from naef.disclosure.errors import DisclosureError
from naef.disclosure.model import parse_period, period_sort_key
from naef.disclosure.orgid import MDF_PUBLISHER, Publisher
from naef.ledger.government_payments import ENTRY_GOVERNMENT_PAYMENT
from naef.ledger.log import StoredEntry

__all__ = [
    "COLUMNS",
    "CSV_FILE",
    "FLOWS",
    "INPUT_TYPES",
    "JSON_FILE",
    "NAME",
    "PART_SHEETS",
    "XLSX_FILE",
    "RevenueRow",
    "compare",
    "render",
    "revenue_rows",
]

NAME = "eiti"
CSV_FILE = "eiti-revenue.csv"
XLSX_FILE = "eiti-revenue.xlsx"
JSON_FILE = "eiti-summary-data.json"
PART_SHEETS: dict[str, str] = {
    "part_1_about": "part_1_about",
    "part_2_checklist": "part_2_disclosure_checklist",
    "part_3_entities": "part_3_reporting_entities",
    "part_4_gov_revenues": "part_4_government_revenues",
    "part_5_company_data": "part_5_company_data",
    "out_of_scope": "out_of_scope",
}
"""The EITI Summary Data Template's parts (:mod:`naef.disclosure.eiti_template`): workbook sheet → JSON member."""
_TABLE_RECORD = {"part_3_entities": "part 3 ", "part_4_gov_revenues": "part 4 ", "part_5_company_data": "part 5 ",
                 "out_of_scope": "out of scope "}
_WHOLE = {"part_1_about": "eiti part 1 about", "part_2_checklist": "eiti part 2 checklist"}
ENTRY_RECEIPT = "mdf_receipt"
INPUT_TYPES: frozenset[str] = frozenset(
    {"revenue_collected", "waterfall_payment", ENTRY_GOVERNMENT_PAYMENT, ENTRY_RECEIPT}
)
RECONCILIATION_COLUMNS: tuple[str, ...] = (
    "period",
    "paid_by_naef_usd",
    "received_by_mdf_usd",
    "difference_usd",
    "status",
    "ledger_entries",
)
"""The reconciliation sheet: per period, what NAEF reports paying the MDF (``waterfall_payment`` of step
``mdf_residual``) against what the MDF reports receiving (``mdf_receipt`` of that period, signed by its recorder)
— the EITI's reconciliation of payer- against recipient-reported figures (EITI Standard 2019, Requirement 4.9)."""
FLOWS: tuple[str, ...] = ("pemex_to_government", "pemex_to_naef", "other_to_naef", "naef_to_mdf")
COLUMNS: tuple[str, ...] = (
    "record_id",
    "flow",
    "period",
    "period_start",
    "period_end",
    "payer",
    "payee",
    "revenue_stream",
    "gfs_code",
    "amount_usd",
    "currency",
    "ledger_entries",
    "checkpoint_size",
    "checkpoint_root",
)
BY_YEAR_COLUMNS: tuple[str, ...] = ("fiscal_year", *(f"{flow}_usd" for flow in FLOWS), "ledger_entries")
BY_PERIOD_COLUMNS: tuple[str, ...] = (
    "period",
    "period_start",
    "period_end",
    *(f"{flow}_usd" for flow in FLOWS),
    "ledger_entries",
)
NAEF_ACCOUNT = "NAEF collection account"
MDF_STEP = "mdf_residual"
_HEADER = "eiti header"
_PEMEX = re.compile(r"PEMEX(?:[ -].*)?")
_MONEY = "#,##0.00"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class RevenueRow:
    """One row: a flow's payments of one period and stream, summed, with the entries summed."""

    flow: str
    period: str
    payer: str
    payee: str
    stream: str
    gfs_code: str
    amount_usd: Decimal
    leaves: tuple[int, ...]

    @property
    def record_id(self) -> str:
        """``flow|period|payer|payee|stream`` (plus ``|gfs`` when a GFS code is given)."""
        parts = [self.flow, self.period, self.payer, self.payee, self.stream]
        return "|".join([*parts, self.gfs_code] if self.gfs_code else parts)


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _classify(e: StoredEntry) -> tuple[str, str, str, str, str, str] | None:
    p = e.payload
    if e.type == ENTRY_GOVERNMENT_PAYMENT:
        return ("pemex_to_government", _s(p.get("period")), _s(p.get("payer")), _s(p.get("payee")),
                _s(p.get("stream")), _s(p.get("gfs_code")))
    if e.type == "revenue_collected":
        source = _s(p.get("source"))
        flow = "pemex_to_naef" if _PEMEX.fullmatch(source.upper()) else "other_to_naef"
        return (flow, _s(p.get("period")), source, NAEF_ACCOUNT, "net revenue collected", "")
    if e.type == "waterfall_payment" and p.get("step") == MDF_STEP:
        return ("naef_to_mdf", _s(p.get("period")), "NAEF", _s(p.get("payee")), MDF_STEP, "")
    return None


def revenue_rows(entries: Sequence[StoredEntry]) -> list[RevenueRow]:
    """The rows of the three flows from the entries (sums by flow, period, payer, payee, stream, GFS code)."""
    sums: dict[tuple[str, str, str, str, str, str], tuple[Decimal, list[int]]] = {}
    for e in sorted(entries, key=lambda x: x.index):
        key = _classify(e)
        if key is None:
            continue
        amount = Decimal(_s(e.payload.get("amount_usd", "0")) or "0")
        total, leaves = sums.get(key, (Decimal(0), []))
        sums[key] = (total + amount, [*leaves, e.index])
    rows = [RevenueRow(*key, total, tuple(sorted(leaves))) for key, (total, leaves) in sums.items()]
    return sorted(rows, key=lambda r: (FLOWS.index(r.flow), period_sort_key(r.period), r.payer, r.payee,
                                       r.stream, r.gfs_code))


def _span(row_period: str) -> tuple[date | None, date | None]:
    parsed = parse_period(row_period)
    return (None, None) if parsed is None else parsed


def _joined(leaves: Sequence[int]) -> str:
    return ";".join(str(i) for i in leaves)


def _csv(rows: Sequence[RevenueRow], checkpoint: ExportCheckpoint) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        start, end = _span(r.period)
        writer.writerow([
            r.record_id, r.flow, r.period, start.isoformat() if start else "", end.isoformat() if end else "",
            r.payer, r.payee, r.stream, r.gfs_code, format_usd(r.amount_usd), "USD", _joined(r.leaves),
            str(checkpoint.size), checkpoint.root_hash.hex(),
        ])
    return out.getvalue().encode("utf-8")


def _reconciliation(rows: Sequence[RevenueRow], receipts: Sequence[StoredEntry]) -> list[list[Any]]:
    """Per period: paid by NAEF to the MDF, received by the MDF, difference (paid − received) and status
    (``reconciled``, ``difference``, ``reported by NAEF only``, ``reported by the MDF only``); a side that
    recorded nothing is an empty cell ("not recorded"), never a zero."""
    paid: dict[str, tuple[Decimal, list[int]]] = {}
    for r in rows:
        if r.flow == "naef_to_mdf":
            total, leaves = paid.get(r.period, (Decimal(0), []))
            paid[r.period] = (total + r.amount_usd, [*leaves, *r.leaves])
    got: dict[str, tuple[Decimal, list[int]]] = {}
    for e in receipts:
        period = _s(e.payload.get("period"))
        total, leaves = got.get(period, (Decimal(0), []))
        got[period] = (total + Decimal(_s(e.payload.get("amount_usd", "0")) or "0"), [*leaves, e.index])
    out: list[list[Any]] = [list(RECONCILIATION_COLUMNS)]
    for period in sorted(set(paid) | set(got), key=period_sort_key):
        a, b = paid.get(period), got.get(period)
        if a is not None and b is not None:
            status = "reconciled" if a[0] == b[0] else "difference"
            difference: Decimal | None = a[0] - b[0]
        else:
            status = "reported by NAEF only" if b is None else "reported by the MDF only"
            difference = None
        leaves = sorted({*(a[1] if a else []), *(b[1] if b else [])})
        out.append([period, a[0] if a else None, b[0] if b else None, difference, status, _joined(leaves)])
    return out


def _sheet_rows(
    rows: Sequence[RevenueRow],
    checkpoint: ExportCheckpoint,
    receipts: Sequence[StoredEntry] = (),
    parts: Parts | None = None,
) -> dict[str, list[list[Any]]]:
    """The workbook's cell values, sheet by sheet (header row first)."""
    sheets: dict[str, list[list[Any]]] = {flow: [list(COLUMNS)] for flow in FLOWS}
    for r in rows:
        start, end = _span(r.period)
        sheets[r.flow].append([
            r.record_id, r.flow, r.period, start, end, r.payer, r.payee, r.stream, r.gfs_code or None,
            r.amount_usd, "USD", _joined(r.leaves), checkpoint.size, checkpoint.root_hash.hex(),
        ])
    periods = sorted({r.period for r in rows}, key=period_sort_key)
    by_period: list[list[Any]] = [list(BY_PERIOD_COLUMNS)]
    for period in periods:
        these = [r for r in rows if r.period == period]
        start, end = _span(period)
        # "not recorded" is an empty cell, never a zero: zero would say that nothing was paid
        totals = [
            sum((r.amount_usd for r in these if r.flow == flow), Decimal(0))
            if any(r.flow == flow for r in these)
            else None
            for flow in FLOWS
        ]
        leaves = sorted({i for r in these for i in r.leaves})
        by_period.append([period, start, end, *totals, _joined(leaves)])
    sheets["by_period"] = by_period
    # fiscal-year totals (Mexico's fiscal year is the calendar year, Ley Federal de Presupuesto y
    # Responsabilidad Hacendaria art. 2): the year a period starts in; "not recorded" stays empty
    years = sorted({str(start.year) for r in rows if (start := _span(r.period)[0]) is not None})
    by_year: list[list[Any]] = [list(BY_YEAR_COLUMNS)]
    for year in years:
        these = [r for r in rows if (_span(r.period)[0] or date.min).year == int(year)]
        totals = [
            sum((r.amount_usd for r in these if r.flow == flow), Decimal(0))
            if any(r.flow == flow for r in these)
            else None
            for flow in FLOWS
        ]
        by_year.append([year, *totals, _joined(sorted({i for r in these for i in r.leaves}))])
    sheets["by_year"] = by_year
    sheets["reconciliation"] = _reconciliation(rows, receipts)
    if parts is not None:
        tables = (parts.about, parts.checklist, parts.entities, parts.government_revenues, parts.company_data,
                  parts.out_of_scope)
        sheets.update(zip(PART_SHEETS, tables, strict=True))
    sheets["checkpoint"] = [
        ["field", "value"],
        ["origin", checkpoint.origin],
        ["size", checkpoint.size],
        ["root_hash", checkpoint.root_hash.hex()],
        ["note", checkpoint.note],
    ]
    return sheets


def _workbook(sheets: dict[str, list[list[Any]]], stamp: datetime) -> bytes:
    wb = Workbook()
    first = True
    for title, values in sheets.items():
        ws = wb.active if first else wb.create_sheet()
        assert ws is not None
        first = False
        ws.title = title
        for row in values:
            ws.append(row)
        for row_cells in ws.iter_rows(min_row=2):
            for cell in row_cells:
                if isinstance(cell.value, Decimal):
                    cell.number_format = _MONEY
                elif isinstance(cell.value, datetime | date):
                    cell.number_format = "yyyy-mm-dd"
    wb.properties.creator = "naef"
    wb.properties.lastModifiedBy = "naef"
    wb.properties.created = stamp
    wb.properties.modified = stamp
    raw = io.BytesIO()
    # ExcelWriter rather than Workbook.save, which stamps the "modified" property with the current time
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    # openpyxl stamps zip members with the current time: rewrite them with a fixed one (reproducible bytes).
    fixed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, zipfile.ZipFile(fixed, "w") as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = info.external_attr
            dst.writestr(member, src.read(info.filename))
    return fixed.getvalue()


def _json_cell(column: str, value: Any) -> Any:
    """A cell as JSON: amounts (``*_usd``) exact decimal strings with two decimals, other decimals (volumes) as
    recorded, dates ISO 8601, ``None`` as ``null`` (not recorded)."""
    if isinstance(value, Decimal):
        return format_usd(value) if column.endswith("_usd") else f"{value:f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _json_table(table: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    return [{str(k): _json_cell(str(k), v) for k, v in zip(table[0], row, strict=True)} for row in table[1:]]


def _summary_json(sheets: dict[str, list[list[Any]]], checkpoint: ExportCheckpoint) -> bytes:
    """``eiti-summary-data.json``: the template's parts, the reconciliation, the fiscal-year totals and the
    checkpoint — the workbook's parts as JSON (amounts exact decimal strings, ``null`` = not recorded)."""
    doc: dict[str, Any] = {"template": TEMPLATE}
    for sheet, member in PART_SHEETS.items():
        table = sheets[sheet]
        doc[member] = dict(table[1:]) if sheet == "part_1_about" else _json_table(table)
    doc["reconciliation"] = _json_table(sheets["reconciliation"])
    doc["fiscal_year_totals"] = _json_table(sheets["by_year"])
    doc["checkpoint"] = checkpoint.to_json()
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _stamp(entries: Sequence[StoredEntry]) -> datetime:
    last = latest_time(entries)
    if not last:
        return datetime(1980, 1, 1)
    return datetime.fromisoformat(last.replace("Z", "+00:00")).replace(tzinfo=None, microsecond=0)


def render(
    entries: Sequence[StoredEntry], checkpoint: ExportCheckpoint, *, publisher: Publisher = MDF_PUBLISHER
) -> Rendered:
    """The revenue tables (CSV and workbook) of ``entries`` at ``checkpoint``.

    Raises :class:`DisclosureError` when no entry feeds any of the three flows.
    """
    rows = revenue_rows(entries)
    if not rows:
        raise DisclosureError(
            f"ledger: no collection, government payment or MDF residual up to checkpoint size {checkpoint.size}; "
            "nothing to publish in the EITI tables"
        )
    receipts = sorted((e for e in entries if e.type == ENTRY_RECEIPT), key=lambda e: e.index)
    parts = derive_parts(entries, publisher, (checkpoint.origin, checkpoint.size, checkpoint.root_hash.hex()))
    sheets = _sheet_rows(rows, checkpoint, receipts, parts)
    used = {i for r in rows for i in r.leaves} | {e.index for e in receipts} | {o.index for o in parts.excluded}
    both = (XLSX_FILE, JSON_FILE)
    records = [Record(_HEADER, (CSV_FILE, XLSX_FILE, JSON_FILE), ())]
    records += [Record(rid, both, ()) for rid in _WHOLE.values()]
    for sheet, prefix in _TABLE_RECORD.items():
        for values in sheets[sheet][1:]:
            leaves = tuple(int(i) for i in str(values[-1] if sheet != "out_of_scope" else values[1]).split(";") if i)
            records.append(Record(f"{prefix}{values[0]}", both, leaves))
    records += [Record(f"row {r.record_id}", (CSV_FILE, XLSX_FILE), r.leaves) for r in rows]
    for values in sheets["by_period"][1:]:
        leaves = tuple(int(i) for i in str(values[-1]).split(";") if i)
        records.append(Record(f"period total {values[0]}", (XLSX_FILE,), leaves))
    for values in sheets["by_year"][1:]:
        leaves = tuple(int(i) for i in str(values[-1]).split(";") if i)
        records.append(Record(f"fiscal year total {values[0]}", both, leaves))
    for values in sheets["reconciliation"][1:]:
        leaves = tuple(int(i) for i in str(values[-1]).split(";") if i)
        records.append(Record(f"reconciliation {values[0]}", both, leaves))
    files = {
        CSV_FILE: _csv(rows, checkpoint),
        XLSX_FILE: _workbook(sheets, _stamp([e for e in entries if e.index in used])),
        JSON_FILE: _summary_json(sheets, checkpoint),
    }
    return Rendered(files, tuple(records))


# ------------------------------------------------------------------------------------------ reading back


def _norm(value: Any) -> Any:
    """A cell value as compared: numbers as floats, dates as ISO text, empty as ``""``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _compare_table(
    where: str,
    actual: list[list[Any]],
    expected: list[list[Any]],
    labels: dict[str, str],
    record_of: dict[str, str],
) -> list[str]:
    failures: list[str] = []
    header_label = labels[_HEADER]
    if not actual or actual[0] != expected[0]:
        got = actual[0] if actual else []
        failures.append(f"{header_label}: {where}: header row {shown(got)} is not {shown(expected[0])}")
        return failures
    columns = expected[0]
    in_file: dict[str, list[list[Any]]] = {}
    for row in actual[1:]:
        if any(v != "" for v in row):
            in_file.setdefault(str(row[0]), []).append(row)
    for row in expected[1:]:
        key = str(row[0])
        rid = record_of.get(key, key)
        label = labels.get(rid, rid)
        got = in_file.get(key, [])
        if not got:
            failures.append(f"{label}: missing from {where}")
            continue
        if len(got) > 1:
            failures.append(f"{label}: appears {len(got)} times in {where}")
            continue
        have = list(got[0]) + [""] * (len(columns) - len(got[0]))
        for col, a, b in zip(columns, have, row, strict=False):
            if a != b:
                failures.append(f"{label}: {where}: {col}: the file has {shown(a)}, the ledger gives {shown(b)}")
                break
        else:
            if any(v != "" for v in have[len(columns):]):
                failures.append(f"{label}: {where}: cells beyond the last column are not derived from the ledger")
    expected_keys = {str(row[0]) for row in expected[1:]}
    for key in in_file:
        if key not in expected_keys:
            failures.append(f"{where}: row {shown(key)} is not derived from the ledger")
    return failures


def _read_csv(path: Path) -> list[list[Any]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [list(row) for row in csv.reader(fh)]


def _read_workbook(source: Path | io.BytesIO) -> dict[str, list[list[Any]]]:
    wb = load_workbook(source, read_only=True, data_only=True)
    try:
        return {
            ws.title: [[_norm(v) for v in row] for row in ws.iter_rows(values_only=True)]
            for ws in wb.worksheets
        }
    finally:
        wb.close()


def compare(folder: Path, expected: Rendered) -> list[str]:
    """Failures where ``folder``'s CSV or workbook differs from the expected (ledger-derived) tables: one line
    per differing record (row, period total, or the header), naming the record, its ledger entries, the file,
    sheet and column."""
    labels = {r.id: r.label() for r in expected.records}
    rows_by_key = {r.id.removeprefix("row "): r.id for r in expected.records if r.id.startswith("row ")}
    period_by_key = {
        r.id.removeprefix("period total "): r.id for r in expected.records if r.id.startswith("period total ")
    }
    year_by_key = {
        r.id.removeprefix("fiscal year total "): r.id
        for r in expected.records
        if r.id.startswith("fiscal year total ")
    }
    reconciled_by_key = {
        r.id.removeprefix("reconciliation "): r.id for r in expected.records if r.id.startswith("reconciliation ")
    }
    failures: list[str] = []
    try:
        actual_csv = _read_csv(folder / CSV_FILE)
    except OSError as exc:
        failures.append(f"{CSV_FILE}: cannot read ({exc.strerror})")
    except (csv.Error, UnicodeDecodeError) as exc:
        failures.append(f"{CSV_FILE}: not a UTF-8 CSV file ({exc})")
    else:
        wanted_csv = [list(row) for row in csv.reader(io.StringIO(expected.files[CSV_FILE].decode("utf-8")))]
        failures += _compare_table(CSV_FILE, actual_csv, wanted_csv, labels, rows_by_key)
    try:
        actual_wb = _read_workbook(folder / XLSX_FILE)
    except OSError as exc:
        failures.append(f"{XLSX_FILE}: cannot read ({exc.strerror})")
        return failures
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError) as exc:
        failures.append(f"{XLSX_FILE}: not an Excel workbook ({exc})")
        return failures
    wanted_wb = _read_workbook(io.BytesIO(expected.files[XLSX_FILE]))
    if list(actual_wb) != list(wanted_wb):
        failures.append(f"{labels[_HEADER]}: {XLSX_FILE}: sheets {list(actual_wb)} are not {list(wanted_wb)}")
    for title, wanted in wanted_wb.items():
        if title not in actual_wb:
            continue
        where = f"{XLSX_FILE} sheet {title}"
        if title == "checkpoint":
            if actual_wb[title] != wanted:
                failures.append(f"{labels[_HEADER]}: {where}: differs from the bundle's signed checkpoint")
            continue
        if title in _WHOLE:
            if actual_wb[title] != wanted:
                failures.append(f"{labels[_WHOLE[title]]}: {where}: differs from the derivation")
            continue
        record_of = {"by_period": period_by_key, "by_year": year_by_key, "reconciliation": reconciled_by_key}.get(
            title, rows_by_key
        )
        if title in _TABLE_RECORD:
            prefix = _TABLE_RECORD[title]
            record_of = {r.id.removeprefix(prefix): r.id for r in expected.records if r.id.startswith(prefix)}
        failures += _compare_table(where, actual_wb[title], wanted, labels, record_of)
    return failures + _compare_json(folder, expected, labels)


def _compare_json(folder: Path, expected: Rendered, labels: dict[str, str]) -> list[str]:
    """Failures where ``eiti-summary-data.json`` differs from its derivation: per table item (keyed by its
    ``record_id``, or period / fiscal year) the record and the first differing member; other members whole."""
    try:
        actual = json.loads((folder / JSON_FILE).read_text(encoding="utf-8"))
    except OSError as exc:
        return [f"{JSON_FILE}: cannot read ({exc.strerror})"]
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [f"{JSON_FILE}: not a UTF-8 JSON file ({exc})"]
    wanted = json.loads(expected.files[JSON_FILE].decode("utf-8"))
    if not isinstance(actual, dict):
        return [f"{labels[_HEADER]}: {JSON_FILE}: not a JSON object"]
    failures: list[str] = []
    keyed = {"part_3_reporting_entities": ("record_id", "part 3 "), "part_4_government_revenues": ("record_id",
             "part 4 "), "part_5_company_data": ("record_id", "part 5 "), "out_of_scope": ("record_id",
             "out of scope "), "reconciliation": ("period", "reconciliation "), "fiscal_year_totals": ("fiscal_year",
             "fiscal year total ")}
    whole = {"part_1_about": _WHOLE["part_1_about"], "part_2_disclosure_checklist": _WHOLE["part_2_checklist"]}
    for member in set(actual) - set(wanted):
        failures.append(f"{labels[_HEADER]}: {JSON_FILE}: /{member} is not derived from the ledger")
    for member, value in wanted.items():
        where = f"{JSON_FILE} /{member}"
        got = actual.get(member)
        if member not in keyed or not isinstance(got, list):
            found = first_difference(got, value, f"/{member}")
            if found:
                failures.append(f"{labels[whole.get(member, _HEADER)]}: {JSON_FILE}: {found}")
            continue
        field, prefix = keyed[member]
        have = {str(item.get(field)): item for item in got if isinstance(item, dict)}
        for item in value:
            key = str(item[field])
            label = labels.get(prefix + key, prefix + key)
            if key not in have:
                failures.append(f"{label}: missing from {where}")
            elif found := first_difference(have[key], item):
                failures.append(f"{label}: {where}: {found}")
        extra = set(have) - {str(item[field]) for item in value}
        failures += [f"{where}: item {shown(k)} is not derived from the ledger" for k in sorted(extra)]
        if len(got) != len(have):
            failures.append(f"{labels[_HEADER]}: {where}: items that are not objects or appear twice")
    return failures

