"""Issue 14, the findings of review1420 that had no regression test:

* F5 — on the web, a row of the wrong storage type is a named fault of the view's fold (the audit endpoint and
  the portal name it), reading that entry answers 400, and every other read and signed write goes on;
* F2 — a deleted checkpoint row is named by ``naef ledger verify`` even when the head's counters are edited too;
* F6 — the storage layer's rule hook is installed once: a second install is refused.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from naef.ledger.approvals import propose, sign_proposal
from naef.ledger.keys import SignerKey
from naef.ledger.log import Ledger
from tests.ledger.governed import bootstrap, key
from tests.ledger.test_governed_attacks import PAYEE, proposal
from tests.ledger.test_issue14_review import _client


def test_an_unreadable_row_never_blocks_a_signed_web_write(
    sqlite_url: str, log_key: SignerKey, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.web.conftest import signed_post

    with Ledger.init(sqlite_url, log_key.verifier()) as ledger:
        bootstrap(ledger, payees=(PAYEE,))
        assert propose(ledger, sign_proposal(proposal("MDF-1"), key("mx-1"))) == [3]
        with ledger.engine.begin() as conn:
            conn.execute(text("UPDATE ledger_entries SET canonical = CAST(canonical AS TEXT) WHERE idx = 3"))
    caplog.set_level(logging.ERROR)
    with _client(sqlite_url) as client:
        body = sign_proposal(proposal("MDF-2"), key("mx-1")).model_dump(mode="json")
        res = signed_post(client, "/api/proposals", body, key("mx-1"), origin=log_key.name)
        assert res.status_code == 201, res.text
        ids = [p["proposal_id"] for p in client.get("/api/proposals").json()["proposals"]]
        assert ids == ["MDF-2"]  # the unreadable proposal is never shown as a fact
        status = client.get("/api/ledger/audit").json()
        assert status["ok"] is False
        assert (status["first_fault"]["index"], status["first_fault"]["rule"]) == (3, "unreadable")
        assert "entry 3: stored with the wrong column types" in status["first_fault"]["message"]
        page = client.get("/ledger")
        assert page.status_code == 200
        assert "entry 3 (disbursement_proposed): rule unreadable" in page.text  # beside the checkpoint
        assert "unreadable: entry 3: stored with the wrong column types" in page.text  # in the list of entries
        r = client.get("/api/ledger/entries/3")
        assert r.status_code == 400
        assert "entry 3: stored with the wrong column types" in r.json()["error"]["message"]
        assert client.get("/api/ledger/entries/4").status_code == 200
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]
