"""The store's tables as sqlmodel classes. JSON-valued fields are TEXT holding JSON.

The schema itself is created by the migrations (``migrations/versions``), not from these classes; a
test checks that the two agree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, Integer, String, Table, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from actiondesk.adapters.store.utc import UtcDateTime

# INTEGER PRIMARY KEY is SQLite's rowid: entries are stored in seq order, which keeps a full scan fast.
_Seq = BigInteger().with_variant(Integer(), "sqlite")

HEAD_ID = 1


class CaseRow(SQLModel, table=True):
    __tablename__ = "cases"

    id: str = Field(primary_key=True)
    kind: str
    status: str = Field(index=True)
    title: str = Field(sa_type=Text)
    text: str = Field(sa_type=Text)
    reporter: str
    surface: str
    thread: str = Field(sa_type=Text)  # JSON object
    service: str | None = None
    finding: str | None = Field(default=None, sa_type=Text)  # JSON
    plan: str | None = Field(default=None, sa_type=Text)  # JSON
    steps_taken: int
    tags: str = Field(sa_type=Text)  # JSON array
    created_at: datetime = Field(sa_type=UtcDateTime(), index=True)
    updated_at: datetime = Field(sa_type=UtcDateTime())
    resolved_at: datetime | None = Field(default=None, sa_type=UtcDateTime())
    wake_at: datetime | None = Field(default=None, sa_type=UtcDateTime())
    watch_until: datetime | None = Field(default=None, sa_type=UtcDateTime())
    reopened: int
    llm_calls: int
    tokens: int = Field(sa_type=BigInteger)
    cost_usd: float
    version: int
    lease_owner: str | None = None
    lease_until: datetime | None = Field(default=None, sa_type=UtcDateTime())


class ApprovalRow(SQLModel, table=True):
    __tablename__ = "approvals"

    id: str = Field(primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True)
    step_index: int
    call: str = Field(sa_type=Text)  # JSON ActionCall
    target: str
    approver_group: str
    quorum: int
    production: bool
    status: str = Field(index=True)
    requested_by: str
    proposed_by: str
    reasons: str = Field(sa_type=Text)  # JSON array
    policy_ids: str = Field(sa_type=Text)  # JSON array
    created_at: datetime = Field(sa_type=UtcDateTime())
    expires_at: datetime = Field(sa_type=UtcDateTime())
    decided_by: str | None = None
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime())
    reason: str | None = Field(default=None, sa_type=Text)


class RunRow(SQLModel, table=True):
    __tablename__ = "action_runs"

    key: str = Field(primary_key=True)  # the idempotency key
    case_id: str | None = Field(default=None, foreign_key="cases.id", index=True)
    action: str
    params: str = Field(sa_type=Text)  # JSON object
    status: str
    snapshot: str | None = Field(default=None, sa_type=Text)  # JSON object
    result: str | None = Field(default=None, sa_type=Text)  # JSON object
    error: str | None = Field(default=None, sa_type=Text)
    started_at: datetime = Field(sa_type=UtcDateTime())
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime())


class AuditEntryRow(SQLModel, table=True):
    """One link of the hash chain. ``seq`` is assigned by the ledger, never by the database."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_case_id_seq", "case_id", "seq"),
        UniqueConstraint("prev_hash", name="uq_audit_entries_prev_hash"),
        UniqueConstraint("hash", name="uq_audit_entries_hash"),
    )

    seq: int = Field(sa_column=Column(_Seq, primary_key=True, autoincrement=False))
    kind: str
    case_id: str | None = None
    actor: str
    at: datetime = Field(sa_type=UtcDateTime())
    payload: str = Field(sa_type=Text)  # canonical JSON, exactly as hashed
    prev_hash: str = Field(sa_type=String(64))
    hash: str = Field(sa_type=String(64))


