"""Storage of the log with SQLAlchemy 2 (Core): SQLite file by default, PostgreSQL by URL, same code.

Tables (created only by the Alembic migrations shipped in ``naef/ledger/migrations``):

* ``ledger_meta`` (key, value): the log's origin and verifier key;
* ``ledger_head`` (id = 1, size): the tree size; the row every writer locks;
* ``ledger_entries`` (idx, entry_type, canonical, leaf_hash): one row per leaf;
* ``ledger_nodes`` (level, idx, hash): every complete subtree of level >= 1 (level 0 is ``leaf_hash``), so a
  proof or a historical root needs ``O(log n)`` rows;
* ``ledger_checkpoints`` (size, root_hash, note, created_at): signed checkpoints, cosignatures included;
* ``ledger_witnesses`` (vkey, name, added_at): cosigner keys whose signatures ``verify`` checks.

Writers are serialised across processes: on SQLite every write transaction takes an OS file lock
(``<db>-writer.lock``) and starts with ``BEGIN IMMEDIATE``
(WAL journal, ``synchronous=FULL`` so a commit is on disk when it returns); on PostgreSQL it locks the head
row with ``SELECT ... FOR UPDATE``. A transaction either commits whole or leaves nothing.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    create_engine,
    event,
    inspect,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from naef.ledger.errors import LedgerError

__all__ = [
    "VERSION_TABLE",
    "WAL_SETTLE_PAGES",
    "WalCheckpointer",
    "checkpoints",
    "connect",
    "current_revision",
    "defer_checkpoint",
    "entries",
    "head",
    "head_revision",
    "head_size",
    "is_sqlite",
    "make_engine",
    "meta",
    "metadata",
    "nodes",
    "normalize_url",
    "pipelined",
    "upgrade",
    "witnesses",
    "write_transaction",
]

VERSION_TABLE = "ledger_alembic_version"
"""Alembic's version table for the ledger's migrations (its own, so other naef schemas can share a
database)."""

_Index = BigInteger().with_variant(
    Integer(), "sqlite"
)  # INTEGER PRIMARY KEY is SQLite's rowid: fastest lookups

metadata = MetaData()

meta = Table(
    "ledger_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

head = Table(
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("checkpoints", BigInteger, nullable=False, server_default="0"),  # rows ever stored (0002)
    Column("cosignatures", BigInteger, nullable=False, server_default="0"),  # witness lines ever added (0002)
)

entries = Table(
    "ledger_entries",
    metadata,
    Column("idx", _Index, primary_key=True, autoincrement=False),
    Column("entry_type", String(64), nullable=False, index=True),
    Column("canonical", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
)

nodes = Table(
    "ledger_nodes",
    metadata,
    Column("level", SmallInteger, nullable=False),
    Column("idx", BigInteger, nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
    PrimaryKeyConstraint("level", "idx", name="pk_ledger_nodes"),
    sqlite_with_rowid=False,
)

checkpoints = Table(
    "ledger_checkpoints",
    metadata,
    Column("size", _Index, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
)

witnesses = Table(
    "ledger_witnesses",
    metadata,
    Column("vkey", String(300), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("added_at", String(40), nullable=False),
)


def normalize_url(url: str) -> str:
    """A plain path becomes ``sqlite:///<absolute path>``; ``postgresql://`` uses the psycopg 3 driver."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


_log = logging.getLogger("naef.ledger")

_SQLITE_AUTOCHECKPOINT_PAGES = 1000
"""SQLite's default ``wal_autocheckpoint``: a commit that leaves at least this many pages in the write-ahead log
checkpoints it (in the committing thread) — what every write but a large batch keeps."""
WAL_SETTLE_PAGES = 4096
"""Pages in the write-ahead log (4 KiB each: 16 MiB) from which a write transaction waits, before it begins, for the
background checkpoint (:class:`WalCheckpointer`) to finish, so that its first page restarts the log from its
beginning (SQLite restarts the log only when a writer finds every page of it copied into the database): the bound on
the log's growth while large batches are checkpointed behind the writer (a choice: about four batches of 10,000
entries of 300 bytes)."""
_WAL_BACKSTOP_PAGES = 2 * WAL_SETTLE_PAGES
"""The writer's own ``wal_autocheckpoint`` at the commit of a large batch (:func:`defer_checkpoint`): if the
background checkpoint has not kept the log below this, the committing thread checkpoints as SQLite always does."""


