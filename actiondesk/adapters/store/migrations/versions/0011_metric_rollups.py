"""Metric rollups kept up with the case transitions (issue 16), backfilled from the stored history.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

``case_rollups`` holds each case's facts (what its row, approvals and audit entries add to the figures);
``metric_rollups`` the sums, per UTC day a case was opened and all-time (day ``''``). See
``adapters/store/rollup.py``; the backfill runs its current definitions over every stored case.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from actiondesk.adapters.store.rollup import backfill

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_rollups",
        sa.Column("case_id", sa.String(), primary_key=True),
        sa.Column("facts", sa.Text(), nullable=False),
    )
    op.create_table(
        "metric_rollups",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
    )
    backfill(op.get_bind())


def downgrade() -> None:
    op.drop_table("metric_rollups")
    op.drop_table("case_rollups")
