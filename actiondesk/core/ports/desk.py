"""The service desk's outside systems: ticket systems cases are mirrored into, and pagers that wake on-call."""

from __future__ import annotations

from typing import Protocol

from actiondesk.core.paging import PageDraft
from actiondesk.core.tickets import Attachment, ChangeDraft, TicketComment, TicketDraft, TicketRef


class TicketSystem(Protocol):
    """A service desk a case is mirrored into (ServiceNow, JSM). Raise TicketUnavailableError when a write
    may succeed later, TicketRejectedError when it never will; never a vendor error."""

    name: str

    def find(self, case_id: str) -> TicketRef | None:
        """The ticket whose correlation id is ``case_id``, if one was created (or linked by hand)."""
        ...

    def create(self, draft: TicketDraft) -> TicketRef: ...

    def has_entry(self, ticket: TicketRef, marker: str) -> bool:
        """Whether a note or comment carrying ``marker`` is already on the ticket."""
        ...

    def add_note(self, ticket: TicketRef, text: str, *, public: bool) -> None:
        """A work note / internal comment, or (``public``) a comment the requester sees."""
        ...

    def resolve(self, ticket: TicketRef, notes: str) -> str | None:
        """Resolve the ticket with ``notes``; what the case thread should hear about how, when it is not obvious."""
        ...

    def escalate(self, ticket: TicketRef, reason: str, group: str | None = None) -> None:
        """Hand the ticket to its people, saying why: the owner's assignment ``group`` when given (and known
        to the system), else the configured one."""
        ...

    def has_attachment(self, ticket: TicketRef, name: str) -> bool:
        """Whether a file of that name is already attached to the ticket."""
        ...

    def attach(self, ticket: TicketRef, attachment: Attachment) -> None: ...

    def open_change(self, ticket: TicketRef, change: ChangeDraft) -> str:
        """Create (or find, by ``change.correlation_id``) the change request for CAB; return its number."""
        ...

    def comments_since(self, ticket: TicketRef, cursor: str | None) -> tuple[list[TicketComment], str | None]:
        """Comments and work notes added after ``cursor`` (None: all), oldest first, and the new cursor."""
        ...


class Pager(Protocol):
    """An on-call paging service (PagerDuty, Opsgenie). Raise PageUnavailableError when the page may go through
    later, PageRejectedError when it never will; never a vendor error. Both calls are idempotent by the page's
    dedup key: a trigger for an open alert adds to it, a resolve of a closed one changes nothing."""

    name: str

    def trigger(self, page: PageDraft) -> None: ...

    def resolve(self, page: PageDraft) -> None: ...
