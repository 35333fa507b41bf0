"""The change events CI/CD systems report (issue 15): deploys, config changes, flags and scaling.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

``id`` is the sender's idempotency key (a GitHub deployment status id, an Argo CD sync, the ``id`` of a
``POST /api/changes`` body, or one we generated): the primary key makes a resend, or two racing resends, one row.
Triage reads a service's changes by time, hence the (service, at) index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("service", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("version", sa.Text(), nullable=True),
        sa.Column("previous_version", sa.Text(), nullable=True),
        sa.Column("commit_sha", sa.Text(), nullable=True),
        sa.Column("key", sa.Text(), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("previous_value", sa.Text(), nullable=True),
        sa.Column("replicas", sa.Integer(), nullable=True),
        sa.Column("previous_replicas", sa.Integer(), nullable=True),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_changes_service_at", "changes", ["service", "at"])
    op.create_index("ix_changes_at", "changes", ["at"])


def downgrade() -> None:
    op.drop_index("ix_changes_at", table_name="changes")
    op.drop_index("ix_changes_service_at", table_name="changes")
    op.drop_table("changes")