class WalCheckpointer:
    """Checkpoints an SQLite ledger's write-ahead log from a second connection in a background thread, after the
    commit of a large batch, instead of in the committing thread.

    Why it is faster and changes nothing stored: in WAL mode with ``synchronous=FULL`` a commit is durable once its
    pages are in the log and the log is fsynced; the checkpoint then copies those pages into the database file and
    fsyncs it, work SQLite does without Python's lock. By default the committing connection does it (auto-checkpoint
    past :data:`_SQLITE_AUTOCHECKPOINT_PAGES`), so the next transaction waits for it; here a ``PASSIVE``
    checkpoint (never blocks a reader or the writer, copies only pages no reader still needs) runs on the other core
    while the caller prepares its next batch. A crash during a checkpoint loses nothing (SQLite replays the log when
    it next opens the database). The log's growth is bounded (:data:`WAL_SETTLE_PAGES`, :meth:`settle`).

    One per SQLite engine (:func:`make_engine`); its thread exists only while there is a checkpoint to run (started
    by :meth:`request`, ending when nothing is pending), with its own connection for that time, so an idle engine
    holds no thread and no extra connection; :meth:`close` (at the engine's ``dispose``) waits for it. It serves
    only the large batches of :func:`defer_checkpoint`; every other commit checkpoints as SQLite does by default."""

    def __init__(self, database: str) -> None:
        # the file resolved now, opened read-write only: a later change of directory cannot point the checkpoint
        # at (or create) another file
        self._uri = f"file:{quote(str(Path(database).resolve()))}?mode=rw"
        self._cond = threading.Condition()
        self._pending = False
        self._thread: threading.Thread | None = None
        self.log_pages = 0
        """Pages in the write-ahead log when the last checkpoint ran (SQLite's own count, ``wal_checkpoint``); left as
        it was when that checkpoint found another one running (SQLite answers "busy" and counts nothing)."""
        self.error: str | None = None
        """The last checkpoint's error, if it failed (also logged as a warning on ``naef.ledger``; the log is then
        checkpointed by the writer at :data:`_WAL_BACKSTOP_PAGES`)."""

    def request(self) -> None:
        """Checkpoint the log soon (after a commit): start the thread, or tell the running one to go again."""
        with self._cond:
            self._pending = True
            if self._thread is None or not self._thread.is_alive():  # not alive: a forked child's copy
                self._thread = threading.Thread(target=self._run, name="naef-ledger-checkpoint", daemon=True)
                self._thread.start()

    def settle(self) -> None:
        """Before a write transaction: when the log held at least :data:`WAL_SETTLE_PAGES` pages at the last
        checkpoint, wait until no checkpoint is pending or running — the log is then all copied (unless a reader
        still needs part of it) and the transaction's first page restarts it from its beginning."""
        with self._cond:
            if self.log_pages < WAL_SETTLE_PAGES:
                return
            self._wait_idle()

    def close(self) -> None:
        """Wait until no checkpoint is pending or running (the engine's ``dispose``: afterwards no connection of this
        engine is open)."""
        with self._cond:
            self._wait_idle()

    def _wait_idle(self) -> None:
        """With the condition held: until the thread has ended (it notifies; a thread that is not alive — the copy
        in a forked child of a thread of the parent — counts as ended)."""
        while self._thread is not None and self._thread.is_alive():
            self._cond.wait(timeout=1.0)
        self._thread = None

    def _run(self) -> None:
        """Checkpoint while requests are pending; the decision to end, the closing of the connection and the thread's
        removal happen under one hold of the condition, so a request made meanwhile always finds a thread to run it
        or starts one."""
        con: sqlite3.Connection | None = None
        try:
            while True:
                with self._cond:
                    if not self._pending:
                        if con is not None:
                            con.close()
                        self._thread = None
                        self._cond.notify_all()
                        return
                    self._pending = False
                if con is None:
                    con = sqlite3.connect(self._uri, uri=True, timeout=120, isolation_level=None,
                                          check_same_thread=False)
                    con.execute("PRAGMA synchronous=FULL")
                busy, log, _ = con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if not busy:
                    self.log_pages = max(int(log), 0)
                self.error = None
        except sqlite3.Error as exc:  # the writer's own auto-checkpoint still bounds the log
            self.error = str(exc)
            _log.warning("ledger %s: background checkpoint failed (%s); the writer checkpoints instead", self._uri,
                         exc)
            with self._cond:
                if con is not None:
                    con.close()
                self._pending = False
                self._thread = None
                self._cond.notify_all()


