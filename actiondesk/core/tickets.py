"""Ticket mirroring vocabulary: the ticket a case opens in a service desk, the updates mirrored into it,
the outbox rows that carry them (and the pages the same outbox carries to a pager), and the comments people
add there."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from actiondesk.core.paging import PageDraft


class UpdateKind(StrEnum):
    NOTE = "note"  # a work note (internal) or comment (public)
    RESOLVE = "resolve"  # resolved, with close notes
    ESCALATE = "escalate"  # handed to the assignment group, with the reason
    CHANGE = "change"  # a change request for CAB, linked to the ticket
    ATTACH = "attach"  # a file attached to the ticket (the post-mortem)
    PAGE = "page"  # a page to the owner's on-call, or its resolution (rows of a pager system)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"  # rejected by the ticket system: waits for `actiondesk outbox retry ID`


class TicketDraft(BaseModel):
    """What a ticket is created from. ``case_id`` is the correlation id the ticket is found by."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    title: str
    description: str
    kind: str = "incident"
    service: str | None = None


class ChangeDraft(BaseModel):
    model_config = ConfigDict(frozen=True)

    correlation_id: str = Field(description="The approval id: a change request is found again by it.")
    title: str
    description: str


class Attachment(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(description="File name; a retry finds an attachment already there by it.")
    content_type: str = "text/markdown"
    text: str


class TicketUpdate(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: UpdateKind
    text: str
    public: bool = False
    change: ChangeDraft | None = None
    group: str | None = Field(default=None, description="ESCALATE: the owner's assignment group.")
    attachment: Attachment | None = None
    page: PageDraft | None = None


class TicketRef(BaseModel):
    """A ticket in one system: ``key`` addresses it in the API (sys_id, issue key), ``number`` is for people."""

    model_config = ConfigDict(frozen=True)

    system: str
    key: str
    number: str


class OutboxDraft(BaseModel):
    model_config = ConfigDict(frozen=True)

    system: str
    ticket: TicketDraft
    update: TicketUpdate


class OutboxRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    system: str
    case_id: str
    ticket: TicketDraft
    update: TicketUpdate
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None = None
    last_error: str | None = None

    @property
    def marker(self) -> str:
        """Carried by every entry this row writes, so a retry can tell whether it already arrived."""
        return f"[ActionDesk {self.case_id} #{self.id}]"


class TicketComment(BaseModel):
    """A comment or work note a person added on the ticket."""

    model_config = ConfigDict(frozen=True)

    id: str
    author: str
    text: str
    public: bool
    at: datetime
