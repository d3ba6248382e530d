"""The web's folded view of the ledger (naef.web.ledger_view) reads new rows with the committed size in one read
(issue 18); folded in read chunks of any size, it is the same view."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from naef.ledger import log
from naef.web.ledger_view import LedgerView


def _view(db: Path) -> dict[str, Any]:
    view = LedgerView(str(db))
    try:
        return {"audit": view.audit_status(), "proposals": view.proposals(), "governance": view.governance_json(),
                "unreadable": view.unreadable(), "mdf": view.mdf().as_json()}
    finally:
        view.close()


def test_the_view_is_the_same_in_any_read_chunk(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = _view(demo_db)
    assert whole["audit"]["size"] > 7
    for chunk in (1, 7):  # the first read, then the rest chunk by chunk
        monkeypatch.setattr(log, "_READ_CHUNK", chunk)
        assert _view(demo_db) == whole


def _truncate(db: Path, k: int) -> None:
    """A consistent shorter log, as a fail-over to a replica behind or a restore would leave (or a writer with
    database access)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM ledger_entries WHERE idx >= :k"), {"k": k})
            conn.execute(text("DELETE FROM ledger_nodes WHERE ((idx + 1) << level) > :k"), {"k": k})
            conn.execute(text("UPDATE ledger_head SET size = :k"), {"k": k})
    finally:
        engine.dispose()


@pytest.mark.parametrize("refill", [False, True])
def test_a_log_that_went_back_is_folded_again(demo_db: Path, refill: bool) -> None:
    """The view folds on from where it stopped only while the stored tree still has the root it folded: after the
    log went back (and, ``refill``, grew again to the same size with other entries) it shows what a fresh view of
    that log shows — not proposals, refusals or MDF figures the log no longer holds."""
    view = LedgerView(str(demo_db))
    try:
        before = view.proposals()
        size = view.audit_status()["size"]
        governed = [e.index for e in view.ledger.entries() if e.type == "disbursement_proposed"]
        k = governed[len(governed) // 2]  # half the proposals and all that follows them gone
        _truncate(demo_db, k)
        if refill:
            view.ledger.append_batch([("revenue_collected", {"period": f"R{i}", "amount_usd": "1.00",
                                                             "source": "PEMEX"}) for i in range(size - k)])
            assert view.ledger.size() == size
        after = view.proposals()
        assert after != before
        assert after == _view(demo_db)["proposals"]
        assert view.mdf().as_json() == _view(demo_db)["mdf"]
        assert view.audit_status()["size"] == (size if refill else k)
    finally:
        view.close()
