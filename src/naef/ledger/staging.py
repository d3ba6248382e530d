"""Build a whole ledger out of sight and move it into place at once: all of it, or nothing.

SQLite: the ledger is built in a temporary file beside the target (same folder, so the final ``os.replace``
is an atomic rename on one file system), its write-ahead log folded back into the file, then renamed onto the
target. PostgreSQL: the ledger is built in a temporary schema of the same database; one transaction then moves
its tables into the target schema (``ALTER TABLE ... SET SCHEMA``; DDL is transactional in PostgreSQL) and drops
the temporary schema. On any failure the temporary file or schema is removed and the target is untouched.

The target must not hold a ledger with entries; an empty ledger (``naef ledger init`` only) is replaced.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from naef.ledger import store
from naef.ledger.errors import LedgerError
from naef.ledger.log import Ledger

__all__ = ["build_atomically"]

T = TypeVar("T")

_SIDE_FILES = ("-wal", "-shm", "-journal", "-writer.lock")


def build_atomically(url: str, build: Callable[[str], T]) -> T:
    """Run ``build(staging_url)`` on a fresh staging database, then move the result to ``url`` at once.

    ``build`` must close every connection it opened before it returns. Returns what ``build`` returned.
    """
    full = store.normalize_url(url)
    try:
        parsed = make_url(full)
    except Exception as exc:
        raise LedgerError(f"URL {url!r}: not a database URL ({exc})") from None
    if parsed.get_backend_name() == "sqlite":
        return _build_sqlite(url, parsed, build)
    if parsed.get_backend_name() == "postgresql":
        return _build_postgres(url, parsed, build)
    raise LedgerError(f"URL {url!r}: only sqlite:/// and postgresql+psycopg:// are supported")


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _remove_with_side_files(path: Path) -> None:
    for suffix in ("", *_SIDE_FILES):
        _remove_quietly(Path(f"{path}{suffix}"))


def _refuse_nonempty(url: str, *, whole_file: bool) -> None:
    """LedgerError unless ``url`` holds no ledger or an empty one (``whole_file``: nothing else either, since
    the file is replaced)."""
    engine = store.make_engine(url)
    try:
        if store.current_revision(engine) is None:
            if whole_file:
                raise LedgerError(f"URL {url!r}: exists and is not a ledger; not replacing it")
            return
    except LedgerError:
        raise
    except Exception as exc:
        raise LedgerError(f"URL {url!r}: exists but is not a ledger ({str(exc).splitlines()[0]})") from None
    finally:
        engine.dispose()
    with Ledger.open(url) as ledger:
        size = ledger.size()
    if size:
        raise LedgerError(f"URL {url!r}: the demo needs an empty ledger (this one has {size} entries)")


def _build_sqlite(url: str, parsed: URL, build: Callable[[str], T]) -> T:
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise LedgerError(f"URL {url!r}: the ledger needs an SQLite *file* (sqlite:///path/to/ledger.db)")
    target = Path(database)
    if not target.parent.is_dir():
        raise LedgerError(f"URL {url!r}: directory {target.parent} does not exist")
    if target.exists() and target.stat().st_size > 0:
        _refuse_nonempty(url, whole_file=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".building", dir=target.parent)
    os.fchmod(fd, default_file_mode())  # mkstemp makes 0600; the ledger gets the mode any new file gets
    os.close(fd)
    staging = Path(name)
    try:
        result = build(f"sqlite:///{staging}")
        # fold the write-ahead log into the file, so that the one file is the whole ledger
        con = sqlite3.connect(staging)
        try:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            con.execute("PRAGMA journal_mode=DELETE")
        finally:
            con.close()
        for suffix in _SIDE_FILES:
            _remove_quietly(Path(f"{staging}{suffix}"))
        for suffix in _SIDE_FILES:
            _remove_quietly(Path(f"{target}{suffix}"))  # an empty ledger's leftovers must not meet the new file
        os.replace(staging, target)
    except BaseException:
        _remove_with_side_files(staging)
        raise
    return result


def default_file_mode() -> int:
    """The mode ``open()`` gives a new file under the current umask (0644 under the usual 022)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _build_postgres(url: str, parsed: URL, build: Callable[[str], T]) -> T:
    _refuse_nonempty(url, whole_file=False)
    engine = create_engine(parsed)
    try:
        with engine.connect() as conn:
            target = conn.execute(text("SELECT current_schema()")).scalar()
        if target is None:
            raise LedgerError(f"URL {url!r}: its search_path names no existing schema")
        staging = f"naef_staging_{uuid.uuid4().hex[:16]}"
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {_quote(staging)}"))
        staging_url = parsed.update_query_dict({"options": f"-csearch_path={staging}"})
        try:
            result = build(staging_url.render_as_string(hide_password=False))
            with engine.begin() as conn:
                tables = list(
                    conn.execute(
                        text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                        {"s": staging},
                    ).scalars()
                )
                existing = set(
                    conn.execute(
                        text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                        {"s": target},
                    ).scalars()
                )
                if "ledger_head" in existing:
                    size = conn.execute(
                        text(f"SELECT size FROM {_quote(target)}.ledger_head WHERE id = 1 FOR UPDATE")
                    ).scalar()
                    if size:
                        raise LedgerError(f"URL {url!r}: a ledger of {size} entries appeared while the demo ran")
                for name in tables:
                    if name in existing:
                        conn.execute(text(f"DROP TABLE {_quote(target)}.{_quote(name)} CASCADE"))
                for name in tables:
                    conn.execute(text(f"ALTER TABLE {_quote(staging)}.{_quote(name)} SET SCHEMA {_quote(target)}"))
                conn.execute(text(f"DROP SCHEMA {_quote(staging)} CASCADE"))
        except BaseException:
            with engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {_quote(staging)} CASCADE"))
            raise
        return result
    except SQLAlchemyError as exc:
        raise LedgerError(f"URL {url!r}: {str(exc).splitlines()[0]}") from None
    finally:
        engine.dispose()
