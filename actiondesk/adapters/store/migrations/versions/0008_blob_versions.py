"""A version on each state blob, so that writers serialise and readers notice changes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

The sandbox estate is one blob shared by every replica. Each change now locks its row, re-reads it, writes the
changed text with ``version + 1`` in that one transaction; a reader re-reads the text when the version moved.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("state_blobs") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("state_blobs") as batch:
        batch.drop_column("version")
