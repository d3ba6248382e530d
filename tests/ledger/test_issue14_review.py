"""Issue 14, an adversarial review of what was built: the attacks that had no regression test yet.

* item 1 — *every* way to append in Python (``Ledger.append``, ``append_entry``, ``append_batch``, and a
  transaction's ``append``, ``append_entry``, ``append_entries``) refuses a forged governed entry, nothing appended;
* "Why" 1 / item 3 — a forged execution written around the rules is never shown as paid: not on the proposals,
  not in the MDF's figures (the MDF page counted it as disbursed before this review), and the portal's received,
  disbursed and balance equal ``audit``'s at every index;
* "Why" 3 through the CLI — a ``closed`` BODS statement signed by a board member is refused (exit 2, one line);
* "Why" 6 — a row of the wrong storage type answers no route with a 500 and ``naef ledger verify``/``audit`` exit 2
  with one line naming it (no traceback).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from naef.ledger.approvals import (
    ENTRY_AMENDED,
    ENTRY_EXECUTED,
    RuleViolationError,
    approve,
    control_state,
    execute,
    propose,
    record_receipt,
    sign_approval,
    sign_proposal,
)
from naef.ledger.audit import audit
from naef.ledger.entries import make_entry
from naef.ledger.keys import SignerKey, write_key_pair
from naef.ledger.log import Ledger
from tests.cli_main import naef_main
from tests.ledger.governed import around_the_rules, bootstrap, entity_statement, key, receipt
from tests.ledger.test_governed_attacks import PAYEE, forged_execution, governed, proposal

__all__ = ["governed"]  # the fixture, imported for these tests

REVENUE = ("revenue_collected", {"period": "2030Q2", "amount_usd": "1.00", "source": "PEMEX"})


def _ways_in(ledger: Ledger) -> dict[str, Any]:
    forged = make_entry(ENTRY_EXECUTED, forged_execution())
    harmless = make_entry(*REVENUE)

    def in_transaction(how: str) -> None:
        with ledger.transaction() as tx:
            tx.append(*REVENUE)
            if how == "append":
                tx.append(ENTRY_EXECUTED, forged_execution())
            elif how == "append_entry":
                tx.append_entry(forged)
            else:
                tx.append_entries([harmless, forged])

    return {
        "Ledger.append": lambda: ledger.append(ENTRY_EXECUTED, forged_execution()),
        "Ledger.append_entry": lambda: ledger.append_entry(forged),
        "Ledger.append_batch": lambda: ledger.append_batch([REVENUE, (ENTRY_EXECUTED, forged_execution())]),
        "Ledger.append_batch(Entry)": lambda: ledger.append_batch([harmless, forged]),
        "tx.append": lambda: in_transaction("append"),
        "tx.append_entry": lambda: in_transaction("append_entry"),
        "tx.append_entries": lambda: in_transaction("append_entries"),
    }


WAYS = ("Ledger.append", "Ledger.append_entry", "Ledger.append_batch", "Ledger.append_batch(Entry)", "tx.append",
        "tx.append_entry", "tx.append_entries")


@pytest.mark.parametrize("way", WAYS)
def test_every_python_way_in_refuses_a_forged_execution(governed: Ledger, way: str) -> None:
    size = governed.size()
    with pytest.raises(RuleViolationError, match=r"\(disbursement_executed\): rule quorum_not_met"):
        _ways_in(governed)[way]()
    assert governed.size() == size  # all or nothing: the harmless entries beside it are not appended either
    assert audit(governed.entries()).ok


def test_an_unsigned_amendment_cannot_be_appended_any_way(governed: Ledger) -> None:
    from naef.ledger.approvals import control_state, draft_amendment
    from naef.ledger.interests import ConflictReach

    draft = draft_amendment(control_state(governed), ConflictReach(directions=("upward", "sideways")))
    payload = {"amendment": draft.model_dump(mode="json"), "signatures": []}
    size = governed.size()
    with pytest.raises(Exception, match="signatures"):
        governed.append(ENTRY_AMENDED, payload)
    assert governed.size() == size


@pytest.fixture
def naef(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[Any, str, str]]:
    """``naef *argv`` in process: (exit code, stdout, stderr)."""
    return lambda *argv: naef_main(monkeypatch, capsys, *argv)


def test_a_closing_bods_statement_through_the_cli_needs_a_registrar(
    db_url: str, log_key: SignerKey, tmp_path: Path, naef: Callable[..., tuple[Any, str, str]]
) -> None:
    with Ledger.init(db_url, log_key.verifier()) as ledger:
        bootstrap(ledger, payees=(PAYEE,))
        size = ledger.size()
    closing = {**entity_statement(PAYEE), "statementId": "closing-statement-0001-abcdefghijk", "recordStatus": "closed"}
    statements = tmp_path / "close.json"
    statements.write_text(json.dumps([closing]))
    write_key_pair(key("na-1"), tmp_path)
    code, _, err = naef("ledger", "import-bods", db_url, str(statements), "--key", str(tmp_path / "na-1.key"))
    assert code == 2
    assert err.count("\n") == 1
    assert "rule not_a_registrar" in err
    with Ledger.open(db_url) as ledger:
        assert ledger.size() == size
        assert control_state_knows(ledger, PAYEE)


def control_state_knows(ledger: Ledger, record_id: str) -> bool:
    from naef.ledger.approvals import control_state

    return control_state(ledger).knows_payee(record_id)


# ------------------------------------------------------------------------------------------------ the portal


def _client(db_url: str) -> Any:
    pytest.importorskip("fastapi", reason="the web extra is not installed")
    from fastapi.testclient import TestClient

    from naef.web import WebConfig, create_app

    return TestClient(create_app(WebConfig(ledger_url=db_url, write_rate_per_minute=600.0, write_burst=100)))


def _figures(client: Any) -> tuple[str, str, str]:
    mdf = client.get("/api/mdf").json()
    return mdf["received_usd"], mdf["disbursed_usd"], mdf["balance_usd"]


def _audited(ledger: Ledger) -> tuple[str, str, str]:
    report = audit(ledger.entries())
    return f"{report.received_usd:.2f}", f"{report.disbursed_usd:.2f}", f"{report.balance_usd:.2f}"


def test_a_forged_execution_is_never_shown_as_paid(governed: Ledger) -> None:
    index = around_the_rules(governed, ENTRY_EXECUTED, forged_execution())
    with _client(str(governed.engine.url.render_as_string(hide_password=False))) as client:
        assert client.get("/api/proposals/MDF-1").json()["status"] != "executed"
        received, disbursed, balance = _figures(client)
        assert (received, disbursed, balance) == ("100000000.00", "0.00", "100000000.00")
        road = next(p for p in client.get("/api/mdf").json()["projects"] if p["project_id"] == "road-1")
        assert road["disbursed_usd"] == "0.00"
        assert road["status"] == "proposed"
        page = client.get("/mdf").text
        assert 'id="mdf-disbursed">' in page
        ledger_page = client.get("/ledger").text
        assert f"entry {index} (disbursement_executed): rule quorum_not_met" in ledger_page


def test_the_portals_mdf_figures_equal_the_audit_at_every_index(governed: Ledger) -> None:
    url = str(governed.engine.url.render_as_string(hide_password=False))
    steps = [
        lambda: approve(governed, sign_approval(proposal(), key("mx-2"))),
        lambda: approve(governed, sign_approval(proposal(), key("na-1"))),
        lambda: approve(governed, sign_approval(proposal(), key("controller"))),
        lambda: execute(governed, "MDF-1"),
        lambda: record_receipt(governed, receipt("RCPT-2", "12.34")),
        lambda: propose(governed, sign_proposal(proposal("MDF-2", amount="75000012.34"), key("mx-1"))),
        *[lambda s=s: approve(governed, sign_approval(proposal("MDF-2", amount="75000012.34"), key(s)))
          for s in ("mx-2", "na-1", "controller")],
        lambda: execute(governed, "MDF-2"),
        lambda: around_the_rules(governed, "mdf_receipt", receipt("RCPT-X", "5.00", recorder="mx-1").model_dump(
            mode="json")),
    ]
    with _client(url) as client:
        assert _figures(client) == _audited(governed)
        for step in steps:
            step()
            assert _figures(client) == _audited(governed), governed.size()
        assert _figures(client) == ("100000012.34", "100000012.34", "0.00")  # the forged receipt counts nothing


def test_a_row_of_the_wrong_storage_type_never_answers_500(
    sqlite_url: str, log_key: SignerKey, naef: Callable[..., tuple[Any, str, str]]
) -> None:
    with Ledger.init(sqlite_url, log_key.verifier()) as ledger:
        bootstrap(ledger, payees=(PAYEE,))
        propose(ledger, sign_proposal(proposal(), key("mx-1")))
        ledger.checkpoint(log_key)
        with ledger.engine.begin() as conn:
            conn.execute(text("UPDATE ledger_entries SET canonical = CAST(canonical AS TEXT) WHERE idx = 1"))
    with _client(sqlite_url) as client:
        for path in ("/api/ledger", "/api/ledger/entries", "/api/ledger/entries/1", "/api/ledger/entries/0",
                     "/api/ledger/proofs/inclusion?index=1", "/api/ledger/audit", "/api/proposals",
                     "/api/governance", "/api/mdf", "/api/disclosures/ledger.jsonl", "/ledger", "/ledger/entries/1",
                     "/mdf", "/sign", "/sign/MDF-1"):
            r = client.get(path)
            assert r.status_code < 500, (path, r.status_code, r.text[:300])
        r = client.get("/api/ledger/entries/1")
        assert r.status_code == 400
        assert "entry 1: stored with the wrong column types" in r.json()["error"]["message"]
    for command in ("verify", "audit"):
        code, _, err = naef("ledger", command, sqlite_url)
        assert code == 2
        assert err.count("\n") == 1
        assert "entry 1: stored with the wrong column types" in err
        assert "Traceback" not in err


def test_a_row_changed_after_the_server_read_it_ends_the_download_with_a_named_line(
    sqlite_url: str, log_key: SignerKey
) -> None:
    with Ledger.init(sqlite_url, log_key.verifier()) as ledger:
        bootstrap(ledger, payees=(PAYEE,))
        ledger.checkpoint(log_key)
    with _client(sqlite_url) as client:
        assert client.get("/api/ledger/audit").json()["ok"] is True  # the server has read every entry
        with Ledger.open(sqlite_url) as ledger, ledger.engine.begin() as conn:
            conn.execute(text("UPDATE ledger_entries SET canonical = CAST(canonical AS TEXT) WHERE idx = 1"))
        r = client.get("/api/disclosures/ledger.jsonl")
        assert r.status_code == 200
        lines = [json.loads(line) for line in r.text.splitlines()]
        assert all(line["index"] < 1 for line in lines[:-1])  # rows are read in chunks: it stops at or before 1
        assert lines[-1]["error"].startswith("entry 1: stored with the wrong column types")


def proposal_stored_as_text(ledger: Ledger) -> None:
    """The governance, then proposal MDF-1 at index 3, whose row is then changed to TEXT in the database."""
    bootstrap(ledger, payees=(PAYEE,))
    assert propose(ledger, sign_proposal(proposal("MDF-1"), key("mx-1"))) == [3]
    with ledger.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_entries SET canonical = CAST(canonical AS TEXT) WHERE idx = 3"))


def test_an_unreadable_governed_row_is_a_named_fault_and_never_blocks_later_writes(
    sqlite_url: str, log_key: SignerKey
) -> None:
    # "A bad row found while folding state ... never blocks other writes": the proposal row 3 is changed to
    # another storage type in the database; the fold names it (rule 'unreadable', index 3) and skips it, and the
    # next proposal and its approvals are still admitted through the storage layer's gate
    with Ledger.init(sqlite_url, log_key.verifier()) as ledger:
        proposal_stored_as_text(ledger)
        state = control_state(ledger)
        assert [(f.index, f.rule) for f in state.faults] == [(3, "unreadable")]
        assert "entry 3: stored with the wrong column types" in state.faults[0].reason
        assert "MDF-1" not in state.proposals
        index = propose(ledger, sign_proposal(proposal("MDF-2"), key("mx-1")))
        assert index == [4]
        assert "MDF-2" in control_state(ledger).proposals
        assert ledger.size() == 5
