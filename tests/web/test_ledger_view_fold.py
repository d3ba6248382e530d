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
