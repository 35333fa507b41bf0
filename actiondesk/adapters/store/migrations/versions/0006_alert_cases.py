"""The alert → case mapping in a table of its own.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

It used to be one JSON blob (``state_blobs['alert-cases']``) read and rewritten by each delivery, so concurrent
deliveries overwrote each other's mappings. ``alert_cases`` has one row per alert fingerprint (the primary key
makes a second case for the same alert impossible), inserted in the transaction that opens the case. The
mappings the blob held are carried over (those whose case still exists) and the blob is removed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BLOB = "alert-cases"


def upgrade() -> None:
    table = op.create_table(
        "alert_cases",
        sa.Column("fingerprint", sa.String(255), primary_key=True),
        sa.Column("case_id", sa.String(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    )
    connection = op.get_bind()
    text = connection.execute(sa.text("SELECT text FROM state_blobs WHERE name = :name"), {"name": BLOB}).scalar()
    if text:
        known = {row[0] for row in connection.execute(sa.text("SELECT id FROM cases"))}
        now = datetime.now(UTC)
        rows = [
            {"fingerprint": fingerprint, "case_id": case_id, "opened_at": now}
            for fingerprint, case_id in json.loads(text).items()
            if case_id in known
        ]
        if rows:
            op.bulk_insert(table, rows)
        connection.execute(sa.text("DELETE FROM state_blobs WHERE name = :name"), {"name": BLOB})


def downgrade() -> None:
    op.drop_table("alert_cases")
