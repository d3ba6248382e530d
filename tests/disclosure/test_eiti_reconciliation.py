"""Issue 20 (EITI): a reconciliation of payments against receipts. Per period, what NAEF reports paying the MDF
(``waterfall_payment`` step ``mdf_residual``) against what the MDF reports receiving (signed ``mdf_receipt``):
``reconciled``, ``difference`` (with the amount), or reported by one side only — an empty cell for the side that
recorded nothing, never a zero. A changed reconciliation cell fails ``verify-bundle`` naming the period."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from naef.disclosure import BundleVerificationError, eiti, export_bundle, verify_bundle
from naef.ledger.approvals import record_receipt
from naef.ledger.keys import SignerKey, VerifierKey
from naef.ledger.log import Ledger
from tests.ledger.governed import bootstrap, receipt

from .conftest import read_ledger


def _sheet(data: bytes) -> list[list[object]]:
    wb = load_workbook(io.BytesIO(data))
    return [list(r) for r in wb["reconciliation"].iter_rows(values_only=True)]


def _residual(period: str, amount: str) -> dict[str, str]:
    return {"period": period, "step": "mdf_residual", "payee": "MDF", "amount_usd": amount}


def test_each_side_is_compared_and_not_recorded_is_empty(tmp_path: Path, log_signer: SignerKey) -> None:
    url = str(tmp_path / "l.db")
    with Ledger.init(url, log_signer.verifier()) as ledger:
        bootstrap(ledger, payees=(), funds_usd="0")
        ledger.append("waterfall_payment", _residual("2030Q1", "100.00"))   # received in full
        record_receipt(ledger, receipt("R-1", "100.00"))                    # period 2030Q1
        ledger.append("waterfall_payment", _residual("2030Q2", "50.00"))    # the MDF recorded 40
        ledger.append("waterfall_payment", _residual("2030Q3", "70.00"))    # the MDF recorded nothing
        ledger.checkpoint(log_signer)
    entries, cp = read_ledger(url, eiti.INPUT_TYPES)
    mismatch = [e for e in entries if e.type == "waterfall_payment"]
    assert len(mismatch) == 3
    # add the MDF's own figure for 2030Q2 and a receipt with no payment behind it
    with Ledger.open(url) as ledger:
        from naef.ledger.approvals import MdfReceipt, sign_receipt
        from tests.ledger.governed import key

        for rid, period, amount in (("R-2", "2030Q2", "40.00"), ("R-3", "2030Q4", "5.00")):
            record_receipt(ledger, sign_receipt(MdfReceipt(receipt_id=rid, period=period, amount_usd=amount,
                                                           source="NAEF waterfall", recorder="registrar"),
                                                key("registrar")))
        ledger.checkpoint(log_signer)
    entries, cp = read_ledger(url, eiti.INPUT_TYPES)
    rendered = eiti.render(entries, cp)
    rows = _sheet(rendered.files[eiti.XLSX_FILE])
    assert rows[0] == list(eiti.RECONCILIATION_COLUMNS)
    got = {r[0]: (r[1], r[2], r[3], r[4]) for r in rows[1:]}
    assert got == {
        "2030Q1": (100, 100, 0, "reconciled"),
        "2030Q2": (50, 40, 10, "difference"),
        "2030Q3": (70, None, None, "reported by NAEF only"),
        "2030Q4": (None, 5, None, "reported by the MDF only"),
    }
    records = {r.id: r for r in rendered.records}
    receipts = {e.payload["receipt_id"]: e.index for e in entries if e.type == "mdf_receipt"}
    assert receipts["R-2"] in records["reconciliation 2030Q2"].leaves


def test_the_demo_reconciles_and_a_changed_cell_is_named(
    illustrative_url: str, log_vkey: VerifierKey, tmp_path: Path
) -> None:
    export_bundle(illustrative_url, "eiti", tmp_path / "b")
    path = tmp_path / "b" / eiti.XLSX_FILE
    rows = _sheet(path.read_bytes())
    assert len(rows) > 1
    assert {r[4] for r in rows[1:]} == {"reconciled"}
    entries, _ = read_ledger(illustrative_url)
    assert sum(Decimal(str(r[2])) for r in rows[1:]) == sum(
        Decimal(e.payload["amount_usd"]) for e in entries if e.type == "mdf_receipt")
    wb = load_workbook(path)
    ws = wb["reconciliation"]
    ws.cell(row=2, column=3).value = float(rows[1][2]) - 1  # the MDF "received" one dollar less
    wb.save(path)
    with pytest.raises(BundleVerificationError) as info:
        verify_bundle(tmp_path / "b", log_vkey)
    assert any(f.startswith(f"reconciliation {rows[1][0]}") and "received_by_mdf_usd" in f
               for f in info.value.failures)
