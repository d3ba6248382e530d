"""What the processes of one ``naef serve --workers N`` share: nonces, rate limits and scenario runs.

Each process holds its own app, ledger handle and node cache (the ledger's database serialises the writers: SQLite
behind its OS file lock and ``BEGIN IMMEDIATE``, PostgreSQL by locking the head row; see
:mod:`naef.ledger.store`). Three things must still be one across processes, or a second process would undo a
control or lose an answer:

* the signed requests' nonce memory — else a replayed request could reach another process within its window;
* the write and run rate limits — else N processes would allow N times the rate;
* the scenario runs' status and results — else a run started on one process would be "not found" on the next
  request, which the client's connection may send to another.

They live in one SQLite file (WAL) in a directory the parent process makes (``WebConfig.shared_dir``); every
operation is one short ``BEGIN IMMEDIATE`` transaction, so two processes never both accept the same nonce or
spend the same token. The file is scratch: it lives as long as the server, like the one process's memory it
replaces (``synchronous=NORMAL``: a power cut may lose it, and a restarted server refuses requests signed before
it started anyway).
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from naef.web.signing import HEADER_SIGNATURE_INPUT, RateLimiter, ReplayGuard, SigningError

__all__ = ["SharedRateLimiter", "SharedReplayGuard", "SharedStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS nonces (signer TEXT NOT NULL, nonce TEXT NOT NULL, until INTEGER NOT NULL,
                                   PRIMARY KEY (signer, nonce)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nonces_until ON nonces (until);
CREATE TABLE IF NOT EXISTS buckets (name TEXT NOT NULL, key TEXT NOT NULL, tokens REAL NOT NULL, at REAL NOT NULL,
                                    PRIMARY KEY (name, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, finished_at REAL, job TEXT NOT NULL) WITHOUT ROWID;
"""


#: how long a connection waits for another process's lock on the file
_BUSY_TIMEOUT_S = 30.0


def _journal_mode_wal(db: sqlite3.Connection) -> None:
    """``PRAGMA journal_mode=WAL``, retried until the busy timeout: on a file still in its first journal mode,
    SQLite answers "database is locked" at once, without waiting, when another connection is inside a write
    transaction (seen when the workers of ``naef serve --workers 2`` started together: one creating the tables
    while the other switched the mode, which killed the second worker at start-up)."""
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    pause_s = 0.002
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause_s)
        pause_s = min(2 * pause_s, 0.1)


