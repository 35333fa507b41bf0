"""Cases that wait for a moment: an early report being watched, a question waiting for its answer.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

``wake_at`` is when a watching case re-reads its signals (or an unanswered question gives up); ``watch_until``
is when watching an early report ends.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("wake_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("watch_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("watch_until")
        batch.drop_column("wake_at")
