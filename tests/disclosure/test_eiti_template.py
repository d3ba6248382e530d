"""Issue 20 (EITI): the Summary Data Template's parts (version 2), payers and government entities as identities,
GFS codes, quarters and fiscal years, volumes, "not recorded" against zero, and nothing dropped silently — the
"Why" bullets of the issue, one regression test each."""

from __future__ import annotations

import io
import json
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from naef.commands.ledger import ledger_app
from naef.commands.ledger_ops import register
from naef.disclosure import BundleVerificationError, eiti, export_bundle, verify_bundle
from naef.disclosure.eiti_template import NAEF_ACCOUNT_ID, classify
from naef.ledger.errors import LedgerError
from naef.ledger.keys import VerifierKey
from naef.ledger.log import Ledger, StoredEntry

from .conftest import LedgerFactory, read_ledger

PEMEX, PEP, TESOFE = "XE-EXAMPLE-PEMEX", "XE-EXAMPLE-PEMEX-EXPLORACION", "XE-EXAMPLE-TESOFE"
PAY = "government_payment"


def payment(period: str, amount: str, payer: str = PEMEX, **extra: Any) -> tuple[str, dict[str, Any]]:
    return (PAY, {"period": period, "payer": payer, "payee": TESOFE, "stream": "hydrocarbon duty",
                  "amount_usd": amount, "gfs_code": "1415E1", **extra})


def summary(url: str) -> dict[str, Any]:
    entries, checkpoint = read_ledger(url, eiti.INPUT_TYPES)
    data: dict[str, Any] = json.loads(eiti.render(entries, checkpoint).files[eiti.JSON_FILE])
    return data


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["record_id"]: item for item in items}


# ------------------------------------------------------------------------------------------ identities


@pytest.mark.parametrize(("field", "value"), [("payer", "Pemex Exploración"), ("payer", "PEMEX"),
                                              ("payee", "Tesorería de la Federación"), ("payer", "XX-NAEF-1")])
def test_a_payer_or_payee_without_an_identity_is_refused_at_append(
    make_ledger: LedgerFactory, field: str, value: str
) -> None:
    kind, payload = payment("2031Q1", "1.00")
    with pytest.raises(LedgerError, match=rf"payload\.{field}: .*is not an organisation identifier") as exc:
        make_ledger("bad", [(kind, {**payload, field: value})])
    assert "\n" not in exc.value.message


def test_a_collection_source_id_must_be_an_identity(make_ledger: LedgerFactory) -> None:
    with pytest.raises(LedgerError, match=r"payload\.source_id: .*'PEMEX-PMI' is not an organisation identifier"):
        make_ledger("bad", [("revenue_collected", {"period": "2031Q1", "amount_usd": "1.00", "source": "PEMEX-PMI",
                                                   "source_id": "PEMEX-PMI"})])