class SharedStore:
    """The shared SQLite file ``<directory>/shared.db`` (one connection per thread)."""

    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / "shared.db"
        self._local = threading.local()
        self._connection().executescript(f"BEGIN IMMEDIATE; {_SCHEMA} COMMIT;")

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
            _journal_mode_wal(db)
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction (the file's one writer until it ends)."""
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # ------------------------------------------------------------------------------------------------ runs

    def save_run(self, job_id: str, document: dict[str, Any], finished_at: float | None, keep: int) -> None:
        """Record a run's state (and result); keep the ``keep`` most recently finished runs."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO runs (id, finished_at, job) VALUES (?, ?, ?)",
                       (job_id, finished_at, json.dumps(document)))
            db.execute("DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE finished_at IS NOT NULL "
                       "ORDER BY finished_at DESC LIMIT -1 OFFSET ?)", (keep,))

    def load_run(self, job_id: str) -> dict[str, Any] | None:
        """A run recorded by any process, or ``None``."""
        row = self._connection().execute("SELECT job FROM runs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def runs(self) -> list[dict[str, Any]]:
        """Every run recorded, newest first."""
        rows = self._connection().execute("SELECT job FROM runs").fetchall()
        docs = [dict(json.loads(r[0])) for r in rows]
        return sorted(docs, key=lambda d: d["created_at"], reverse=True)

    def latest_finished_run(self) -> dict[str, Any] | None:
        """The run that finished last with a result, if any."""
        row = self._connection().execute(
            "SELECT job FROM runs WHERE finished_at IS NOT NULL AND json_extract(job, '$.state') = 'done' "
            "ORDER BY finished_at DESC LIMIT 1"
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))


class SharedReplayGuard(ReplayGuard):
    """:class:`~naef.web.signing.ReplayGuard` whose (signer, nonce) memory is the shared file's ``nonces`` table:
    the insert of a pair already there fails, in whichever process it was first accepted."""

    def __init__(self, store: SharedStore, *, max_skew_s: int = 300, max_entries: int = 200_000,
                 started_at: float | None = None) -> None:
        super().__init__(max_skew_s=max_skew_s, max_entries=max_entries, started_at=started_at)
        self.store = store

    def remember(self, signer: str, nonce: str, created: int, expires: int | None = None, *,
                 now: float | None = None) -> None:
        """As :meth:`ReplayGuard.remember`, across every process of the server."""
        t = time.time() if now is None else now
        until = created + self.max_skew_s if expires is None else min(expires, created + self.max_skew_s)
        if until < t:
            raise SigningError(
                f"{HEADER_SIGNATURE_INPUT}: the request's window ended at {until} (server clock {int(t)}); "
                "sign again with the current time",
                code="stale",
            )
        with self.store.transaction() as db:
            db.execute("DELETE FROM nonces WHERE until < ?", (int(t),))
            if db.execute("SELECT 1 FROM nonces WHERE signer = ? AND nonce = ?", (signer, nonce)).fetchone():
                raise SigningError(
                    f"{HEADER_SIGNATURE_INPUT}: nonce already used by {signer} (replayed request)", code="replayed"
                )
            if db.execute("SELECT count(*) FROM nonces").fetchone()[0] >= self.max_entries:
                raise SigningError("too many signed requests in the window; retry later", code="busy", status=429,
                                   retry_after_s=self.max_skew_s)
            db.execute("INSERT INTO nonces (signer, nonce, until) VALUES (?, ?, ?)", (signer, nonce, until))


class SharedRateLimiter(RateLimiter):
    """:class:`~naef.web.signing.RateLimiter` whose buckets are the shared file's ``buckets`` rows (named
    ``name``), on the wall clock (``time.time``: the processes share no monotonic clock)."""

    def __init__(self, store: SharedStore, name: str, *, rate_per_minute: float, burst: int,
                 max_keys: int = 100_000) -> None:
        super().__init__(rate_per_minute=rate_per_minute, burst=burst, max_keys=max_keys)
        self.store = store
        self.name = name

    def take(self, key: str, *, what: str, now: float | None = None) -> None:
        """Spend one token of ``key``'s bucket, across every process of the server."""
        t = time.time() if now is None else now
        with self.store.transaction() as db:
            row = db.execute("SELECT tokens, at FROM buckets WHERE name = ? AND key = ?", (self.name, key)).fetchone()
            tokens, at = (self.burst, t) if row is None else (float(row[0]), float(row[1]))
            tokens = min(self.burst, tokens + max(0.0, t - at) * self.rate_per_s)
            if tokens < 1.0:
                db.execute("INSERT OR REPLACE INTO buckets (name, key, tokens, at) VALUES (?, ?, ?, ?)",
                           (self.name, key, tokens, t))
                wait = math.ceil((1.0 - tokens) / self.rate_per_s)
                # the refusal is recorded (committed) before it is raised: leave the block normally first
                error = SigningError(
                    f"{what}: rate limit of {self.rate_per_s * 60:g} requests a minute exceeded; retry in {wait} s",
                    code="rate_limited",
                    status=429,
                    retry_after_s=wait,
                )
            else:
                db.execute("INSERT OR REPLACE INTO buckets (name, key, tokens, at) VALUES (?, ?, ?, ?)",
                           (self.name, key, tokens - 1.0, t))
                full_again = t - self.burst / self.rate_per_s  # buckets untouched since then are full: forget them
                db.execute("DELETE FROM buckets WHERE name = ? AND at < ?", (self.name, full_again))
                error = None
        if error is not None:
            raise error
