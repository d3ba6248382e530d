"""Issue 14, the findings of review1420 that had no regression test:

* F5 — on the web, a row of the wrong storage type is a named fault of the view's fold (the audit endpoint and
  the portal name it), reading that entry answers 400, and every other read and signed write goes on;
* F2 — a deleted checkpoint row is named by ``naef ledger verify`` even when the head's counters are edited too;
* F6 — the storage layer's rule hook is installed once: a second install is refused;
* minor — an org-id with whitespace is refused naming the character, not a missing prefix.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from naef.ledger import store
from naef.ledger.approvals import sign_proposal
from naef.ledger.checkpoints import chain_of
from naef.ledger.errors import LedgerError, VerificationError
from naef.ledger.keys import SignerKey
from naef.ledger.log import Ledger
from naef.ledger.note import Checkpoint, parse_note, sign_checkpoint
from naef.ledger.orgids import check_org_id, unusable_character
from tests.ledger.governed import key
from tests.ledger.test_governed_attacks import proposal
from tests.ledger.test_issue14_review import _client, naef, proposal_stored_as_text

__all__ = ["naef"]  # the fixture, imported for these tests


def test_an_unreadable_row_never_blocks_a_signed_web_write(
    sqlite_url: str, log_key: SignerKey, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.web.conftest import signed_post

    with Ledger.init(sqlite_url, log_key.verifier()) as ledger:
        proposal_stored_as_text(ledger)
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


def _three_checkpoints(url: str, log_key: SignerKey) -> list[str]:
    """A log with checkpoints at sizes 2, 4 and 6 (each signed with its chain line); their notes."""
    notes = []
    with Ledger.init(url, log_key.verifier()) as ledger:
        for n in range(3):
            ledger.append_batch([("revenue_collected", {"period": f"2030Q{n + 1}", "amount_usd": "1.00",
                                                        "source": "PEMEX"})] * 2)
            notes.append(ledger.checkpoint(log_key))
    return notes


def _delete_checkpoint(url: str, size: int) -> None:
    """What the review's attacker did: delete the row and lower the head's counters to match."""
    with Ledger.open(url) as ledger, ledger.engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_checkpoints WHERE size = :s"), {"s": size})
        conn.execute(text("UPDATE ledger_head SET checkpoints = checkpoints - 1 WHERE id = 1"))


def test_each_checkpoint_note_signs_its_place_among_the_checkpoints(db_url: str, log_key: SignerKey) -> None:
    notes = _three_checkpoints(db_url, log_key)
    bodies = [Checkpoint.parse(parse_note(n).text) for n in notes]
    assert [b.extensions for b in bodies] == [("naef-checkpoint 1 previous none",),
                                             ("naef-checkpoint 2 previous 2",), ("naef-checkpoint 3 previous 4",)]
    assert [chain_of(b) for b in bodies] == [(1, None), (2, 2), (3, 4)]
    with Ledger.open(db_url) as ledger:
        assert ledger.verify().checkpoints == 3


def test_a_deleted_middle_checkpoint_is_named_even_with_the_head_edited(
    db_url: str, log_key: SignerKey, naef: Callable[..., tuple[Any, str, str]]
) -> None:
    _three_checkpoints(db_url, log_key)
    _delete_checkpoint(db_url, 4)
    with Ledger.open(db_url) as ledger, pytest.raises(VerificationError) as caught:
        ledger.verify()
    assert caught.value.message == (
        "checkpoint at size 6: its signed note names the checkpoint at size 4 as the one before it, but the stored "
        "one before it is at size 2 (a checkpoint row was deleted)"
    )
    assert caught.value.checkpoint_size == 4
    code, _, err = naef("ledger", "verify", db_url)
    assert code == 2
    assert "a checkpoint row was deleted" in err
    assert err.count("\n") == 1


def test_a_deleted_first_checkpoint_is_named_by_the_count(db_url: str, log_key: SignerKey) -> None:
    _three_checkpoints(db_url, log_key)
    _delete_checkpoint(db_url, 2)
    with Ledger.open(db_url) as ledger, pytest.raises(VerificationError, match="names the checkpoint at size 2"):
        ledger.verify()


def test_a_deleted_latest_checkpoint_is_named_only_against_a_copy_kept_outside(
    db_url: str, log_key: SignerKey
) -> None:
    # the limit docs/ledger.md states: the latest checkpoint's deletion (head edited too) leaves no trace in the
    # database; a copy of it (a witness's, a bundle's) given to verify names it
    notes = _three_checkpoints(db_url, log_key)
    _delete_checkpoint(db_url, 6)
    with Ledger.open(db_url) as ledger:
        assert ledger.verify().checkpoints == 2  # the database alone cannot tell
        with pytest.raises(VerificationError) as caught:
            ledger.verify(from_checkpoint=notes[2])
    assert caught.value.message == (
        "published checkpoint (size 6): this log signed it, but it is not stored (a checkpoint row was deleted)"
    )


def test_a_checkpoint_without_the_chain_line_still_verifies(db_url: str, log_key: SignerKey) -> None:
    # a ledger whose checkpoints were signed before the chain line existed: no line, nothing to check; the next
    # checkpoint counts them
    with Ledger.init(db_url, log_key.verifier()) as ledger:
        ledger.append("revenue_collected", {"period": "2030Q1", "amount_usd": "1.00", "source": "PEMEX"})
        old = sign_checkpoint(Checkpoint(log_key.name, 1, ledger.root_hash(1)), log_key)
        with ledger.engine.begin() as conn:
            conn.execute(store.checkpoints.insert().values(size=1, root_hash=ledger.root_hash(1), note=old,
                                                           created_at="2026-01-01T00:00:00Z"))
            conn.execute(text("UPDATE ledger_head SET checkpoints = 1 WHERE id = 1"))
        assert ledger.verify().checkpoints == 1
        ledger.append("revenue_collected", {"period": "2030Q2", "amount_usd": "1.00", "source": "PEMEX"})
        note = ledger.checkpoint(log_key)
        assert "naef-checkpoint 2 previous 1\n" in note
        assert ledger.verify().checkpoints == 2


def test_the_rules_hook_is_installed_once() -> None:
    import naef.ledger.approvals  # noqa: F401  (its service installs the rules)
    from naef.ledger import transaction as log_module

    assert "install_rules" not in log_module.__all__
    before = log_module._RULES
    with pytest.raises(LedgerError, match="installed once; a second install is refused"):
        log_module._install_rules(lambda tx, entry, index: None)
    assert log_module._RULES is before


@pytest.mark.parametrize(("ref", "named"), [("XE-EXAMPLE-MDF ", "U+0020 SPACE at position 14"),
                                            ("XE-EXAMPLE-\u200bMDF", "U+200B ZERO WIDTH SPACE at position 11"),
                                            ("XE-EXAMPLE-MDF\t", "U+0009 unnamed at position 14")])
def test_an_org_id_with_whitespace_is_named_for_it(ref: str, named: str) -> None:
    assert unusable_character(ref) == named
    with pytest.raises(ValueError, match=re.escape(named)):
        check_org_id(ref)
    assert unusable_character("XE-EXAMPLE-MDF") is None
    assert check_org_id("XE-EXAMPLE-MDF") == "XE-EXAMPLE-MDF"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(2, 5).flatmap(lambda n: st.tuples(st.just(n), st.sets(st.integers(0, n - 1), min_size=1))))
def test_deleting_any_checkpoints_but_only_the_latest_is_named(
    tmp_path: Path, log_key: SignerKey, case: tuple[int, set[int]]
) -> None:
    # invariant: whichever stored checkpoints are deleted (head counters edited to match), verify names it unless
    # the deleted ones are exactly a run at the end (the latest ones: the documented limit)
    n, deleted = case
    url = f"sqlite:///{tmp_path / f'cp-{uuid.uuid4().hex}.db'}"  # a fresh file per example
    with Ledger.init(url, log_key.verifier()) as ledger:
        for i in range(n):
            ledger.append("revenue_collected", {"period": f"2030Q{i % 4 + 1}", "amount_usd": "1.00",
                                                "source": "PEMEX"})
            ledger.checkpoint(log_key)
    for k in deleted:
        _delete_checkpoint(url, k + 1)
    at_the_end = deleted == set(range(n - len(deleted), n))
    with Ledger.open(url) as ledger:
        if at_the_end:
            assert ledger.verify().checkpoints == n - len(deleted)
        else:
            with pytest.raises(VerificationError, match="a checkpoint row was deleted"):
                ledger.verify()
