"""ServiceNowTicketSystem: a case's incident (correlation_id = the case id), its journal, its resolution,
change requests for CAB, the owner's assignment group on a hand-off (looked up by name in sys_user_group) and
files attached through the Attachment API (the post-mortem).

Values are strings in the Table API, references are plain sys_ids (``sysparm_exclude_reference_link``),
journal fields (work_notes, comments) append on write and are read from sys_journal_field.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from actiondesk.adapters.servicenow.client import ServiceNowClient
from actiondesk.core.errors import TicketRejectedError
from actiondesk.core.tickets import Attachment, ChangeDraft, TicketComment, TicketDraft, TicketRef

log = logging.getLogger(__name__)

RESOLVED = "6"
IN_PROGRESS = "2"
OWN_MARK = "[ActionDesk "  # every entry ActionDesk writes carries it (see OutboxRow.marker)
_TIME = "%Y-%m-%d %H:%M:%S"


def _quoted(value: str) -> str:
    """A value safe inside an encoded query: '^' separates clauses, so a value holding one is refused."""
    if "^" in value or "\n" in value:
        raise TicketRejectedError(f"cannot query ServiceNow for {value!r}")
    return value


class ServiceNowTicketSystem:
    name = "servicenow"

    def __init__(
        self,
        client: ServiceNowClient,
        *,
        assignment_group: str | None = None,
        close_code: str = "Solution provided",
        username: str | None = None,
    ) -> None:
        self._client = client
        self._group = assignment_group
        self._close_code = close_code
        self._username = username
        self._groups: dict[str, str | None] = {}  # group name -> sys_id (None: not in this instance)

    def find(self, case_id: str) -> TicketRef | None:
        params = {
            "sysparm_query": f"correlation_id={_quoted(case_id)}^ORDERBYsys_created_on",
            "sysparm_fields": "sys_id,number",
            "sysparm_limit": "1",
        }
        rows = self._client.request("GET", "/api/now/table/incident", params=params).json().get("result") or []
        if not rows:
            return None
        return TicketRef(system=self.name, key=rows[0]["sys_id"], number=rows[0]["number"])

    def create(self, draft: TicketDraft) -> TicketRef:
        body = {
            "short_description": draft.title[:160],
            "description": draft.description,
            "correlation_id": draft.case_id,
            "correlation_display": "ActionDesk",
            "state": IN_PROGRESS,
        }
        if self._group:
            body["assignment_group"] = self._group
        params = {"sysparm_exclude_reference_link": "true", "sysparm_fields": "sys_id,number"}
        result = self._client.result("POST", "/api/now/table/incident", params=params, json=body)
        log.info("case %s: incident %s created", draft.case_id, result.get("number"))
        return TicketRef(system=self.name, key=result["sys_id"], number=result["number"])

    def _patch(self, ticket: TicketRef, body: dict[str, str], table: str = "incident") -> None:
        params = {"sysparm_exclude_reference_link": "true", "sysparm_fields": "sys_id"}
        self._client.request("PATCH", f"/api/now/table/{table}/{ticket.key}", params=params, json=body)

    def has_entry(self, ticket: TicketRef, marker: str) -> bool:
        params = {
            "sysparm_query": f"element_id={_quoted(ticket.key)}^valueLIKE{_quoted(marker)}",
            "sysparm_fields": "sys_id",
            "sysparm_limit": "1",
        }
        response = self._client.request("GET", "/api/now/table/sys_journal_field", params=params)
        return bool(response.json().get("result"))

    def add_note(self, ticket: TicketRef, text: str, *, public: bool) -> None:
        self._patch(ticket, {"comments" if public else "work_notes": text})

    def resolve(self, ticket: TicketRef, notes: str) -> str | None:
        self._patch(
            ticket, {"state": RESOLVED, "close_code": self._close_code, "close_notes": notes, "comments": notes}
        )
        return None

    def _group_id(self, name: str) -> str | None:
        if name not in self._groups:
            params = {"sysparm_query": f"name={_quoted(name)}", "sysparm_fields": "sys_id", "sysparm_limit": "1"}
            rows = self._client.request("GET", "/api/now/table/sys_user_group", params=params).json().get("result")
            self._groups[name] = str(rows[0]["sys_id"]) if rows else None
        return self._groups[name]

    def escalate(self, ticket: TicketRef, reason: str, group: str | None = None) -> None:
        """Assign the incident to the owner's group (by name), else to the configured one, with the reason."""
        body = {"state": IN_PROGRESS, "work_notes": reason}
        found = self._group_id(group) if group else None
        if group and found is None:
            log.warning("ServiceNow has no assignment group named %r; using the configured one", group)
            body["work_notes"] = f"{reason}\n(No assignment group named {group!r} in ServiceNow.)"
        if found or self._group:
            body["assignment_group"] = found or self._group or ""
        self._patch(ticket, body)

    def has_attachment(self, ticket: TicketRef, name: str) -> bool:
        params = {
            "sysparm_query": f"table_sys_id={_quoted(ticket.key)}^file_name={_quoted(name)}",
            "sysparm_limit": "1",
        }
        return bool(self._client.request("GET", "/api/now/attachment", params=params).json().get("result"))

    def attach(self, ticket: TicketRef, attachment: Attachment) -> None:
        params = {"table_name": "incident", "table_sys_id": ticket.key, "file_name": attachment.name}
        self._client.request(
            "POST",
            "/api/now/attachment/file",
            params=params,
            content=attachment.text.encode("utf-8"),
            headers={"Content-Type": attachment.content_type},
        )

    def open_change(self, ticket: TicketRef, change: ChangeDraft) -> str:
        params = {
            "sysparm_query": f"correlation_id={_quoted(change.correlation_id)}",
            "sysparm_fields": "sys_id,number",
            "sysparm_limit": "1",
        }
        found = self._client.request("GET", "/api/now/table/change_request", params=params).json().get("result")
        if found:
            sys_id, number = found[0]["sys_id"], found[0]["number"]
        else:
            body = {
                "short_description": change.title[:160],
                "description": change.description,
                "correlation_id": change.correlation_id,
                "correlation_display": "ActionDesk",
                "type": "normal",
                "parent": ticket.key,
            }
            if self._group:
                body["assignment_group"] = self._group
            fields = {"sysparm_exclude_reference_link": "true", "sysparm_fields": "sys_id,number"}
            created = self._client.result("POST", "/api/now/table/change_request", params=fields, json=body)
            sys_id, number = created["sys_id"], created["number"]
        self._patch(ticket, {"rfc": sys_id})
        return str(number)

    def comments_since(self, ticket: TicketRef, cursor: str | None) -> tuple[list[TicketComment], str | None]:
        """Journal entries people added; the cursor is the newest entry time seen and the ids seen at it
        (times have one-second resolution, so the next read starts at that second again)."""
        state = json.loads(cursor) if cursor else {"at": "", "ids": []}
        query = f"element_id={_quoted(ticket.key)}^elementINcomments,work_notes"
        if state["at"]:
            query += f"^sys_created_on>={state['at']}"
        params = {
            "sysparm_query": query + "^ORDERBYsys_created_on",
            "sysparm_fields": "sys_id,element,value,sys_created_on,sys_created_by",
        }
        comments: list[TicketComment] = []
        at, seen = state["at"], set(state["ids"])
        for row in self._client.records("sys_journal_field", params):
            created, sys_id = row.get("sys_created_on", ""), row.get("sys_id", "")
            if sys_id in seen or (at and created < at):
                continue
            if created > at:
                at, seen = created, set()
            seen.add(sys_id)
            text = str(row.get("value", ""))
            if OWN_MARK in text or (self._username and row.get("sys_created_by") == self._username):
                continue
            comments.append(
                TicketComment(
                    id=sys_id,
                    author=str(row.get("sys_created_by") or "someone"),
                    text=text,
                    public=row.get("element") == "comments",
                    at=datetime.strptime(created, _TIME).replace(tzinfo=UTC),
                )
            )
        return comments, json.dumps({"at": at, "ids": sorted(seen)})
