"""SQLite: the write-ahead log of large batches is checkpointed from a second connection in a background thread
(``naef.ledger.store.WalCheckpointer``), not by the committing one — the stored log is the same, the writer's
settings are SQLite's defaults again after the commit, and the log stays bounded."""

from __future__ import annotations

import os
import sqlite3
import struct
from typing import Any

import pytest

from naef.ledger import Ledger, SignerKey, store
from naef.ledger.merkle import root_hash
from naef.ledger.transaction import _HANDOVER_ROWS

N = _HANDOVER_ROWS + 100  # one hand-over to the insert thread: a large batch


def _payload(i: int) -> dict[str, Any]:
    return {"period": f"P{i}", "amount_usd": 1000 + i, "source": "PEMEX " * 20, "reference": f"r-{i}"}


def _wal_pages(database: str) -> tuple[int, int]:
    """``(pages in the log, pages of it copied into the database)``, read from the WAL index (the ``-shm`` file)
    without touching the database (a ``wal_checkpoint`` to ask would copy the log itself): ``mxFrame`` at byte 16
    of the index header and ``nBackfill`` at byte 96, 32-bit integers in the machine's order (SQLite, "WAL-mode File
    Format", https://www.sqlite.org/walformat.html, §2.2)."""
    with open(f"{database}-shm", "rb") as f:
        index = f.read(136)
    log, copied = struct.unpack_from("=I", index, 16)[0], struct.unpack_from("=I", index, 96)[0]
    return int(log), int(copied)


@pytest.fixture
def sqlite_ledger(sqlite_url: str, log_key: SignerKey) -> Any:
    Ledger.init(sqlite_url, log_key.verifier()).close()
    with Ledger.open(sqlite_url) as led:
        yield led


def test_a_large_batch_is_checkpointed_behind_the_commit(sqlite_ledger: Ledger) -> None:
    led = sqlite_ledger
    database = led.engine.url.database
    assert database is not None
    checkpointer = store._CHECKPOINTERS[led.engine]
    r = led.append_batch([("revenue_collected", _payload(i)) for i in range(N)])
    checkpointer.close()  # wait for the background checkpoint
    assert checkpointer.error is None
    assert checkpointer.log_pages > 0  # it ran, and saw the batch's pages
    log, copied = _wal_pages(database)
    assert log > 0
    assert copied == log
    with led.engine.connect() as conn:  # the writer's connection is back to SQLite's default
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        assert dbapi.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == store._SQLITE_AUTOCHECKPOINT_PAGES
    stored = list(led.entries())
    assert [e.payload["reference"] for e in stored] == [f"r-{i}" for i in range(N)]
    assert led.root_hash() == root_hash([e.leaf_hash for e in stored])
    assert r == range(N)
    led.verify()


def test_the_commit_of_a_large_batch_does_not_checkpoint(sqlite_ledger: Ledger,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch whose log passes SQLite's auto-checkpoint (1,000 pages) commits without copying it (the raised
    backstop): with the background checkpoint held back, nothing of the log is in the database file after the
    commit, and the writer's setting is SQLite's default again."""
    led = sqlite_ledger
    database = led.engine.url.database
    assert database is not None
    checkpointer = store._CHECKPOINTERS[led.engine]
    monkeypatch.setattr(checkpointer, "request", lambda: None)
    n = 12 * N
    led.append_batch([("revenue_collected", _payload(i)) for i in range(n)])
    log, copied = _wal_pages(database)
    assert log > store._SQLITE_AUTOCHECKPOINT_PAGES, log  # large enough that SQLite's default would have copied it
    assert copied == 0
    with led.engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        assert dbapi.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == store._SQLITE_AUTOCHECKPOINT_PAGES
    assert led.size() == n
    led.verify()


def test_the_checkpoint_follows_the_file_not_the_working_directory(
        tmp_path: Any, log_key: SignerKey, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ledger opened by a relative path is checkpointed in its own file after a change of directory (and no
    empty database appears in the new one)."""
    monkeypatch.chdir(tmp_path)
    Ledger.init("sqlite:///ledger.db", log_key.verifier()).close()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with Ledger.open("sqlite:///ledger.db") as led:
        led.append("revenue_collected", _payload(-1))  # the pool's connection is open before the move
        monkeypatch.chdir(elsewhere)
        checkpointer = store._CHECKPOINTERS[led.engine]
        led.append_batch([("revenue_collected", _payload(i)) for i in range(N)])
        checkpointer.close()
        assert checkpointer.error is None
        assert checkpointer.log_pages > 0
        assert not (elsewhere / "ledger.db").exists()
        log, copied = _wal_pages(str(tmp_path / "ledger.db"))
        assert log > 0
        assert copied == log


def test_a_small_write_is_checkpointed_as_sqlite_does(sqlite_ledger: Ledger) -> None:
    """Below a hand-over nothing is deferred: no background checkpoint runs."""
    led = sqlite_ledger
    checkpointer = store._CHECKPOINTERS[led.engine]
    led.append_batch([("revenue_collected", _payload(i)) for i in range(_HANDOVER_ROWS - 1)])
    led.append("revenue_collected", _payload(-1))
    checkpointer.close()
    assert checkpointer.log_pages == 0


def test_the_log_stays_bounded_under_large_batches(sqlite_ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a settle bound of 300 pages (about one batch of this size), the log file never grows beyond a few
    batches: a writer that finds it past the bound waits for the checkpoint, and its first page restarts the log."""
    led = sqlite_ledger
    database = led.engine.url.database
    assert database is not None
    monkeypatch.setattr(store, "WAL_SETTLE_PAGES", 300)
    sizes = []
    for b in range(12):
        led.append_batch([("revenue_collected", _payload(b * N + i)) for i in range(N)])
        sizes.append(os.path.getsize(f"{database}-wal") // 4096)
    per_batch = sizes[0]
    assert max(sizes) <= 300 + 4 * per_batch, sizes
    assert led.size() == 12 * N
    led.verify()


def test_dispose_waits_for_the_checkpoint(sqlite_ledger: Ledger) -> None:
    """After ``close`` no checkpoint thread runs and no connection of the ledger is open: the file can be switched
    out of WAL mode (which needs every connection gone), as the staging build does."""
    led = sqlite_ledger
    database = led.engine.url.database
    assert database is not None
    led.append_batch([("revenue_collected", _payload(i)) for i in range(N)])
    led.close()
    checkpointer = store._CHECKPOINTERS[led.engine]
    assert checkpointer._thread is None
    con = sqlite3.connect(database, isolation_level=None)
    try:
        assert con.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
    finally:
        con.close()
