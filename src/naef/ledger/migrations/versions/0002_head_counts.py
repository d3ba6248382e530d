"""The head records how many checkpoints and witness cosignatures were stored, so that deleting a checkpoint row
or removing a cosignature line from a stored note is detected by ``verify`` (issue 14 item 6).

Revision ID: 0002_head_counts
Revises: 0001_initial
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_head_counts"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def _cosignature_lines(note: str) -> int:
    """Signature lines after the log's own (C2SP signed note: text, blank line, one line per signature)."""
    _, _, signatures = note.partition("\n\n")
    return max(0, sum(1 for line in signatures.splitlines() if line.startswith("\u2014 ")) - 1)


def upgrade() -> None:
    with op.batch_alter_table("ledger_head") as batch:
        batch.add_column(sa.Column("checkpoints", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(sa.Column("cosignatures", sa.BigInteger, nullable=False, server_default="0"))
    conn = op.get_bind()
    notes = [str(n) for (n,) in conn.execute(sa.text("SELECT note FROM ledger_checkpoints"))]
    conn.execute(
        sa.text("UPDATE ledger_head SET checkpoints = :c, cosignatures = :s WHERE id = 1"),
        {"c": len(notes), "s": sum(_cosignature_lines(n) for n in notes)},
    )


def downgrade() -> None:
    with op.batch_alter_table("ledger_head") as batch:
        batch.drop_column("cosignatures")
        batch.drop_column("checkpoints")
