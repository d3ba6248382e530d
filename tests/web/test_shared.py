"""The state the processes of ``naef serve --workers N`` share (:mod:`naef.web.shared`): two handles on one file
stand for two processes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from naef.web.jobs import JobManager
from naef.web.shared import SharedRateLimiter, SharedReplayGuard, SharedStore
from naef.web.signing import SigningError


def test_a_nonce_is_accepted_once_across_processes(tmp_path: Path) -> None:
    a = SharedReplayGuard(SharedStore(tmp_path), max_skew_s=300, started_at=0)
    b = SharedReplayGuard(SharedStore(tmp_path), max_skew_s=300, started_at=0)
    now = time.time()
    a.remember("mx-board-1", "n" * 22, int(now), int(now) + 60, now=now)
    with pytest.raises(SigningError, match="replayed") as err:
        b.remember("mx-board-1", "n" * 22, int(now), int(now) + 60, now=now)
    assert err.value.code == "replayed"
    b.remember("mx-board-2", "n" * 22, int(now), int(now) + 60, now=now)  # another signer's nonce is its own
    # once the window has ended the pair is forgotten, and a request that late is refused as stale anyway
    with pytest.raises(SigningError, match="window ended"):
        b.remember("mx-board-1", "n" * 22, int(now), int(now) + 60, now=now + 61)


def test_the_nonce_memory_is_bounded(tmp_path: Path) -> None:
    guard = SharedReplayGuard(SharedStore(tmp_path), max_entries=2, started_at=0)
    now = time.time()
    guard.remember("s", "a" * 16, int(now), now=now)
    guard.remember("s", "b" * 16, int(now), now=now)
    with pytest.raises(SigningError) as err:
        guard.remember("s", "c" * 16, int(now), now=now)
    assert err.value.status == 429


def test_rate_limit_counts_every_process(tmp_path: Path) -> None:
    a = SharedRateLimiter(SharedStore(tmp_path), "write", rate_per_minute=60, burst=3)
    b = SharedRateLimiter(SharedStore(tmp_path), "write", rate_per_minute=60, burst=3)
    t = 1_000_000.0
    a.take("ip:1", what="w", now=t)
    b.take("ip:1", what="w", now=t)
    a.take("ip:1", what="w", now=t)
    with pytest.raises(SigningError) as err:
        b.take("ip:1", what="w", now=t)
    assert err.value.status == 429
    assert err.value.retry_after_s == 1
    b.take("ip:1", what="w", now=t + 1.0)  # one token a second
    b.take("ip:2", what="w", now=t)  # another key has its own bucket
    SharedRateLimiter(SharedStore(tmp_path), "run", rate_per_minute=60, burst=1).take("ip:1", what="r", now=t)


def test_a_run_started_in_one_process_is_answered_by_another(tmp_path: Path) -> None:
    one = JobManager(max_queued=2, keep=4, shared=SharedStore(tmp_path))
    other = JobManager(max_queued=2, keep=4, shared=SharedStore(tmp_path))
    job = one.submit(kind="monte_carlo", scenario="baseline", paths=10, seed=1, total_units=10,
                     work=lambda progress: (progress(10), {"answer": 42})[1])
    deadline = time.monotonic() + 30
    while other.get(job.id).state != "done":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    seen = other.get(job.id)
    assert seen.result == {"answer": 42}
    assert seen.status().progress == 1.0
    assert [j.id for j in other.jobs()] == [job.id]
    latest = other.latest_done()
    assert latest is not None
    assert latest.id == job.id
    one.shutdown()
    other.shutdown()


def test_a_worker_starting_while_another_creates_the_file_waits_for_it(tmp_path: Path) -> None:
    """Two workers of ``naef serve`` start together: while one is inside its first write transaction on the new file
    (still in its first journal mode), the other's switch to WAL is refused at once by SQLite, busy timeout or not;
    the store retries it until the first commits, instead of dying at start-up ("database is locked")."""
    import sqlite3
    import threading

    first = sqlite3.connect(tmp_path / "shared.db", isolation_level=None, check_same_thread=False)
    first.execute("BEGIN IMMEDIATE")
    first.execute("CREATE TABLE IF NOT EXISTS held (a)")
    refused = sqlite3.connect(tmp_path / "shared.db", timeout=5, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        refused.execute("PRAGMA journal_mode=WAL")  # what SQLite does without the retry
    refused.close()
    timer = threading.Timer(0.3, lambda: first.execute("COMMIT"))
    timer.start()
    started = time.monotonic()
    store = SharedStore(tmp_path)  # waits for the commit, then switches to WAL and creates its tables
    timer.join()
    assert time.monotonic() - started >= 0.25
    with store.transaction() as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    first.close()
