"""Issue 20 (IATI as the IATI Validator wants it): no actual date in the future. A bundle is published *as of* a
date (``naef disclose --as-of``, default today in UTC, recorded in the manifest and re-derived by the verifier);
a fact the ledger dates after it — the demo's simulated timeline runs from 2027 — is published as planned: IATI
``planned-disbursement`` instead of a transaction, a planned start (activity-date 1) instead of an actual one,
no commitment yet; OC4IDS a scheduled payment milestone (with its value) instead of a transaction, milestones
``scheduled``. A publication date after today is refused, at export and at verification."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from lxml import etree

from naef.disclosure import BundleVerificationError, export_bundle, iati, oc4ids, verify_bundle
from naef.disclosure.errors import DisclosureError
from naef.ledger.keys import VerifierKey
from naef.ledger.log import Ledger
from tests.cli_main import naef_main

from .conftest import IATI_DIR, OC4IDS_DIR

LATER = datetime(2040, 1, 1, tzinfo=UTC)
"""A reader's clock after the demo's whole timeline (the tests stand in 2040)."""


def _dates(root: etree._Element) -> list[tuple[str, date]]:
    """(what, date) of every date IATI treats as actual."""
    out = []
    for a in root.iterfind("iati-activity"):
        out.append(("last-updated-datetime", date.fromisoformat(a.get("last-updated-datetime", "")[:10])))
        out += [(f"activity-date {d.get('type')}", date.fromisoformat(d.get("iso-date", "")))
                for d in a.iterfind("activity-date") if d.get("type") in ("2", "4")]
        for t in a.iterfind("transaction"):
            out.append(("transaction-date", date.fromisoformat(t.find("transaction-date").get("iso-date", ""))))
            out.append(("value-date", date.fromisoformat(t.find("value").get("value-date", ""))))
    return out


def test_the_demo_published_today_has_no_actual_date_in_the_future(
    demo_url: str, log_vkey: VerifierKey, tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    export_bundle(demo_url, "iati", tmp_path / "b")
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["as_of"] == today.isoformat()
    xml = (tmp_path / "b" / iati.FILE).read_bytes()
    assert iati.validate(xml, IATI_DIR) == []
    root = etree.fromstring(xml)
    late = [(what, d) for what, d in _dates(root) if d > today]
    assert late == []
    with Ledger.open(demo_url) as ledger:
        executions = [e for e in ledger.entries() if e.type == "disbursement_executed"]
    assert min(e.time for e in executions)[:10] > today.isoformat()  # the demo's timeline is in the future
    # so every payment is a planned disbursement, with the ledger's amount and date
    planned = root.findall(".//planned-disbursement")
    assert root.findall(".//transaction") == []
    assert len(planned) == len(executions)
    got = sorted((p.find("period-start").get("iso-date"), p.find("value").text) for p in planned)
    assert got == sorted((e.time[:10], e.payload["amount_usd"]) for e in executions)
    assert {d.get("type") for d in root.iter("activity-date")} <= {"1", "3"}
    assert "published as of " + today.isoformat() in verify_bundle(tmp_path / "b", log_vkey).line()


def test_published_later_the_same_ledger_shows_the_payments_as_transactions(
    demo_url: str, log_vkey: VerifierKey, tmp_path: Path
) -> None:
    export_bundle(demo_url, "iati", tmp_path / "b", now=LATER)
    root = etree.fromstring((tmp_path / "b" / iati.FILE).read_bytes())
    assert root.findall(".//planned-disbursement") == []
    assert {t.find("transaction-type").get("code") for t in root.iter("transaction")} >= {"2", "4"}
    assert "2" in {d.get("type") for d in root.iter("activity-date")}
    assert verify_bundle(tmp_path / "b", log_vkey, now=LATER).published == "2040-01-01"
    # read today, a bundle dated 2040 claims a publication in the future
    with pytest.raises(BundleVerificationError) as info:
        verify_bundle(tmp_path / "b", log_vkey)
    assert any("as_of 2040-01-01 is after today" in f for f in info.value.failures)


def test_a_changed_publication_date_is_named(demo_url: str, log_vkey: VerifierKey, tmp_path: Path) -> None:
    export_bundle(demo_url, "iati", tmp_path / "b", as_of=date(2026, 1, 1))
    path = tmp_path / "b" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["as_of"] = "2039-12-31"  # pretend the payments happened: the file no longer re-derives
    path.write_text(json.dumps(manifest))
    with pytest.raises(BundleVerificationError) as info:
        verify_bundle(tmp_path / "b", log_vkey, now=LATER)
    assert any(f.startswith("iati-activity ") for f in info.value.failures)


def test_oc4ids_shows_future_payments_as_scheduled_payment_milestones(demo_url: str, tmp_path: Path) -> None:
    today = datetime.now(UTC).date().isoformat()
    export_bundle(demo_url, "oc4ids", tmp_path / "b")
    package = json.loads((tmp_path / "b" / oc4ids.FILE).read_text())
    assert oc4ids.validate(package, OC4IDS_DIR) == []
    assert package["publishedDate"][:10] <= today
    payments = []
    for project in package["projects"]:
        assert project["updated"][:10] <= today
        assert project["status"] == "preparation"
        for process in project["contractingProcesses"]:
            assert "transactions" not in process["summary"]
            payments += process["summary"].get("milestones", [])
        for m in project.get("milestones", []):
            assert m["status"] == "scheduled"
            assert "dateMet" not in m
    assert payments
    assert all(m["type"] == "payment" and m["status"] == "scheduled" and m["dueDate"][:10] > today
               and m["value"]["amount"] > 0 for m in payments)
    later = tmp_path / "later"
    export_bundle(demo_url, "oc4ids", later, now=LATER)
    package = json.loads((later / oc4ids.FILE).read_text())
    assert oc4ids.validate(package, OC4IDS_DIR) == []
    paid = [t for p in package["projects"] for c in p["contractingProcesses"]
            for t in c["summary"].get("transactions", [])]
    assert sum(t["value"]["amount"] for t in paid) == sum(m["value"]["amount"] for m in payments)


def test_a_publication_date_after_today_is_refused(
    demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(DisclosureError, match=r"^--as-of 2999-01-01: after today"):
        export_bundle(demo_url, "iati", tmp_path / "b", as_of=date(2999, 1, 1))
    for bad, reason in (("2999-01-01", "after today"), ("2026-13-01", "expected a date YYYY-MM-DD"),
                        ("yesterday", "expected a date YYYY-MM-DD")):
        code, _, err = naef_main(monkeypatch, capsys, "disclose", "iati", "--ledger", demo_url, "--out",
                                 str(tmp_path / "c"), "--as-of", bad)
        assert code == 2
        assert err.startswith(f"error: --as-of {bad if reason == 'after today' else repr(bad)}")
        assert reason in err
        assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