class AuditHeadRow(SQLModel, table=True):
    """The chain's head, one row (id 1): the row writers lock to serialise appends."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="ck_audit_head_single_row"),)

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    seq: int = Field(sa_column=Column(_Seq, nullable=False))
    hash: str = Field(sa_type=String(64))


class BlobRow(SQLModel, table=True):
    __tablename__ = "state_blobs"

    name: str = Field(primary_key=True)
    text: str = Field(sa_type=Text)
    updated_at: datetime = Field(sa_type=UtcDateTime())
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # migration 0008


class DeliveryRow(SQLModel, table=True):
    """An inbound delivery key seen once (migration 0002)."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_seen_at", "seen_at"),)

    key: str = Field(primary_key=True, max_length=255)
    source: str = Field(max_length=32)
    seen_at: datetime = Field(sa_type=UtcDateTime())


class JobFireRow(SQLModel, table=True):
    """One (job, fire time) claimed by one replica (migration 0002)."""

    __tablename__ = "job_fires"

    job: str = Field(primary_key=True, max_length=128)
    fire_at: datetime = Field(primary_key=True, sa_type=UtcDateTime())
    owner: str = Field(max_length=255)
    claimed_at: datetime = Field(sa_type=UtcDateTime())


class ApprovalVoteRow(SQLModel, table=True):
    """One approver's vote to approve one approval (migration 0003): N of them meet a quorum of N."""

    __tablename__ = "approval_votes"

    approval_id: str = Field(primary_key=True, foreign_key="approvals.id")
    person: str = Field(primary_key=True, max_length=255)
    voted_at: datetime = Field(sa_type=UtcDateTime())


class OutboxRow(SQLModel, table=True):
    """One ticket-mirror write, committed with the case change it mirrors (migration 0004)."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_ticket", "system", "case_id", "id"),
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(_Seq, primary_key=True, autoincrement=True))
    system: str = Field(max_length=32)
    case_id: str = Field(foreign_key="cases.id")
    ticket: str = Field(sa_type=Text)  # JSON TicketDraft
    update: str = Field(sa_type=Text)  # JSON TicketUpdate
    status: str = Field(max_length=16)
    attempts: int
    next_attempt_at: datetime = Field(sa_type=UtcDateTime())
    created_at: datetime = Field(sa_type=UtcDateTime())
    delivered_at: datetime | None = Field(default=None, sa_type=UtcDateTime())
    last_error: str | None = Field(default=None, sa_type=Text)
    claimed_by: str | None = Field(default=None, max_length=255)
    claimed_until: datetime | None = Field(default=None, sa_type=UtcDateTime())


class TicketLinkRow(SQLModel, table=True):
    """The remote ticket a case is mirrored into, per system (migration 0004)."""

    __tablename__ = "ticket_links"

    system: str = Field(primary_key=True, max_length=32)
    case_id: str = Field(primary_key=True, foreign_key="cases.id")
    key: str = Field(max_length=255)
    number: str = Field(max_length=255)
    linked_at: datetime = Field(sa_type=UtcDateTime())


class WebSessionRow(SQLModel, table=True):
    """A console session (migration 0005): the cookie holds a random id, the row only its SHA-256."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_expires_at", "expires_at"),)

    id_hash: str = Field(primary_key=True, max_length=64)
    person: str = Field(max_length=255)
    email: str | None = Field(default=None, max_length=320)
    via: str = Field(max_length=16)
    created_at: datetime = Field(sa_type=UtcDateTime())
    expires_at: datetime = Field(sa_type=UtcDateTime())


class PendingLoginRow(SQLModel, table=True):
    """An authorization request waiting for the issuer's callback (migration 0005); used once."""

    __tablename__ = "pending_logins"

    state_hash: str = Field(primary_key=True, max_length=64)
    code_verifier: str = Field(max_length=128)
    nonce: str = Field(max_length=128)
    next_path: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UtcDateTime())
    expires_at: datetime = Field(sa_type=UtcDateTime())


class ApiTokenRow(SQLModel, table=True):
    """An API token (migration 0005): its public id, the person, the scopes, and only the secret's hash."""

    __tablename__ = "api_tokens"

    id: str = Field(primary_key=True, max_length=32)
    person: str = Field(max_length=255)
    scopes: str = Field(sa_type=Text)  # JSON array
    secret_hash: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UtcDateTime())
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime())
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime())
    last_used_at: datetime | None = Field(default=None, sa_type=UtcDateTime())


