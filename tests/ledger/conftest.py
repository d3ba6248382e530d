"""Fixtures of the ledger tests: a fresh SQLite file and a fresh PostgreSQL schema per test.

PostgreSQL is used when ``NAEF_TEST_POSTGRES_URL`` is set (e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``); each test gets its own schema (``search_path`` set
through the connection options) that is dropped afterwards. Without the variable, or with no server
answering, the PostgreSQL variants skip and say why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from naef.ledger import Ledger, SignerKey, generate_key

PG_ENV = "NAEF_TEST_POSTGRES_URL"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def _pg_base_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests skipped: set {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    return url


def _pg_engine(url: str):  # type: ignore[no-untyped-def]
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        engine.dispose()
        pytest.skip(f"PostgreSQL tests skipped: no server reachable at {PG_ENV}={url} ({type(exc).__name__})")
    return engine


def fresh_postgres_schema() -> Iterator[str]:
    """Create a fresh schema, yield a URL whose connections use it, drop it afterwards (skips if no
    server)."""
    base = _pg_base_url()
    engine = _pg_engine(base)
    schema = f"naef_test_{uuid.uuid4().hex[:12]}"
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL schema (dropped after the test)."""
    yield from fresh_postgres_schema()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a fresh SQLite file."""
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database URL, once for SQLite and once for PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
    else:
        yield from fresh_postgres_schema()


@pytest.fixture
def log_key() -> SignerKey:
    """The log's signing key."""
    return generate_key("naef.test/fund-log")


@pytest.fixture
def ledger(db_url: str, log_key: SignerKey) -> Iterator[Ledger]:
    """An initialised, empty ledger on each backend."""
    led = Ledger.init(db_url, log_key.verifier())
    try:
        yield led
    finally:
        led.close()
