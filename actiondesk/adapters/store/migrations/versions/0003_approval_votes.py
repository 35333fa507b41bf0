"""Approval votes: one row per approver per approval, for N-of-M quorums.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

An approval whose policy asks for a quorum of N stays pending until N different authorised people have voted
to approve; the primary key makes a second vote by the same person a no-op, across replicas.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approval_votes",
        sa.Column("approval_id", sa.String(), sa.ForeignKey("approvals.id"), primary_key=True),
        sa.Column("person", sa.String(255), primary_key=True),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("approval_votes")
