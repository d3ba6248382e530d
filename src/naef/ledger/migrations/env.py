"""Alembic environment of the ledger: always runs on the connection handed over by ``naef.ledger.store``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from naef.ledger.store import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):  # pragma: no cover - only reachable through the alembic CLI
    raise RuntimeError("run the ledger migrations through naef.ledger.store.upgrade(engine)")

context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