_CHECKPOINTERS: weakref.WeakKeyDictionary[Engine, WalCheckpointer] = weakref.WeakKeyDictionary()


def defer_checkpoint(conn: Connection) -> None:
    """In a write transaction on SQLite that wrote a large batch, before its commit: the committing connection's
    auto-checkpoint is raised to :data:`_WAL_BACKSTOP_PAGES` for this commit; once the commit has returned,
    :func:`write_transaction` puts SQLite's default back and then asks the engine's :class:`WalCheckpointer` to
    checkpoint. Elsewhere: nothing."""
    if conn.dialect.name != "sqlite" or conn.engine not in _CHECKPOINTERS:
        return
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    dbapi.execute(f"PRAGMA wal_autocheckpoint={_WAL_BACKSTOP_PAGES}")
    conn.info["naef_deferred_checkpoint"] = True


def is_sqlite(engine: Engine) -> bool:
    """True for an SQLite engine."""
    return engine.dialect.name == "sqlite"


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = (
            None  # we emit BEGIN ourselves (pysqlite's implicit BEGIN is deferred)
        )
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=120000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("ledger_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (see :func:`normalize_url`), with the SQLite transaction set-up when needed."""
    full = normalize_url(url)
    try:
        parsed = make_url(full)
    except ArgumentError as exc:
        raise LedgerError(f"URL {url!r}: not a database URL ({exc})") from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise LedgerError(f"URL {url!r}: the ledger needs an SQLite *file* (sqlite:///path/to/ledger.db)")
        parent = Path(database).parent
        if not parent.is_dir():
            raise LedgerError(f"URL {url!r}: directory {parent} does not exist")
        engine = create_engine(parsed, connect_args={"timeout": 120})
        _sqlite_events(engine)
        checkpointer = _CHECKPOINTERS[engine] = WalCheckpointer(database)
        event.listen(engine, "engine_disposed", lambda _engine: checkpointer.close())
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise LedgerError(f"URL {url!r}: only sqlite:/// and postgresql+psycopg:// are supported")
    try:
        return create_engine(parsed)
    except (SQLAlchemyError, ImportError) as exc:
        raise LedgerError(f"URL {url!r}: cannot create an engine ({exc})") from exc


def _database_error(engine: Engine, exc: SQLAlchemyError) -> str:
    """One line naming the database (password hidden) and the driver's reason: for a driver error its own first
    line, without the statement and parameters SQLAlchemy appends (a multi-row INSERT quotes thousands of them)."""
    reason = str(exc.orig) if isinstance(exc, DBAPIError) and exc.orig is not None else str(exc)
    first = reason.strip().splitlines()[0] if reason.strip() else type(exc).__name__
    return f"database {engine.url.render_as_string(hide_password=True)}: {first}"


@contextmanager
def connect(engine: Engine, *, autocommit: bool = False) -> Iterator[Connection]:
    """A read transaction (deferred on SQLite; a snapshot per statement on PostgreSQL). ``autocommit``: on
    PostgreSQL no transaction at all — each statement its own, as READ COMMITTED already gives each its own
    snapshot — which saves the ``BEGIN`` and ``COMMIT`` round trips (for a reader that needs nothing more of
    a transaction; SQLite unchanged)."""
    try:
        with engine.connect() as raw:
            conn = raw.execution_options(isolation_level="AUTOCOMMIT") if autocommit and not is_sqlite(engine) \
                else raw
            with conn.begin():
                yield conn
    except SQLAlchemyError as exc:
        raise LedgerError(_database_error(engine, exc)) from exc


def pipelined(conn: Connection, statements: Sequence[tuple[str, Sequence[Any]]], *,
              begin: bool = False) -> list[list[tuple[Any, ...]]]:
    """Run ``statements`` (plain SQL with the driver's parameter marks, and their parameters) in order on ``conn``;
    each one's rows.

    On PostgreSQL in one psycopg pipeline: all of them in one round trip (psycopg adds one before them for the
    ``BEGIN`` of a transaction not yet begun; none on a connection of :func:`connect` with ``autocommit``, nor in a
    transaction already under way). Each statement runs after the ones before it (READ COMMITTED: each sees what was
    committed when it starts; one that waits for a row lock, ``FOR UPDATE``, holds back the ones after it). Why: a
    round trip on a busy machine costs two wake-ups — the server's, then this thread's — of a few milliseconds each
    (issue 18: about 5 ms per statement of a signed write under the load benchmark with the machine's two cores
    busy), so a write that sent a dozen of them waited for the scheduler more than for anything else. Elsewhere
    (SQLite, a file in this process: no round trips) one after the other. A driver error is wrapped as SQLAlchemy
    wraps its own statements' (:class:`~sqlalchemy.exc.DBAPIError`), so it becomes the same one-line LedgerError.

    ``begin`` (PostgreSQL, the first statements of a :func:`write_transaction`): the transaction's ``BEGIN`` goes in
    the same trip — the statement psycopg would send (with the connection's isolation level, if set), sent here on
    a connection switched to psycopg's autocommit, which only stops psycopg from sending its own; the server's
    transaction is the same, and psycopg still sends the ``COMMIT`` or ``ROLLBACK`` that ends it (it does whenever
    the server says a transaction is open). :func:`write_transaction` switches the connection back once that
    transaction has ended, before the pool takes the connection back."""
    if conn.dialect.name != "postgresql":
        return [[tuple(row) for row in conn.exec_driver_sql(sql, tuple(params))] for sql, params in statements]
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    driver_error = conn.dialect.loaded_dbapi.Error
    cursors: list[Any] = []
    if begin:
        if dbapi.info.transaction_status != 0:  # psycopg.pq.TransactionStatus.IDLE
            raise LedgerError("ledger: pipelined(begin=True) needs a connection with no transaction open")
        level = dbapi.isolation_level
        start = "BEGIN" if level is None else f"BEGIN ISOLATION LEVEL {level.name.replace('_', ' ')}"
        statements = [(start, ()), *statements]
        dbapi.autocommit = True
        conn.info["naef_explicit_begin"] = True
    try:
        try:
            with dbapi.pipeline():  # its end sends the one Sync and reads every answer
                for sql, params in statements:
                    cursor = dbapi.cursor()
                    cursors.append(cursor)
                    cursor.execute(sql, tuple(params))
            return [[tuple(row) for row in cursor.fetchall()] if cursor.description is not None else []
                    for cursor in cursors][1 if begin else 0:]
        finally:
            for cursor in cursors:
                cursor.close()
    except driver_error as exc:
        raise DBAPIError.instance("; ".join(sql for sql, _ in statements), None, exc, driver_error) from exc


def head_size(conn: Connection) -> int:
    """The committed tree size (the head row); LedgerError if the ledger was never initialised."""
    size = conn.exec_driver_sql("SELECT size FROM ledger_head WHERE id = 1").scalar_one_or_none()
    if size is None:
        raise LedgerError("ledger: not initialised (run `naef ledger init URL --key KEYFILE`)")
    return int(size)


def _writer_lock_path(engine: Engine) -> str | None:
    database = engine.url.database
    return f"{database}-writer.lock" if is_sqlite(engine) and database else None


@contextmanager
def _sqlite_writer_lock(engine: Engine) -> Iterator[None]:
    """An OS file lock taken before ``BEGIN IMMEDIATE``.

    Waiting writers sleep in the kernel and wake as soon as the lock is free, instead of polling in SQLite's
    busy handler (which backs off up to 100 ms). ``BEGIN IMMEDIATE`` still guarantees the single writer.
    """
    path = _writer_lock_path(engine)
    if path is None or fcntl is None:  # pragma: no cover - non-POSIX platforms fall back to the busy handler
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock (so does the death of the process)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A write transaction: on SQLite ``BEGIN IMMEDIATE`` (the database's one writer, behind an OS file lock);
    on PostgreSQL the caller serialises by locking the head row (``LedgerTransaction`` does, ``FOR UPDATE``).

    Commits on normal exit (the commit is durable when this returns); rolls back on any exception.
    """
    checkpointer = _CHECKPOINTERS.get(engine)
    try:
        with _sqlite_writer_lock(engine), engine.connect() as raw:
            if checkpointer is not None:
                checkpointer.settle()
            conn = raw.execution_options(ledger_write=True)
            committed = False
            try:
                with conn.begin():
                    yield conn
                committed = True
            finally:
                if raw.info.pop("naef_explicit_begin", False) and not raw.invalidated:
                    _end_explicit_begin(raw)
                if not raw.invalidated and raw.info.pop("naef_deferred_checkpoint", False):
                    dbapi = raw.connection.dbapi_connection
                    assert dbapi is not None
                    dbapi.execute(f"PRAGMA wal_autocheckpoint={_SQLITE_AUTOCHECKPOINT_PAGES}")
                    if committed and checkpointer is not None:
                        checkpointer.request()
    except SQLAlchemyError as exc:
        raise LedgerError(_database_error(engine, exc)) from exc


def _end_explicit_begin(raw: Connection) -> None:
    """After a write transaction whose ``BEGIN`` :func:`pipelined` sent: psycopg's autocommit off again (the
    transaction has ended: committed or rolled back), or, if the driver refuses (a transaction somehow still
    open), the connection invalidated: the pool never hands out a connection left in autocommit."""
    dbapi = raw.connection.dbapi_connection
    assert dbapi is not None
    try:
        dbapi.autocommit = False
    except Exception:
        raw.invalidate()
        raise


# ------------------------------------------------------------------------------------------ migrations


def _alembic_config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    cfg.attributes["connection"] = conn
    return cfg


def head_revision() -> str:
    """The newest migration shipped with this version of naef."""
    script = ScriptDirectory(str(Path(__file__).with_name("migrations")))
    rev = script.get_current_head()
    assert rev is not None
    return rev


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (``None`` if the ledger schema was never created)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()


def upgrade(engine: Engine) -> None:
    """Run the shipped Alembic migrations up to head (idempotent; serialised by the write lock on SQLite)."""
    try:
        with engine.connect() as raw:
            conn = raw.execution_options(ledger_write=True) if is_sqlite(engine) else raw
            if not is_sqlite(engine):
                # one migrator at a time across processes (a transaction-scoped advisory lock)
                with conn.begin():
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7461631)")
                    command.upgrade(_alembic_config(conn), "head")
            else:
                with conn.begin():
                    command.upgrade(_alembic_config(conn), "head")
    except SQLAlchemyError as exc:
        raise LedgerError(
            f"database {engine.url.render_as_string(hide_password=True)}: migration failed ({exc})"
        ) from exc
