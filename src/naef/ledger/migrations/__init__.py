"""Alembic migrations of the ledger schema (run programmatically by :func:`naef.ledger.store.upgrade`)."""
