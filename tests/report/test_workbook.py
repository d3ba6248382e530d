"""results.xlsx read back with openpyxl: its sheets, headers with units, numbers stored as numbers that equal the
inputs, dates as dates, frozen headers and column widths."""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from naef.report import ReportError, build_workbook
from naef.report.workbook import flatten
from naef.scenario.load import content_hash
from tests.report.conftest import PORTFOLIO, Run

_HEADER = re.compile(r"^(?P<name>[^\[\]]+) \[(?P<unit>[^\[\]]+)\]$")


@pytest.fixture(scope="module")
def wb(run: Run) -> Workbook:
    data = run.files["results.xlsx"]
    assert isinstance(data, bytes)
    return load_workbook(io.BytesIO(data))


def _header(ws: Any) -> list[str]:
    return [c.value for c in ws[1]]


def _names(ws: Any) -> list[str]:
    out = []
    for h in _header(ws):
        m = _HEADER.match(h)
        assert m, f"{ws.title}: header {h!r} has no [unit]"
        out.append(m.group("name"))
    return out


def _same(cell: Any, expected: Any) -> None:
    if expected is None or expected == "" or (isinstance(expected, float) and math.isnan(expected)):
        assert cell is None  # an empty cell
    elif isinstance(expected, bool):
        assert cell is expected
    elif isinstance(expected, int | float):
        assert isinstance(cell, int | float), f"{cell!r} is not a number"
        assert not isinstance(cell, bool)
        # the number itself, not a rounded text: openpyxl writes floats with 16 significant digits ("%.16g")
        assert cell == pytest.approx(expected, rel=1e-15, abs=0.0)
    elif isinstance(expected, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", expected):
        assert isinstance(cell, dt.datetime), f"{cell!r} is not a date"
        assert cell.date().isoformat() == expected
    else:
        assert cell == expected


def test_sheets(wb: Workbook) -> None:
    assert wb.sheetnames == ["summary", "summary (deterministic)", "inputs", "P50 path cash flows",
                             "cash flows (deterministic)", "percentiles", "tranches", "tranches (deterministic)",
                             "portfolio", "spend by year", "outcomes by state"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "B2", ws.title
        assert ws.max_row > 1, ws.title
        for j in range(1, ws.max_column + 1):
            letter = ws.cell(row=1, column=j).column_letter
            assert ws.column_dimensions[letter].width >= 8, (ws.title, letter)
        assert ws.cell(row=1, column=1).font.b


@pytest.mark.parametrize(("sheet", "attr"), [("P50 path cash flows", "p50_cashflows"),
                                             ("cash flows (deterministic)", "cashflows"),
                                             ("percentiles", "percentiles")])
def test_tables_equal_the_frames(wb: Workbook, run: Run, sheet: str, attr: str) -> None:
    df: pd.DataFrame = getattr(run, attr)
    ws = wb[sheet]
    assert _names(ws) == list(df.columns)
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(df)
    for j, col in enumerate(df.columns):
        for i, expected in enumerate(df[col].tolist()):
            got = rows[i][j]
            if col == "period_start":
                assert isinstance(got, dt.datetime)
                assert got.date().isoformat() == expected
            else:
                _same(got, expected)


def test_units_and_formats(wb: Workbook) -> None:
    ws = wb["P50 path cash flows"]
    headers = _header(ws)
    assert "collections_usd [US$]" in headers
    assert "benchmark_usd_per_bbl [US$/bbl]" in headers
    assert "production_bpd [bbl/d]" in headers
    assert "dscr [×]" in headers
    assert "interest_paid_usd_A1 [US$]" in headers
    assert "period_start [date]" in headers
    j = headers.index("collections_usd [US$]") + 1
    assert ws.cell(row=2, column=j).number_format == "#,##0"
    assert ws.cell(row=2, column=1).number_format == "yyyy-mm-dd"
    pct = wb["percentiles"]
    assert "dscr_p50 [×]" in _header(pct)
    assert "production_boe_per_day_p95 [boe/d]" in _header(pct)
    assert "dscr_paths [paths]" in _header(pct)
    tr = _header(wb["tranches"])
    for h in ("name [text]", "size_usd [US$]", "pd [probability]", "expected_loss [share of size]",
              "implied_rating [text]", "wal_years [years]", "min_dscr_p5 [×]", "coupon_rate [fraction/year]"):
        assert h in tr


def test_tranches_equal_the_summary(wb: Workbook, run: Run) -> None:
    ws = wb["tranches"]
    names = _names(ws)
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(run.summary["tranches"])
    for row, tr in zip(rows, run.summary["tranches"], strict=True):
        flat = {k.replace(".", "_"): v for k, v in flatten(tr)}
        assert set(flat) == set(names)
        for name, got in zip(names, row, strict=True):
            _same(got, flat[name])
    det = wb["tranches (deterministic)"]
    dnames = _names(det)
    first = dict(zip(dnames, next(det.iter_rows(min_row=2, values_only=True)), strict=True))
    assert first["issue_date"] == dt.datetime.fromisoformat(run.deterministic["tranches"][0]["issue_date"])
    _same(first["wal_years"], run.deterministic["tranches"][0]["wal_years"])


def _pairs(ws: Any) -> dict[str, tuple[Any, str]]:
    assert _header(ws) == ["key", "value", "unit"]
    return {k: (v, u) for k, v, u in ws.iter_rows(min_row=2, values_only=True)}


def test_inputs_are_the_scenario(wb: Workbook, run: Run) -> None:
    pairs = _pairs(wb["inputs"])
    expected = flatten(run.scenario.model_dump(mode="json"))
    assert list(pairs) == [k for k, _ in expected]
    for key, value in expected:
        got, unit = pairs[key]
        assert unit, key
        if key == "scenario.start":
            assert got == dt.datetime(2027, 1, 1)
        else:
            _same(got, value)
    assert pairs["tranches[0].size_usd"][1] == "US$"
    assert pairs["fields[0].capex_usd[0]"][1] == "US$"
    assert pairs["price.deck[0][1]"][1] == "US$/bbl"
    assert pairs["scenario.periods_per_year"][1] == "periods/year"


def test_summary_sheet(wb: Workbook, run: Run) -> None:
    pairs = _pairs(wb["summary"])
    assert pairs["workbook.scenario_content_hash_sha256"][0] == content_hash(run.scenario)
    for key, value in flatten({k: v for k, v in run.summary.items() if k != "tranches"}):
        _same(pairs[key][0], value)
    assert pairs["mdf.nominal_usd.p50"][1] == "US$"
    assert pairs["issuance_usd"][1] == "US$"
    assert pairs["event_of_default.probability"][1] == "probability"


def test_portfolio_sheets(wb: Workbook) -> None:
    ws = wb["portfolio"]
    names = _names(ws)
    rows = [dict(zip(names, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert [r["id"] for r in rows] == ["R1", "S1", "E1"]
    assert [r["cost_usd"] for r in rows] == [1.2e9, 0.3e9, 0.5e9]
    assert [r["start_year"] for r in rows] == [2031, 2032, 2031]
    spend = list(wb["spend by year"].iter_rows(min_row=2, values_only=True))
    assert spend == [(2031, 0.6e9, 1.0e9), (2032, 0.9e9, 1.0e9), (2033, 0.5e9, 1.0e9)]
    assert _header(wb["spend by year"]) == ["year [calendar year]", "spend_usd [US$]", "budget_usd [US$]"]
    out = wb["outcomes by state"]
    assert _header(out) == ["state [text]", "jobs [jobs]", "invested_usd [US$]", "projects_finished [count]"]
    assert next(out.iter_rows(min_row=2, values_only=True)) == ("MX-MIC", 5200, 1.2e9, 1)


def test_only_the_sheets_given(run: Run) -> None:
    data = build_workbook(scenario=run.scenario, summary=run.deterministic, cashflows=run.cashflows)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["summary", "inputs", "cash flows (deterministic)", "tranches"]
    assert PORTFOLIO["projects"]  # the module's portfolio is unchanged by building workbooks


def test_a_portfolio_runs_appraisal_and_rejected_projects_have_their_sheets(run: Run) -> None:
    """Issue 17: results.xlsx of a portfolio run has the appraisal and the rejected projects with their reasons,
    every column with a unit."""
    portfolio = {**PORTFOLIO,
                 "appraisal": [{"id": "R1", "sector": "road", "state": "MX-MIC", "expected_cost_usd": 1.3e9,
                                "enpv_at_start_usd": 2.1e8, "eirr": 0.11, "bcr": 1.4},
                               {"id": "X9", "sector": "port", "state": "MX-VER", "expected_cost_usd": 4.0e9,
                                "enpv_at_start_usd": -3.0e8, "eirr": 0.02, "bcr": 0.8}],
                 "rejected": [{"id": "X9", "reason": "negative expected NPV"}]}
    data = build_workbook(scenario=run.scenario, summary=run.deterministic, portfolio=portfolio)
    wb = load_workbook(io.BytesIO(data))
    assert {"appraisal", "rejected"} <= set(wb.sheetnames)
    assert _header(wb["appraisal"]) == ["id [text]", "sector [text]", "state [text]", "expected_cost_usd [US$]",
                                        "enpv_at_start_usd [US$]", "eirr [fraction/year]", "bcr [×]"]
    assert list(wb["rejected"].iter_rows(min_row=2, values_only=True)) == [("X9", "negative expected NPV")]
    with pytest.raises(ReportError, match=r"^portfolio\.rejected\[0\]: must be an object"):
        build_workbook(scenario=run.scenario, summary=run.deterministic, portfolio={**PORTFOLIO, "rejected": ["X9"]})
