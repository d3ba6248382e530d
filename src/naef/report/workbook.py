"""``results.xlsx``: a run's results as an Excel workbook (openpyxl), for people who work in Excel.

Sheets (each only when its data is given):

* ``summary`` — every figure of ``summary.json`` as key path, value, unit (``tranches`` are on their own sheet);
  ``summary (deterministic)`` likewise for the deterministic run beside a Monte Carlo;
* ``inputs`` — every key of the scenario (its validated values, defaults filled in) as key path, value, unit;
* ``P50 path cash flows`` — the cash flows of the Monte Carlo's P50 path (the path whose MDF inflows in present
  value are the run's median: ``naef.engine.montecarlo.median_path``), the columns of ``cashflows.csv``;
* ``cash flows (deterministic)`` — the deterministic run's ``cashflows.csv``;
* ``percentiles`` — ``percentiles.csv``: P5–P95 by period of price, collections, DSCR, MDF inflows, production;
* ``tranches`` — one row per tranche (nested figures flattened: ``min_dscr_p5``); ``tranches (deterministic)``;
* ``portfolio``, ``spend by year``, ``outcomes by state``, ``appraisal`` (every project of the pipeline with its
  appraisal), ``rejected`` (the projects not selected and why) — the MDF portfolio (``naef.report.html``'s
  ``normalise_portfolio`` shape).

Every header names its unit (``collections_usd [US$]``; units follow the names, ``naef.format.unit_of``);
numbers are stored as numbers and dates as dates, with a display format by unit (US$ with thousands separators,
shares as %); the header row (and the first column of tables) is frozen, columns are sized to their contents and
filters are on.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from naef.format import unit_of
from naef.scenario.load import content_hash
from naef.scenario.models import Scenario

if TYPE_CHECKING:  # the documents' types only
    from naef.analysis.mc_summary import MonteCarloSummary
    from naef.engine.results import DeterministicSummary

__all__ = ["build_workbook", "flatten", "header_of", "number_format_of"]

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="E8ECF2")
_NUMBER_FORMATS = {
    "US$": "#,##0", "US$/bbl": "#,##0.00", "US$/MMBtu": "#,##0.000", "US$/Mcf": "#,##0.000",
    "US$/year": "#,##0", "bbl/d": "#,##0", "boe/d": "#,##0", "MMcf/d": "#,##0.0", "MMbbl": "#,##0.0",
    "Bcf": "#,##0.0", "×": "0.000", "probability": "0.00%", "fraction": "0.00%", "fraction/year": "0.00%",
    "share": "0.00%", "share of size": "0.000%", "date": "yyyy-mm-dd", "years": "0.00", "days": "0",
    "calendar year": "0", "count": "#,##0", "jobs": "#,##0", "paths": "#,##0",
}


def header_of(name: str, unit: str | None = None) -> str:
    """A column header with its unit: ``collections_usd [US$]``."""
    return f"{name} [{unit if unit is not None else unit_of(name)}]"


def number_format_of(unit: str) -> str:
    """Excel's display format for a unit (``General`` when none applies)."""
    return _NUMBER_FORMATS.get(unit, "General")


def _cell_value(x: Any, *, as_date: bool = False) -> Any:
    """A Python value for a cell: numbers as int/float (NaN and infinities as empty), ISO dates as dates."""
    if x is None:
        return None
    if hasattr(x, "item") and not isinstance(x, str | bytes):
        x = x.item()  # NumPy scalars
    if isinstance(x, bool):
        return x
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, int):
        return x
    if isinstance(x, dt.datetime):
        return x
    if isinstance(x, dt.date):
        return x
    if isinstance(x, pd.Timestamp):
        return x.date()
    s = str(x)
    if (as_date or _ISO_DATE.match(s)) and _ISO_DATE.match(s[:10]):
        try:
            return dt.date.fromisoformat(s[:10])
        except ValueError:
            return s
    return s