def test_the_cli_refuses_a_payer_without_identity_with_exit_2(make_ledger: LedgerFactory) -> None:
    url = make_ledger("cli", [])
    register(ledger_app)
    kind, payload = payment("2031Q1", "1.00", payer="Pemex Exploración")
    result = CliRunner().invoke(ledger_app, ["append", url, "--type", kind, "--payload", json.dumps(payload)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "payload.payer" in lines[0]
    assert "not an organisation identifier" in lines[0]
    with Ledger.open(url) as ledger:
        assert ledger.size() == 0  # nothing appended


def test_pemex_and_pemex_exploracion_aggregate_by_identity_not_by_name(make_ledger: LedgerFactory) -> None:
    # one identity under two names (and in two Unicode forms) aggregates; another identity does not
    decomposed = unicodedata.normalize("NFD", "XE-EXAMPLE-PEMEXÉ")
    composed = unicodedata.normalize("NFC", decomposed)
    url = make_ledger("ids", [
        payment("2031Q1", "10.00", payer_name="PEMEX"),
        payment("2031Q2", "20.00", payer_name="Petróleos Mexicanos"),
        payment("2031Q1", "5.00", payer=PEP, payer_name="Pemex Exploración"),
        payment("2031Q3", "1.00", payer=decomposed, payer_name="Pemex Exploración"),
        payment("2031Q4", "2.00", payer=composed, payer_name="PEMEX"),
        ("checkpoint", {}),
    ])
    data = summary(url)
    companies = {e["identifier"]: e for e in data["part_3_reporting_entities"] if e["entity_type"] == "company"}
    assert set(companies) == {PEMEX, PEP, composed}
    assert companies[PEMEX]["names_recorded"] == "PEMEX; Petróleos Mexicanos"
    assert companies[composed]["ledger_entries"] == "3;4"
    rows = {(r["company_id"], r["fiscal_year"]): r for r in data["part_5_company_data"]}
    assert rows[(PEMEX, 2031)]["fiscal_year_total_usd"] == "30.00"
    assert rows[(PEP, 2031)]["fiscal_year_total_usd"] == "5.00"
    assert rows[(composed, 2031)]["fiscal_year_total_usd"] == "3.00"
    # the government receiver is one identity: one Part 4 row for the year
    assert [(r["government_entity_id"], r["fiscal_year_total_usd"]) for r in data["part_4_government_revenues"]] \
        == [(TESOFE, "38.00")]


# ------------------------------------------------------------------------------------------ Parts 1-5


def test_parts_quarters_fiscal_years_and_not_recorded(make_ledger: LedgerFactory) -> None:
    url = make_ledger("parts", [
        payment("2030Q4", "7.00"),
        payment("2031Q1", "100.00", volume_bbl="1000"),
        payment("2031Q1", "0.00", volume_bbl="0"),           # a recorded zero
        payment("2031H2", "50.00", volume_bbl="400"),        # a half-year: in the year, not in a quarter
        ("checkpoint", {}),
    ])
    data = summary(url)
    about = data["part_1_about"]
    assert about["template"].startswith("EITI Summary Data Template version 2")
    assert (about["country_iso3"], about["reporting_currency"], about["fiscal_years_covered"]) == (
        "MEX", "USD", "2030, 2031")
    assert (about["period_start"], about["period_end"]) == ("2030-10-01", "2031-12-31")
    assert about["publisher_id"] == "XE-EXAMPLE-NAEF-MDF"
    part4 = {r["fiscal_year"]: r for r in data["part_4_government_revenues"]}
    assert part4[2031]["gfs_code"] == "1415E1"
    assert part4[2031]["gfs_name"] == "Rent"
    # quarters: Q1 recorded (100 + a recorded zero), Q2-Q4 not recorded (null), the half-year beside them
    assert [part4[2031][f"q{q}_usd"] for q in (1, 2, 3, 4)] == ["100.00", None, None, None]
    assert part4[2031]["other_periods_usd"] == "50.00"
    assert part4[2031]["fiscal_year_total_usd"] == "150.00"
    assert [part4[2030][f"q{q}_usd"] for q in (1, 2, 3, 4)] == [None, None, None, "7.00"]
    # volumes where recorded; a row where some entries state none says so
    assert (part4[2031]["volume_bbl"], part4[2031]["volume_status"]) == ("1400", "recorded")
    assert (part4[2030]["volume_bbl"], part4[2030]["volume_status"]) == (None, "not recorded")
    # a zero that was recorded is a zero; an empty quarter is not recorded
    zero = make_ledger("zero", [payment("2031Q2", "0.00"), ("checkpoint", {})])
    row = summary(zero)["part_4_government_revenues"][0]
    assert (row["q1_usd"], row["q2_usd"]) == (None, "0.00")
    # the workbook carries the same parts: an empty cell where the JSON has null
    entries, checkpoint = read_ledger(url, eiti.INPUT_TYPES)
    wb = load_workbook(io.BytesIO(eiti.render(entries, checkpoint).files[eiti.XLSX_FILE]))
    sheet = [list(r) for r in wb["part_4_gov_revenues"].iter_rows(values_only=True)]
    header = sheet[0]
    cells = {r[header.index("fiscal_year")]: r for r in sheet[1:]}
    assert cells[2031][header.index("q2_usd")] is None
    assert cells[2031][header.index("q1_usd")] == pytest.approx(100.0)
    assert next(r[0] for r in wb["part_2_checklist"].iter_rows(min_row=2, max_col=1, values_only=True)) == "2.1-2.4"


def test_a_999m_pemex_pmi_collection_is_published_not_dropped(make_ledger: LedgerFactory) -> None:
    url = make_ledger("pmi", [("revenue_collected", {"period": "2031Q1", "amount_usd": "999000000.00",
                                                     "source": "PEMEX-PMI", "volume_bbl": "12000000"}),
                              ("revenue_collected", {"period": "2031Q1", "amount_usd": "1.00", "source": "Acme",
                                                     "source_id": "XE-EXAMPLE-ACME"}),
                              ("checkpoint", {})])
    data = summary(url)
    rows = {r["company_names"]: r for r in data["part_5_company_data"]}
    pmi = rows["PEMEX-PMI"]
    assert (pmi["fiscal_year_total_usd"], pmi["q1_usd"], pmi["volume_bbl"]) == ("999000000.00", "999000000.00",
                                                                                 "12000000")
    # no identity recorded for the source: said so, never invented from the name
    assert (pmi["company_id"], pmi["company_identity"]) == (None, "not recorded (name as recorded)")
    assert (rows["Acme"]["company_id"], rows["Acme"]["company_identity"]) == ("XE-EXAMPLE-ACME", "org-id")
    assert data["part_4_government_revenues"][0]["government_entity_id"] == NAEF_ACCOUNT_ID
    assert data["part_4_government_revenues"][0]["fiscal_year_total_usd"] == "999000001.00"
    assert data["out_of_scope"] == []


def test_every_collection_of_the_demo_is_published_or_listed_out_of_scope(demo_url: str) -> None:
    """The issue counted about USD 34 bn of the demo's collections in no export: every ``revenue_collected``
    amount is now in Part 4 and Part 5 (or out of scope with a reason), and every entry the EITI tables read is
    in exactly one published place."""
    entries, checkpoint = read_ledger(demo_url, eiti.INPUT_TYPES)
    data = json.loads(eiti.render(entries, checkpoint).files[eiti.JSON_FILE])
    collected = sum(Decimal(e.payload["amount_usd"]) for e in entries if e.type == "revenue_collected")
    assert collected > Decimal("30e9")
    part4 = sum(Decimal(r["fiscal_year_total_usd"]) for r in data["part_4_government_revenues"])
    part5 = sum(Decimal(r["fiscal_year_total_usd"]) for r in data["part_5_company_data"])
    out = sum(Decimal(o["amount_usd"]) for o in data["out_of_scope"] if o["entry_type"] == "revenue_collected")
    assert part4 == part5 == collected - out
    assert out == 0
    # the demo records the payer's identity on its collections: one company, by org-id
    assert {(r["company_id"], r["company_identity"]) for r in data["part_5_company_data"]} == {
        ("XE-EXAMPLE-PEMEX", "org-id")}
    # the partition: company payments, MDF flows (reconciliation) and out of scope cover every entry read
    payments, excluded, mdf = classify(entries)
    indexes = [p.index for p in payments] + [o.index for o in excluded] + mdf
    assert sorted(indexes) == sorted(e.index for e in entries)
    assert {o["entry_type"] for o in data["out_of_scope"]} == {"waterfall_payment"}
    assert all("not a payment to a government entity" in o["reason"] for o in data["out_of_scope"])
    listed = sum(Decimal(o["amount_usd"]) for o in data["out_of_scope"])
    paid = sum(Decimal(e.payload["amount_usd"]) for e in entries
               if e.type == "waterfall_payment" and e.payload["step"] != "mdf_residual")
    assert listed == paid


def test_the_mdf_inflows_are_published(illustrative_url: str) -> None:
    entries, checkpoint = read_ledger(illustrative_url, eiti.INPUT_TYPES)
    data = json.loads(eiti.render(entries, checkpoint).files[eiti.JSON_FILE])
    receipts = [e for e in entries if e.type == "mdf_receipt"]
    assert receipts
    received = sum(Decimal(r["received_by_mdf_usd"]) for r in data["reconciliation"] if r["received_by_mdf_usd"])
    assert received == sum(Decimal(e.payload["amount_usd"]) for e in receipts)
    mdf = [e for e in data["part_3_reporting_entities"] if e["identifier"] == "XE-EXAMPLE-NAEF-MDF"]
    assert len(mdf) == 1
    assert "receives NAEF's residual" in mdf[0]["roles"]
    assert set(mdf[0]["ledger_entries"].split(";")) >= {str(e.index) for e in receipts}


def test_a_payer_recorded_by_name_before_identities_is_listed_out_of_scope() -> None:
    legacy = StoredEntry(7, PAY, "2031-01-01T00:00:00Z", {"period": "2031Q1", "payer": "PEMEX", "payee": TESOFE,
                                                          "stream": "duty", "amount_usd": "3.00"}, b"", b"")
    odd = StoredEntry(8, "revenue_collected", "2031-01-01T00:00:00Z",
                      {"period": "spring", "amount_usd": "4.00", "source": "PEMEX"}, b"", b"")
    payments, excluded, mdf = classify([legacy, odd])
    assert (payments, mdf) == ([], [])
    assert [(o.index, o.amount_usd) for o in excluded] == [(7, Decimal("3.00")), (8, Decimal("4.00"))]
    assert "payer 'PEMEX' is not an organisation identifier" in excluded[0].reason
    assert "period 'spring'" in excluded[1].reason


# ------------------------------------------------------------------------------------------ verify-bundle


def test_verify_bundle_re_derives_the_parts(make_ledger: LedgerFactory, log_vkey: VerifierKey,
                                             tmp_path: Path) -> None:
    url = make_ledger("bundle", [payment("2031Q1", "10.00", volume_bbl="5"), payment("2031Q2", "2.00"),
                                 ("checkpoint", {})])
    folder = export_bundle(url, "eiti", tmp_path / "b").folder
    assert verify_bundle(folder, log_vkey).entries == 2
    path = folder / eiti.JSON_FILE
    original = path.read_text(encoding="utf-8")
    doc = json.loads(original)
    doc["part_4_government_revenues"][0]["q2_usd"] = None   # hide a quarter's payment
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(BundleVerificationError) as exc:
        verify_bundle(folder, log_vkey)
    assert any(f.startswith("part 4 2031|XE-EXAMPLE-TESOFE|1415E1|hydrocarbon duty (ledger entries 0, 1): "
                            "eiti-summary-data.json /part_4_government_revenues: /q2_usd")
               for f in exc.value.failures)
    doc = json.loads(original)
    del doc["part_3_reporting_entities"][0]                    # drop a reporting entity
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(BundleVerificationError, match=r"part 3 company\|XE-EXAMPLE-PEMEX .*missing from"):
        verify_bundle(folder, log_vkey)
    path.write_text(original, encoding="utf-8")
    book = folder / eiti.XLSX_FILE
    wb = load_workbook(book)
    ws = wb["part_5_company_data"]
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("volume_bbl") + 1).value = 6
    wb.save(book)
    with pytest.raises(BundleVerificationError, match=r"part 5 2031\|XE-EXAMPLE-PEMEX.*volume_bbl"):
        verify_bundle(folder, log_vkey)
