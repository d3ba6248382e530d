"""EITI-style revenue tables: PEMEX to government, PEMEX to NAEF, NAEF to the MDF, by period and stream; CSV and a
workbook whose numbers are numbers."""

from __future__ import annotations

import csv
import io
import time
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from naef.disclosure import eiti
from naef.disclosure.errors import DisclosureError
from naef.ledger.errors import LedgerError

from .conftest import LedgerFactory, read_ledger


def rows_of(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_demo_collections_are_pemex_payments_to_naef(demo_url: str) -> None:
    entries, checkpoint = read_ledger(demo_url, eiti.INPUT_TYPES)
    rendered = eiti.render(entries, checkpoint)
    rows = rows_of(rendered.files[eiti.CSV_FILE])
    collected = [e for e in entries if e.type == "revenue_collected"]
    to_naef = [r for r in rows if r["flow"] == "pemex_to_naef"]
    assert len(to_naef) == len(collected) == 28
    assert sum(Decimal(r["amount_usd"]) for r in to_naef) == sum(Decimal(e.payload["amount_usd"]) for e in collected)
    first = to_naef[0]
    assert (first["period"], first["period_start"], first["period_end"]) == ("2027Q1", "2027-01-01", "2027-03-31")
    assert first["ledger_entries"] == str(collected[0].index)
    assert first["checkpoint_size"] == str(checkpoint.size)
    assert first["checkpoint_root"] == checkpoint.root_hash.hex()
    assert list(rows[0]) == list(eiti.COLUMNS)


def test_mdf_residuals_are_naef_payments_to_the_mdf(illustrative_url: str) -> None:
    entries, checkpoint = read_ledger(illustrative_url, eiti.INPUT_TYPES)
    rows = rows_of(eiti.render(entries, checkpoint).files[eiti.CSV_FILE])
    residuals = [e for e in entries if e.type == "waterfall_payment" and e.payload["step"] == "mdf_residual"]
    to_mdf = [r for r in rows if r["flow"] == "naef_to_mdf"]
    assert residuals
    assert [Decimal(r["amount_usd"]) for r in to_mdf] == [Decimal(e.payload["amount_usd"]) for e in residuals]
    assert {r["payee"] for r in to_mdf} == {"Mexican Development Fund"}
    # interest, principal, fees and reserves are not in these tables
    assert {r["flow"] for r in rows} == {"pemex_to_naef", "naef_to_mdf"}


PEMEX, TESOFE, SAT = "XE-EXAMPLE-PEMEX", "XE-EXAMPLE-TESOFE", "XE-EXAMPLE-SAT"
"""Illustrative org-ids (payers and payees are identities: :mod:`naef.ledger.orgids`)."""


def government_ledger(make_ledger: LedgerFactory) -> str:
    pay = "government_payment"
    return make_ledger("gov", [
        (pay, {"period": "2031Q1", "payer": PEMEX, "payee": TESOFE, "stream": "duty",
               "amount_usd": "100.00", "gfs_code": "1415E1"}),
        (pay, {"period": "2031Q1", "payer": PEMEX, "payee": TESOFE, "stream": "duty",
               "amount_usd": "25.50", "gfs_code": "1415E1"}),
        (pay, {"period": "2030Q4", "payer": PEMEX, "payee": SAT, "stream": "income tax", "amount_usd": "7.00"}),
        ("revenue_collected", {"period": "2031Q1", "amount_usd": "900.00", "source": "PEMEX"}),
        ("revenue_collected", {"period": "2031Q1", "amount_usd": "5.00", "source": "other buyer"}),
        ("waterfall_payment", {"period": "2031Q1", "step": "interest", "payee": "holders", "amount_usd": "50.00"}),
        ("waterfall_payment", {"period": "2031Q1", "step": "mdf_residual", "payee": "Mexican Development Fund",
                               "amount_usd": "40.00"}),
        ("checkpoint", {}),
    ])


def test_government_payments_are_summed_by_period_and_stream(make_ledger: LedgerFactory) -> None:
    entries, checkpoint = read_ledger(government_ledger(make_ledger), eiti.INPUT_TYPES)
    rendered = eiti.render(entries, checkpoint)
    rows = rows_of(rendered.files[eiti.CSV_FILE])
    assert [(r["flow"], r["period"], r["payee"], r["revenue_stream"], r["gfs_code"], r["amount_usd"],
             r["ledger_entries"]) for r in rows] == [
        ("pemex_to_government", "2030Q4", SAT, "income tax", "", "7.00", "2"),
        ("pemex_to_government", "2031Q1", TESOFE, "duty", "1415E1", "125.50", "0;1"),
        ("pemex_to_naef", "2031Q1", "NAEF collection account", "net revenue collected", "", "900.00", "3"),
        ("other_to_naef", "2031Q1", "NAEF collection account", "net revenue collected", "", "5.00", "4"),
        ("naef_to_mdf", "2031Q1", "Mexican Development Fund", "mdf_residual", "", "40.00", "6"),
    ]
    # one record per row, tied to its entries; the other buyer's revenue is published too (nothing dropped)
    assert {r.id: r.leaves for r in rendered.records if r.id.startswith("row ")} == {
        f"row {row['record_id']}": tuple(int(i) for i in row["ledger_entries"].split(";")) for row in rows
    }


def test_the_workbook_has_numbers_as_numbers(make_ledger: LedgerFactory) -> None:
    entries, checkpoint = read_ledger(government_ledger(make_ledger), eiti.INPUT_TYPES)
    data = eiti.render(entries, checkpoint).files[eiti.XLSX_FILE]
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == [*eiti.FLOWS, "by_period", "by_year", "reconciliation", *eiti.PART_SHEETS, "checkpoint"]
    # fiscal-year totals (the calendar year): 2030 has only the government payment; "not recorded" is empty
    years = {row[0].value: [c.value for c in row[1:5]] for row in wb["by_year"].iter_rows(min_row=2)}
    assert years == {"2030": [7, None, None, None], "2031": [125.5, 900, 5, 40]}
    ws = wb["pemex_to_government"]
    header = [c.value for c in ws[1]]
    assert header == list(eiti.COLUMNS)
    amount = ws.cell(row=3, column=header.index("amount_usd") + 1)
    assert amount.data_type == "n"
    assert amount.value == pytest.approx(125.5)
    assert amount.number_format == "#,##0.00"
    start = ws.cell(row=3, column=header.index("period_start") + 1)
    assert start.is_date
    assert str(start.value)[:10] == "2031-01-01"
    totals = {row[0].value: [c.value for c in row[3:7]] for row in wb["by_period"].iter_rows(min_row=2)}
    # a flow with no entry in a period is "not recorded" (an empty cell), not a zero
    assert totals == {"2030Q4": [7, None, None, None], "2031Q1": [125.5, 900, 5, 40]}
    fields = {row[0].value: row[1].value for row in wb["checkpoint"].iter_rows(min_row=2)}
    assert fields == {"origin": checkpoint.origin, "size": checkpoint.size, "root_hash": checkpoint.root_hash.hex(),
                      "note": checkpoint.note}


def test_the_workbook_is_reproducible(demo_url: str) -> None:
    entries, checkpoint = read_ledger(demo_url, eiti.INPUT_TYPES)
    first = eiti.render(entries, checkpoint).files
    time.sleep(1.1)  # zip members and document properties carry times to the second: none may be "now"
    assert eiti.render(list(reversed(entries)), checkpoint).files == first


def test_government_payments_are_validated_like_every_entry(make_ledger: LedgerFactory) -> None:
    with pytest.raises(LedgerError, match=r"payload\.amount_usd"):
        make_ledger("bad", [("government_payment", {"period": "2031Q1", "payer": PEMEX, "payee": SAT,
                                                    "stream": "tax", "amount_usd": "1.001"})])


def test_nothing_to_publish(make_ledger: LedgerFactory) -> None:
    url = make_ledger("empty", [("waterfall_payment", {"period": "2031Q1", "step": "interest", "payee": "holders",
                                                       "amount_usd": "1.00"}),
                                ("checkpoint", {})])
    entries, checkpoint = read_ledger(url, eiti.INPUT_TYPES)
    with pytest.raises(DisclosureError, match="nothing to publish in the EITI tables"):
        eiti.render(entries, checkpoint)


def test_a_collection_under_another_payer_name_is_not_dropped(make_ledger: LedgerFactory) -> None:
    url = make_ledger("pmi", [("revenue_collected", {"period": "2031Q1", "amount_usd": "999000000.00",
                                                     "source": "PEMEX-PMI"}),
                              ("revenue_collected", {"period": "2031Q1", "amount_usd": "1.00", "source": "Acme"}),
                              ("checkpoint", {})])
    entries, checkpoint = read_ledger(url, eiti.INPUT_TYPES)
    rows = rows_of(eiti.render(entries, checkpoint).files[eiti.CSV_FILE])
    assert [(r["flow"], r["payer"], r["amount_usd"]) for r in rows] == [
        ("pemex_to_naef", "PEMEX-PMI", "999000000.00"), ("other_to_naef", "Acme", "1.00")
    ]


@pytest.mark.parametrize("code", ["banana", "1499", "9", "1415E12", "1415e1", ""])
def test_an_unknown_gfs_code_is_refused_at_append(make_ledger: LedgerFactory, code: str) -> None:
    with pytest.raises(LedgerError, match=r"payload\.gfs_code") as exc:
        make_ledger("bad", [("government_payment", {"period": "2031Q1", "payer": PEMEX, "payee": SAT,
                                                    "stream": "tax", "amount_usd": "1.00", "gfs_code": code})])
    assert "\n" not in exc.value.message


@pytest.mark.parametrize("code", ["1415", "1415E1", "1412E2", "1112E1", "11451", "143E"])
def test_gfsm_2014_codes_and_their_eiti_extensions_are_accepted(code: str) -> None:
    from naef.ledger.government_payments import check_gfs_code

    assert check_gfs_code(code) == code
