"""Initial schema: cases, approvals, action runs, the audit chain and its head, state blobs.

Revision ID: 0001
Revises:
Create Date: 2026-05-10

Self-contained on purpose: a migration must keep producing the same schema whatever the code becomes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "0" * 64  # actiondesk.core.audit.GENESIS, frozen here

_seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # INTEGER PRIMARY KEY: SQLite's rowid


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


# PostgreSQL only. SQLite has no roles and no way to keep a file's owner from editing it, so it gets no
# such trigger: there `actiondesk audit verify` (the hash chain checked against audit_head) is what
# catches tampering.
_APPEND_ONLY = """
CREATE FUNCTION actiondesk_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_entries_append_only
    BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION actiondesk_audit_append_only();
CREATE TRIGGER audit_entries_no_truncate
    BEFORE TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION actiondesk_audit_append_only();

CREATE FUNCTION actiondesk_audit_head_update_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% may only be updated: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_head_update_only
    BEFORE DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION actiondesk_audit_head_update_only();
CREATE TRIGGER audit_head_no_truncate
    BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION actiondesk_audit_head_update_only();
"""


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reporter", sa.String(), nullable=False),
        sa.Column("surface", sa.String(), nullable=False),
        sa.Column("thread", sa.Text(), nullable=False),
        sa.Column("service", sa.String(), nullable=True),
        sa.Column("finding", sa.Text(), nullable=True),
        sa.Column("plan", sa.Text(), nullable=True),
        sa.Column("steps_taken", sa.Integer(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        _at("resolved_at", nullable=True),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.Column("llm_calls", sa.Integer(), nullable=False),
        sa.Column("tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(), nullable=True),
        _at("lease_until", nullable=True),
    )
    op.create_index("ix_cases_status", "cases", ["status"])
    op.create_index("ix_cases_created_at", "cases", ["created_at"])

    op.create_table(
        "approvals",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("case_id", sa.String(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("call", sa.Text(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("approver_group", sa.String(), nullable=False),
        sa.Column("quorum", sa.Integer(), nullable=False),
        sa.Column("production", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("requested_by", sa.String(), nullable=False),
        sa.Column("proposed_by", sa.String(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("policy_ids", sa.Text(), nullable=False),
        _at("created_at"),
        _at("expires_at"),
        sa.Column("decided_by", sa.String(), nullable=True),
        _at("decided_at", nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_approvals_case_id", "approvals", ["case_id"])
    op.create_index("ix_approvals_status", "approvals", ["status"])

    op.create_table(
        "action_runs",
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("case_id", sa.String(), sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _at("started_at"),
        _at("finished_at", nullable=True),
    )
    op.create_index("ix_action_runs_case_id", "action_runs", ["case_id"])

    op.create_table(
        "audit_entries",
        sa.Column("seq", _seq, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=True),
        sa.Column("actor", sa.String(), nullable=False),
        _at("at"),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("prev_hash", name="uq_audit_entries_prev_hash"),
        sa.UniqueConstraint("hash", name="uq_audit_entries_hash"),
    )
    op.create_index("ix_audit_entries_case_id_seq", "audit_entries", ["case_id", "seq"])

    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", _seq, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_audit_head_single_row"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])

    op.create_table(
        "state_blobs",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        _at("updated_at"),
    )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(_APPEND_ONLY)


def downgrade() -> None:
    for table in ("state_blobs", "audit_head", "audit_entries", "action_runs", "approvals", "cases"):
        op.drop_table(table)  # PostgreSQL drops a table's triggers with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION actiondesk_audit_append_only()")
        op.execute("DROP FUNCTION actiondesk_audit_head_update_only()")
