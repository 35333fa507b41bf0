"""Reading a case's post-mortem back from its audit trail: the newest one written, with the model's summary
paragraph when one was added after it."""

from __future__ import annotations

from collections.abc import Iterable

from actiondesk.agents.postmortem.model import PostMortem
from actiondesk.core.audit import AuditEntry, AuditKind
from actiondesk.core.audit_payloads import PostmortemSummary, read
from actiondesk.core.errors import AuditIntegrityError


def stored_postmortem(entries: Iterable[AuditEntry]) -> PostMortem | None:
    """None when the case has none (it is not a resolved incident). Raise AuditIntegrityError when the stored
    entry does not read back as a post-mortem."""
    found: PostMortem | None = None
    for entry in entries:
        if entry.kind is AuditKind.POSTMORTEM:
            try:
                found = PostMortem.model_validate(entry.payload)
            except ValueError as exc:
                raise AuditIntegrityError(f"entry {entry.seq}: not a post-mortem: {exc}") from None
        elif entry.kind is AuditKind.POSTMORTEM_SUMMARY and found is not None:
            summary = read(entry, PostmortemSummary).text
            found = found.model_copy(update={"model_summary": summary}) if summary else found
    return found
