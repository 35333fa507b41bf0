"""Delivery dedupe and scheduler fire-once tables.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

``deliveries`` remembers every inbound delivery key (a Slack event_id, an interaction's action id, a Teams
activity id) so that a retried delivery does nothing twice; the key is committed before any side effect.
``job_fires`` gives each (job, fire time) exactly one owner across replicas.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_deliveries_seen_at", "deliveries", ["seen_at"])
    op.create_table(
        "job_fires",
        sa.Column("job", sa.String(128), primary_key=True),
        sa.Column("fire_at", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_fires")
    op.drop_index("ix_deliveries_seen_at", table_name="deliveries")
    op.drop_table("deliveries")
