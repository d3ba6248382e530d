"""Issue 20, adversarial review: the "Why" bullets that no other test pinned down — loans carry finance type 421,
the OC4IDS package's ``uri`` is a name and not a dead web address, the OC4IDS description carries the integrity
signals (approvers, refusal, declaration, chain) as IATI does, and the EITI parts' sums are invariant (hypothesis:
Part 4 = Part 5 = the in-scope payments; quarters + other periods = the fiscal-year total; nothing lost)."""

from __future__ import annotations

import copy
import csv
import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from typer.testing import CliRunner

from naef.commands.ledger import ledger_app
from naef.commands.ledger_ops import register
from naef.disclosure import eiti, iati, oc4ids
from naef.disclosure.common import ExportCheckpoint
from naef.disclosure.model import MDF_ORG_REF
from naef.ledger.errors import LedgerError
from naef.ledger.log import Ledger, StoredEntry

from .conftest import OC4IDS_DIR, LedgerFactory, read_ledger


def test_an_sme_credit_programme_is_a_loan_paid_as_disbursements(demo_url: str) -> None:
    """'loans would carry no finance-type': a project whose proposals are all SME credit is FinanceType 421."""
    entries, checkpoint = read_ledger(demo_url, iati.INPUT_TYPES)
    changed: list[StoredEntry] = []
    for e in entries:
        proposal = e.payload.get("proposal") if e.type == "disbursement_proposed" else None
        if isinstance(proposal, dict) and proposal.get("project_id") == "scholarships-2029":
            payload = copy.deepcopy(dict(e.payload))
            payload["proposal"]["unit_cost"]["project_type"] = "small_enterprise_loans"
            e = replace(e, payload=payload)
        changed.append(e)
    root = etree.fromstring(iati.render(changed, checkpoint).files[iati.FILE])
    (loans,) = [a for a in root.iterfind("iati-activity")
                if a.findtext("iati-identifier") == f"{MDF_ORG_REF}-scholarships-2029"]
    finance = loans.find("default-finance-type")
    assert finance is not None
    assert finance.get("code") == iati.FINANCE_LOAN == "421"
    sector = loans.find("sector")
    assert sector is not None
    assert sector.get("code") == "32130"
    codes = {t.get("code") for t in loans.iterfind("transaction/transaction-type")}
    assert "4" not in codes  # credit is placed at the borrower's disposal: disbursement, not expenditure


def test_the_oc4ids_uri_is_a_name_and_the_description_carries_the_integrity_signals(demo_url: str) -> None:
    entries, checkpoint = read_ledger(demo_url, oc4ids.INPUT_TYPES)
    package = json.loads(oc4ids.render(entries, checkpoint).files[oc4ids.FILE])
    assert package["uri"] == f"urn:naef:disclosure:oc4ids:{checkpoint.origin}:{checkpoint.size}"
    (port,) = [p for p in package["projects"] if p["id"] == oc4ids.project_id("port-veracruz-terminal")]
    text = port["description"]
    assert "approved by na-board-2 (north_american_board)" in text
    assert "approval by na-board-1 refused (conflict_of_interest)" in text
    assert "declaration: na-board-1 declared an interest in demo-person-ana" in text
    assert "chain: demo-person-ana → demo-holding → demo-constructora" in text
    # CoST IDS party identifiers: the MDF's org-id, and each payee's from its BODS record (as IATI's @ref)
    parties = {p["id"]: p for p in port["parties"]}
    assert parties[MDF_ORG_REF]["identifier"] == {"scheme": "XE-EXAMPLE", "id": "NAEF-MDF"}
    assert parties["demo-constructora"]["identifier"] == {"scheme": "XE-EXAMPLE", "id": "DEMO-CONSTRUCTORA"}


def test_the_iati_description_carries_the_declaration_of_interest(demo_url: str) -> None:
    entries, checkpoint = read_ledger(demo_url, iati.INPUT_TYPES)
    root = etree.fromstring(iati.render(entries, checkpoint).files[iati.FILE])
    (port,) = [a for a in root.iterfind("iati-activity")
               if a.findtext("iati-identifier") == f"{MDF_ORG_REF}-port-veracruz-terminal"]
    notes = port.findtext("description[@type='4']/narrative") or ""
    assert "declaration: na-board-1 declared an interest in demo-person-ana (spouse, " in notes