class AlertCaseRow(SQLModel, table=True):
    """The case an Alertmanager alert opened, by its fingerprint (migration 0006): one case per fingerprint."""

    __tablename__ = "alert_cases"

    fingerprint: str = Field(primary_key=True, max_length=255)
    case_id: str = Field(foreign_key="cases.id")
    opened_at: datetime = Field(sa_type=UtcDateTime())


class CaseAttemptRow(SQLModel, table=True):
    """Failed attempts at a case's current step (migration 0007): the retry backoff, persisted."""

    __tablename__ = "case_attempts"

    case_id: str = Field(primary_key=True, foreign_key="cases.id")
    attempts: int
    next_attempt_at: datetime = Field(sa_type=UtcDateTime())
    last_error: str = Field(sa_type=Text)
    updated_at: datetime = Field(sa_type=UtcDateTime())


class ChangeRow(SQLModel, table=True):
    """A change event a CI/CD system reported (migration 0010); ``id`` is its idempotency key."""

    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_service_at", "service", "at"), Index("ix_changes_at", "at"))

    id: str = Field(primary_key=True, max_length=255)
    service: str = Field(max_length=255)
    kind: str = Field(max_length=32)
    at: datetime = Field(sa_type=UtcDateTime())
    source: str = Field(max_length=32)
    version: str | None = Field(default=None, sa_type=Text)
    previous_version: str | None = Field(default=None, sa_type=Text)
    commit_sha: str | None = Field(default=None, sa_type=Text)
    key: str | None = Field(default=None, sa_type=Text)
    value: str | None = Field(default=None, sa_type=Text)
    previous_value: str | None = Field(default=None, sa_type=Text)
    replicas: int | None = None
    previous_replicas: int | None = None
    author: str = Field(sa_type=Text)
    url: str = Field(sa_type=Text)
    received_at: datetime = Field(sa_type=UtcDateTime())


class CaseRollupRow(SQLModel, table=True):
    """What one case adds to the metrics (migration 0011): JSON facts, see adapters/store/rollup.py."""

    __tablename__ = "case_rollups"

    case_id: str = Field(primary_key=True)
    facts: str = Field(sa_type=Text)


class MetricRollupRow(SQLModel, table=True):
    """A figure's total and count over the cases opened on one UTC day, or all-time (day '') (migration 0011)."""

    __tablename__ = "metric_rollups"

    day: str = Field(primary_key=True, max_length=10)
    name: str = Field(primary_key=True, max_length=32)
    key: str = Field(primary_key=True, max_length=255)
    total: float
    count: int = Field(sa_type=BigInteger)


def _table(model: type[SQLModel]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


cases = _table(CaseRow)
approvals = _table(ApprovalRow)
action_runs = _table(RunRow)
audit_entries = _table(AuditEntryRow)
audit_head = _table(AuditHeadRow)
state_blobs = _table(BlobRow)
deliveries = _table(DeliveryRow)
job_fires = _table(JobFireRow)
approval_votes = _table(ApprovalVoteRow)
outbox = _table(OutboxRow)
ticket_links = _table(TicketLinkRow)
web_sessions = _table(WebSessionRow)
pending_logins = _table(PendingLoginRow)
api_tokens = _table(ApiTokenRow)
alert_cases = _table(AlertCaseRow)
case_attempts = _table(CaseAttemptRow)
changes = _table(ChangeRow)
case_rollups = _table(CaseRollupRow)
metric_rollups = _table(MetricRollupRow)

TABLES: tuple[Table, ...] = (
    cases,
    approvals,
    action_runs,
    audit_entries,
    audit_head,
    state_blobs,
    deliveries,
    job_fires,
    approval_votes,
    outbox,
    ticket_links,
    web_sessions,
    pending_logins,
    api_tokens,
    alert_cases,
    case_attempts,
    changes,
    case_rollups,
    metric_rollups,
)
