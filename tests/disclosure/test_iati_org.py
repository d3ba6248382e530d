"""Issue 20 (IATI): an IATI organisation file with the MDF's incoming funds and budget — valid against the official
``iati-organisations-schema.xsd``; its totals equal the ledger's receipts and payments; a changed value fails
``verify-bundle`` naming the record."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from naef.disclosure import BundleVerificationError, export_bundle, iati, verify_bundle
from naef.disclosure.iati_org import ORG_FILE, validate
from naef.disclosure.orgid import MDF_PUBLISHER
from naef.ledger.keys import VerifierKey

from .conftest import IATI_DIR, read_ledger

LATER = datetime(2040, 1, 1, tzinfo=UTC)


def test_the_organisation_file_sums_the_receipts_and_payments(illustrative_url: str) -> None:
    entries, cp = read_ledger(illustrative_url, iati.INPUT_TYPES)
    for as_of in (None, "2026-01-01"):
        rendered = iati.render(entries, cp, publisher=replace(MDF_PUBLISHER, as_of=as_of))
        xml = rendered.files[ORG_FILE]
        assert validate(xml, IATI_DIR) == []
        org = etree.fromstring(xml).find("iati-organisation")
        assert org is not None
        assert org.findtext("organisation-identifier") == "XE-EXAMPLE-NAEF-MDF"
        receipts = [e for e in entries if e.type == "mdf_receipt"]
        assert receipts
        budgets = org.findall("total-budget")
        assert sum(Decimal(b.findtext("value")) for b in budgets) == sum(
            Decimal(e.payload["amount_usd"]) for e in receipts)
        assert sum(len(b.findall("budget-line")) for b in budgets) == len(receipts)
        paid = sum(Decimal(x.findtext("value")) for x in org.findall("total-expenditure"))
        executions = [e for e in entries if e.type == "disbursement_executed"]
        if as_of is None:
            assert {b.get("status") for b in budgets} == {"2"}
            assert paid == sum(Decimal(e.payload["amount_usd"]) for e in executions) > 0
        else:  # the demo's dates are after the publication date: indicative budgets, nothing spent yet
            assert {b.get("status") for b in budgets} == {"1"}
            assert paid == 0
            assert org.get("last-updated-datetime") == "2026-01-01T00:00:00Z"
        record = next(r for r in rendered.records if r.id == "iati-organisation XE-EXAMPLE-NAEF-MDF")
        assert {e.index for e in receipts} <= set(record.leaves)


def test_a_changed_incoming_fund_fails_verification(
    illustrative_url: str, log_vkey: VerifierKey, tmp_path: Path
) -> None:
    export_bundle(illustrative_url, "iati", tmp_path / "b", now=LATER)
    assert verify_bundle(tmp_path / "b", log_vkey, now=LATER).records >= 2
    path = tmp_path / "b" / ORG_FILE
    text = path.read_text(encoding="utf-8")
    first = etree.fromstring(text.encode()).find(".//budget-line/value").text
    path.write_text(text.replace(f">{first}<", ">1.00<", 1), encoding="utf-8")
    with pytest.raises(BundleVerificationError) as info:
        verify_bundle(tmp_path / "b", log_vkey, now=LATER)
    assert any(f.startswith("iati-organisation XE-EXAMPLE-NAEF-MDF") and "budget-line" in f
               for f in info.value.failures)
    path.unlink()
    with pytest.raises(BundleVerificationError) as info:
        verify_bundle(tmp_path / "b", log_vkey, now=LATER)
    assert any(ORG_FILE in f and "cannot read" in f for f in info.value.failures)
