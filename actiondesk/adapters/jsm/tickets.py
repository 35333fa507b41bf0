"""JsmTicketSystem: a case's customer request in the configured service desk and request type.

The request's summary starts with ``[case id]``, which is how it is found again (JSM's own request search,
atomic with creation). Comments go through the JSM comment API (plain string bodies, ``public`` true or
false); resolution goes through the platform API's transitions, looked up by name, with an ADF comment. A
hand-off names the owner's group in an internal comment (JSM has no assignment group field of its own), and
files (the post-mortem) go through the platform API's attachments.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from actiondesk.adapters.jsm.adf import adf
from actiondesk.adapters.jsm.client import JsmClient
from actiondesk.core.errors import TicketRejectedError
from actiondesk.core.tickets import Attachment, ChangeDraft, TicketComment, TicketDraft, TicketRef

log = logging.getLogger(__name__)

OWN_MARK = "[ActionDesk "
REQUESTS = "/rest/servicedeskapi/request"


def _resolves(transition: dict[str, Any]) -> bool:
    """A transition into a done-category status whose name (or its status's) says resolve."""
    target = transition.get("to") or {}
    if (target.get("statusCategory") or {}).get("key") != "done":
        return False
    return any("resolv" in str(name).casefold() for name in (transition.get("name"), target.get("name")))


def _summary(case_id: str, title: str) -> str:
    return f"[{case_id}] {title}"[:250]


class JsmTicketSystem:
    name = "jsm"

    def __init__(
        self,
        client: JsmClient,
        *,
        service_desk_id: str,
        request_type_id: str,
        resolve_transition: str = "Resolve",
        email: str | None = None,
    ) -> None:
        self._client = client
        self._desk = service_desk_id
        self._type = request_type_id
        self._resolve = resolve_transition
        self._email = email

    def find(self, case_id: str) -> TicketRef | None:
        params = {"searchTerm": case_id, "serviceDeskId": self._desk, "requestOwnership": "OWNED_REQUESTS"}
        for request in self._client.pages(REQUESTS, params):
            fields = {f.get("fieldId"): f.get("value") for f in request.get("requestFieldValues", [])}
            if str(fields.get("summary", "")).startswith(f"[{case_id}]"):
                return TicketRef(system=self.name, key=request["issueKey"], number=request["issueKey"])
        return None

    def create(self, draft: TicketDraft) -> TicketRef:
        body = {
            "serviceDeskId": self._desk,
            "requestTypeId": self._type,
            "requestFieldValues": {"summary": _summary(draft.case_id, draft.title), "description": draft.description},
        }
        created = self._client.request("POST", REQUESTS, json=body).json()
        log.info("case %s: request %s created", draft.case_id, created.get("issueKey"))
        return TicketRef(system=self.name, key=created["issueKey"], number=created["issueKey"])

    def _comments(self, ticket: TicketRef) -> list[dict[str, Any]]:
        return list(self._client.pages(f"{REQUESTS}/{ticket.key}/comment", {}))

    def has_entry(self, ticket: TicketRef, marker: str) -> bool:
        return any(marker in str(c.get("body", "")) for c in self._comments(ticket))

    def add_note(self, ticket: TicketRef, text: str, *, public: bool) -> None:
        self._client.request("POST", f"{REQUESTS}/{ticket.key}/comment", json={"body": text, "public": public})

    def resolve(self, ticket: TicketRef, notes: str) -> str | None:
        """Take the transition named JSM_RESOLVE_TRANSITION; when the workflow has none, the one into a
        done-category status whose name says resolve (say which, in the case thread); fail only without either."""
        path = f"/rest/api/3/issue/{ticket.key}/transitions"
        transitions = self._client.request("GET", path).json().get("transitions") or []
        wanted = self._resolve.casefold()
        match = next((t for t in transitions if str(t.get("name", "")).casefold() == wanted), None)
        said = None
        if match is None:
            match = next((t for t in transitions if _resolves(t)), None)
            if match is not None:
                said = (
                    f"JSM: {ticket.key}'s workflow has no {self._resolve!r} transition, so it was resolved with "
                    f"{match.get('name')!r} (set JSM_RESOLVE_TRANSITION to name it)."
                )
                log.warning("%s: resolved with %r instead of %r", ticket.key, match.get("name"), self._resolve)
        if match is None:
            issue = self._client.request("GET", f"/rest/api/3/issue/{ticket.key}", params={"fields": "status"}).json()
            category = issue.get("fields", {}).get("status", {}).get("statusCategory", {}).get("key")
            if category == "done":
                self.add_note(ticket, notes, public=True)  # already resolved by someone: say how it ended
                return None
            names = ", ".join(str(t.get("name")) for t in transitions) or "none"
            raise TicketRejectedError(f"{ticket.key} has no transition named {self._resolve!r} (it has: {names})")
        body = {"transition": {"id": str(match["id"])}, "update": {"comment": [{"add": {"body": adf(notes)}}]}}
        self._client.request("POST", path, json=body)
        return said

    def escalate(self, ticket: TicketRef, reason: str, group: str | None = None) -> None:
        self.add_note(ticket, f"{reason}\nAssigned to: {group}" if group else reason, public=False)

    def has_attachment(self, ticket: TicketRef, name: str) -> bool:
        issue = self._client.request("GET", f"/rest/api/3/issue/{ticket.key}", params={"fields": "attachment"})
        found = (issue.json().get("fields") or {}).get("attachment") or []
        return any(item.get("filename") == name for item in found)

    def attach(self, ticket: TicketRef, attachment: Attachment) -> None:
        """Jira's attachment upload: multipart ``file``, with the XSRF check switched off as Jira asks."""
        self._client.request(
            "POST",
            f"/rest/api/3/issue/{ticket.key}/attachments",
            files={"file": (attachment.name, attachment.text.encode("utf-8"), attachment.content_type)},
            headers={"X-Atlassian-Token": "no-check"},
        )

    def open_change(self, ticket: TicketRef, change: ChangeDraft) -> str:
        """JSM has no change table here: the CAB request is an internal comment on the same request."""
        self.add_note(ticket, f"{change.title}\n{change.description}", public=False)
        return ticket.number

    def comments_since(self, ticket: TicketRef, cursor: str | None) -> tuple[list[TicketComment], str | None]:
        """Comments people added; the cursor is the highest comment id seen (Jira's ids only grow)."""
        last = int(cursor) if cursor else 0
        found: list[TicketComment] = []
        newest = last
        for comment in self._comments(ticket):
            number = int(comment.get("id", 0))
            if number <= last:
                continue
            newest = max(newest, number)
            author = comment.get("author") or {}
            body = str(comment.get("body", ""))
            if OWN_MARK in body or (self._email and author.get("emailAddress") == self._email):
                continue
            millis = (comment.get("created") or {}).get("epochMillis", 0)
            found.append(
                TicketComment(
                    id=str(number),
                    author=str(author.get("displayName") or author.get("emailAddress") or "someone"),
                    text=body,
                    public=bool(comment.get("public")),
                    at=datetime.fromtimestamp(millis / 1000, UTC),
                )
            )
        return found, str(newest)