def flatten(doc: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """A JSON-like document as (key path, scalar) pairs: ``mdf.nominal_usd.p50``, ``fields[0].capex_usd[2]``;
    an empty list or object gives one pair with ``None``."""
    out: list[tuple[str, Any]] = []
    if isinstance(doc, Mapping):
        if not doc and prefix:
            out.append((prefix, None))
        for k, v in doc.items():
            out.extend(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(doc, Sequence) and not isinstance(doc, str | bytes):
        if not doc and prefix:
            out.append((prefix, None))
        for i, v in enumerate(doc):
            out.extend(flatten(v, f"{prefix}[{i}]"))
    else:
        out.append((prefix, doc))
    return out


def _key_unit(path: str) -> str:
    """The unit of a flattened key: by its last named part (``fields[0].capex_usd[2]`` → ``capex_usd``); a
    price deck's points are [year, price]."""
    m = re.search(r"(?:^|\.)(\w+)\.deck\[\d+\]\[(\d)\]$", path)
    if m:
        if m.group(2) == "0":
            return "calendar year"
        return "US$/MMBtu" if m.group(1) == "gas_price" else "US$/bbl"
    names = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", path) or [path]
    if names[-1] == "se":
        return "standard error (unit of the figure)"
    for name in reversed(names):  # "mdf.nominal_usd.p50": the unit is named by a parent
        unit = unit_of(name)
        if unit != "—":
            return unit
    return "—"


def _unit_for(unit: str, values: Sequence[Any]) -> str:
    """``unit``, or "text" for a column (or value) of strings that are not dates."""
    present = [v for v in values if v is not None]
    if present and unit != "date" and all(isinstance(v, str) and not _ISO_DATE.match(v) for v in present):
        return "text"
    if present and all(isinstance(v, bool) for v in present):
        return "yes/no"
    return unit


def _style_header(ws: Worksheet, ncols: int) -> None:
    for j in range(1, ncols + 1):
        c = ws.cell(row=1, column=j)
        c.font = _HEADER_FONT
        c.fill = _HEADER_FILL
        c.alignment = Alignment(vertical="top", wrap_text=False)


def _set_widths(ws: Worksheet, widths: Sequence[int]) -> None:
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = max(8, min(w, 70))


def _text_width(x: Any) -> int:
    if x is None:
        return 0
    if isinstance(x, bool):
        return 5
    if isinstance(x, float):
        return len(f"{x:,.2f}") if abs(x) < 1e15 else 20
    if isinstance(x, int):
        return len(f"{x:,}")
    if isinstance(x, dt.date):
        return 10
    return len(str(x))


def _finish(ws: Worksheet, ncols: int, nrows: int, widths: Sequence[int], *, freeze: str) -> None:
    _style_header(ws, ncols)
    ws.freeze_panes = freeze
    _set_widths(ws, widths)
    if nrows > 0 and ncols > 0:
        ws.auto_filter.ref = f"A1:{get_column_letter(ncols)}{nrows + 1}"


def _key_value_sheet(wb: Workbook, title: str, pairs: Sequence[tuple[str, Any]]) -> None:
    ws = wb.create_sheet(title)
    ws.append(["key", "value", "unit"])
    widths = [len("key"), len("value"), len("unit")]
    for key, value in pairs:
        unit = _unit_for(_key_unit(key), [value])
        v = _cell_value(value, as_date=unit == "date")
        ws.append([key, v, unit])
        row = ws.max_row
        if isinstance(v, int | float) and not isinstance(v, bool):
            ws.cell(row=row, column=2).number_format = number_format_of(unit)
        elif isinstance(v, dt.date):
            ws.cell(row=row, column=2).number_format = "yyyy-mm-dd"
        widths = [max(widths[0], len(key)), max(widths[1], min(_text_width(v), 60)), max(widths[2], len(unit))]
    _finish(ws, 3, len(pairs), [w + 2 for w in widths], freeze="B2")


def _table_sheet(wb: Workbook, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                 units: Sequence[str] | None = None) -> None:
    ws = wb.create_sheet(title)
    units = list(units) if units is not None else [unit_of(c) for c in columns]
    units = [_unit_for(u, [r[j] for r in rows]) for j, u in enumerate(units)]
    headers = [header_of(c, u) for c, u in zip(columns, units, strict=True)]
    ws.append(headers)
    widths = [len(h) for h in headers]
    formats = [number_format_of(u) for u in units]
    for r in rows:
        values = [_cell_value(x, as_date=u == "date") for x, u in zip(r, units, strict=True)]
        ws.append(values)
        row = ws.max_row
        for j, v in enumerate(values):
            if isinstance(v, int | float | dt.date) and not isinstance(v, bool):
                ws.cell(row=row, column=j + 1).number_format = formats[j]
            widths[j] = max(widths[j], _text_width(v))
    _finish(ws, len(columns), len(rows), [w + 2 for w in widths], freeze="B2")


def _frame_sheet(wb: Workbook, title: str, df: pd.DataFrame) -> None:
    columns = [str(c) for c in df.columns]
    data = [df[c].tolist() for c in df.columns]
    rows = [list(r) for r in zip(*data, strict=True)] if data else []
    _table_sheet(wb, title, columns, rows)


def _records_sheet(wb: Workbook, title: str, records: Sequence[Mapping[str, Any]]) -> None:
    flat = [dict(flatten(r)) for r in records]
    columns: list[str] = []
    for r in flat:
        for k in r:
            if k not in columns:
                columns.append(k)
    keyed = [c.replace(".", "_") for c in columns]
    _table_sheet(wb, title, keyed, [[r.get(c) for c in columns] for r in flat])


def build_workbook(
    *,
    scenario: Scenario,
    summary: DeterministicSummary | MonteCarloSummary,
    percentiles: pd.DataFrame | None = None,
    cashflows: pd.DataFrame | None = None,
    p50_cashflows: pd.DataFrame | None = None,
    portfolio: Mapping[str, Any] | None = None,
    deterministic_summary: DeterministicSummary | None = None,
) -> bytes:
    """The workbook's bytes (``.xlsx``; sheets in the module docstring). ``portfolio`` is checked and shaped
    by ``naef.report.html.normalise_portfolio`` (a :class:`naef.report.html.ReportError` names a bad key)."""
    from naef import __version__
    from naef.report.html import normalise_portfolio

    wb = Workbook()
    default = wb.active
    if default is not None:
        wb.remove(default)
    wb.properties.creator = f"naef {__version__}"
    wb.properties.title = f"naef results — scenario {scenario.scenario.name}"
    wb.properties.subject = f"scenario content hash sha256 {content_hash(scenario)}"

    about: list[tuple[str, Any]] = [("workbook.naef_version", __version__),
                                    ("workbook.scenario_content_hash_sha256", content_hash(scenario))]
    if p50_cashflows is not None:
        about.append(("workbook.p50_path_cash_flows", "the Monte Carlo path whose MDF inflows (PV) are the median"))
    _key_value_sheet(wb, "summary", about + [(k, v) for k, v in flatten(
        {k: v for k, v in summary.items() if k != "tranches"})])
    if deterministic_summary is not None and deterministic_summary is not summary:
        _key_value_sheet(wb, "summary (deterministic)", flatten(
            {k: v for k, v in deterministic_summary.items() if k not in ("tranches", "fields")}))
    _key_value_sheet(wb, "inputs", flatten(scenario.model_dump(mode="json")))
    if p50_cashflows is not None:
        _frame_sheet(wb, "P50 path cash flows", p50_cashflows)
    if cashflows is not None:
        _frame_sheet(wb, "cash flows (deterministic)", cashflows)
    if percentiles is not None:
        _frame_sheet(wb, "percentiles", percentiles)
    if summary.get("tranches"):
        _records_sheet(wb, "tranches", summary["tranches"])
    if deterministic_summary is not None and deterministic_summary is not summary \
            and deterministic_summary.get("tranches"):
        _records_sheet(wb, "tranches (deterministic)", deterministic_summary["tranches"])
    if portfolio is not None:
        p = normalise_portfolio(portfolio)
        if p["projects"]:
            _records_sheet(wb, "portfolio", p["projects"])
        spend, budget = p["spend_usd_by_year"], p["budget_usd_by_year"]
        if spend or budget:
            years = sorted(set(spend) | set(budget))
            _table_sheet(wb, "spend by year", ["year", "spend_usd", "budget_usd"],
                         [[y, spend.get(y), budget.get(y)] for y in years])
        if p["outcomes_by_state"]:
            _records_sheet(wb, "outcomes by state", p["outcomes_by_state"])
        if p["appraisal"]:
            _records_sheet(wb, "appraisal", p["appraisal"])
        if p["rejected"]:
            _records_sheet(wb, "rejected", p["rejected"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