@pytest.mark.parametrize("code", ["banana", "1499"])
def test_the_cli_refuses_an_unknown_gfs_code_with_exit_2(make_ledger: LedgerFactory, code: str) -> None:
    url = make_ledger("cli", [])
    register(ledger_app)
    payload = {"period": "2031Q1", "payer": "XE-EXAMPLE-PEMEX", "payee": "XE-EXAMPLE-TESOFE", "stream": "duty",
               "amount_usd": "1.00", "gfs_code": code}
    result = CliRunner().invoke(ledger_app, ["append", url, "--type", "government_payment",
                                             "--payload", json.dumps(payload)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "payload.gfs_code" in lines[0]
    assert f"{code!r} is not a GFSM 2014 revenue code" in lines[0]
    with Ledger.open(url) as ledger:
        assert ledger.size() == 0


def test_milestones_carry_their_type(demo_url: str, make_ledger: LedgerFactory) -> None:
    """CoST IDS 'milestone types': a milestone recorded with its OC4IDS milestoneType is published with it (the
    demo's payment milestones are ``payment``); an unknown type is refused at append."""
    entries, checkpoint = read_ledger(demo_url, oc4ids.INPUT_TYPES)
    package = json.loads(oc4ids.render(entries, checkpoint).files[oc4ids.FILE])
    with (OC4IDS_DIR / "codelists" / "milestoneType.csv").open(encoding="utf-8") as fh:
        codes = {row["Code"] for row in csv.DictReader(fh)}
    types = [m.get("type") for p in package["projects"] for m in p.get("milestones", [])]
    assert types
    assert set(types) == {"payment"} <= codes
    with pytest.raises(LedgerError, match=r"payload\.milestone_type"):
        make_ledger("bad", [("project_milestone", {"project_id": "p", "milestone": "m", "status": "reached",
                                                   "on": "2031-01-01", "milestone_type": "ribbon cutting"})])


_CP = ExportCheckpoint("example.org/log", 1, b"\x00" * 32, "note")
_ORG = st.sampled_from(["XE-EXAMPLE-PEMEX", "XE-EXAMPLE-PEP", "XE-EXAMPLE-PMI"])
_PERIOD = st.sampled_from(["2030Q1", "2030Q2", "2030Q4", "2031Q1", "2031H2", "2031", "2031-05", "someday"])
_CENTS = st.integers(min_value=0, max_value=10**12).map(lambda c: Decimal(c) / 100)


@st.composite
def _entries(draw: st.DrawFn) -> list[StoredEntry]:
    out: list[StoredEntry] = []
    for i in range(draw(st.integers(min_value=1, max_value=12))):
        kind = draw(st.sampled_from(["government_payment", "revenue_collected", "waterfall_payment"]))
        amount = f"{draw(_CENTS):.2f}"
        period = draw(_PERIOD)
        payload: dict[str, Any]
        if kind == "government_payment":
            payload = {"period": period, "payer": draw(_ORG), "payee": "XE-EXAMPLE-TESOFE", "stream": "duty",
                       "amount_usd": amount, "gfs_code": draw(st.sampled_from(["1415E1", "1412", "1112E1"]))}
            if draw(st.booleans()):
                payload["volume_bbl"] = str(draw(st.integers(min_value=0, max_value=10**9)))
        elif kind == "revenue_collected":
            payload = {"period": period, "amount_usd": amount, "source": draw(st.sampled_from(["PEMEX", "PEMEX-PMI"]))}
        else:
            payload = {"period": period, "amount_usd": amount, "payee": "holders",
                       "step": draw(st.sampled_from(["interest", "mdf_residual"]))}
        out.append(StoredEntry(i, kind, "2031-01-01T00:00:00Z", payload, b"", b""))
    return out


@settings(max_examples=60, deadline=None)
@given(_entries())
def test_the_parts_add_up_and_nothing_is_lost(entries: list[StoredEntry]) -> None:
    """Every entry the EITI tables read is published in Part 4 and Part 5, in the reconciliation, or listed out of
    scope — never twice; each row's quarters and other periods add up to its fiscal-year total."""
    if not eiti.revenue_rows(entries):
        return
    data = json.loads(eiti.render(entries, _CP).files[eiti.JSON_FILE])
    part4, part5 = data["part_4_government_revenues"], data["part_5_company_data"]
    out = data["out_of_scope"]
    total = sum((Decimal(e.payload["amount_usd"]) for e in entries), Decimal(0))
    mdf = sum((Decimal(e.payload["amount_usd"]) for e in entries
               if e.type == "waterfall_payment" and e.payload["step"] == "mdf_residual"), Decimal(0))
    in_4 = sum((Decimal(r["fiscal_year_total_usd"]) for r in part4), Decimal(0))
    in_5 = sum((Decimal(r["fiscal_year_total_usd"]) for r in part5), Decimal(0))
    listed = sum((Decimal(o["amount_usd"]) for o in out), Decimal(0))
    assert in_4 == in_5
    assert in_4 + listed + mdf == total
    leaves = [int(i) for r in part5 for i in r["ledger_entries"].split(";")] + [o["ledger_entry"] for o in out]
    assert len(leaves) == len(set(leaves))
    for row in [*part4, *part5]:
        cells = [row[c] for c in ("q1_usd", "q2_usd", "q3_usd", "q4_usd", "other_periods_usd")]
        assert sum((Decimal(c) for c in cells if c is not None), Decimal(0)) == Decimal(row["fiscal_year_total_usd"])


def test_the_budget_approval_date_is_when_the_quorum_was_met(demo_url: str) -> None:
    """CoST IDS 'budget approval date': each MDF budget entry (a proposal) carries ``approvalDate`` = the time its
    recorded approvals first met the quorum (executed: the latest approval its execution counted) — the same date
    as its IATI commitment (transaction type 2) — and none for a proposal neither approved nor executed."""
    entries, checkpoint = read_ledger(demo_url, sorted(set(oc4ids.INPUT_TYPES) | set(iati.INPUT_TYPES)))
    oc_entries = [e for e in entries if e.type in oc4ids.INPUT_TYPES]
    package = json.loads(oc4ids.render(oc_entries, checkpoint).files[oc4ids.FILE])
    root = etree.fromstring(iati.render([e for e in entries if e.type in iati.INPUT_TYPES], checkpoint)
                            .files[iati.FILE])
    commitments = {
        (a.findtext("iati-identifier"), t.find("transaction-date").get("iso-date"), t.find("value").text)
        for a in root.iterfind("iati-activity") for t in a.iterfind("transaction")
        if t.find("transaction-type").get("code") == "2"
    }
    published = {i["id"] for project in package["projects"] for i in project["identifiers"] if i["scheme"] == "IATI"}
    commitments = {c for c in commitments if c[0] in published}  # OC4IDS publishes the infrastructure projects
    dated = 0
    for project in package["projects"]:
        (iati_id,) = [i["id"] for i in project["identifiers"] if i["scheme"] == "IATI"]
        for entry in project["budget"]["budgetBreakdowns"][0]["budgetBreakdown"]:
            if "approvalDate" in entry:
                dated += 1
                amount = entry["amount"]["amount"]
                assert any(c[0] == iati_id and c[1] == entry["approvalDate"][:10]
                           and Decimal(c[2]) == Decimal(str(amount)) for c in commitments), (entry, iati_id)
    assert dated == len(commitments) > 0
    without = [e for e in oc_entries if e.type not in ("disbursement_approved", "disbursement_executed")]
    package = json.loads(oc4ids.render(without, checkpoint).files[oc4ids.FILE])
    assert not any("approvalDate" in entry for project in package["projects"]
                   for b in project["budget"]["budgetBreakdowns"] for entry in b["budgetBreakdown"])
