"""Retries of a case step that raised, persisted.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05

One row per case whose current step raised: how many attempts failed, when the next may run, and the last
error. The row is written with the case's step count in one transaction, and deleted once a run gets through.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_attempts",
        sa.Column("case_id", sa.String(), sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("case_attempts")
