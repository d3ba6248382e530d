"""The ledger's initial schema: meta, head, entries, nodes, checkpoints, witnesses.

Revision ID: 0001_initial
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

_Index = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ledger_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("size", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("idx", _Index, primary_key=True, autoincrement=False),
        sa.Column("entry_type", sa.String(64), nullable=False),
        sa.Column("canonical", sa.LargeBinary, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_index("ix_ledger_entries_entry_type", "ledger_entries", ["entry_type"])
    op.create_table(
        "ledger_nodes",
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("idx", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name="pk_ledger_nodes"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "ledger_checkpoints",
        sa.Column("size", _Index, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "ledger_witnesses",
        sa.Column("vkey", sa.String(300), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("added_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "ledger_witnesses",
        "ledger_checkpoints",
        "ledger_nodes",
        "ledger_entries",
        "ledger_head",
        "ledger_meta",
    ):
        op.drop_table(table)
