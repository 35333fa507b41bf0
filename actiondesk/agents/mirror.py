"""Which steps of a case are mirrored into its ticket, and as what.

Every save that carries audit entries becomes at most one work note per ticket system (the agent's own
messages, with the facts behind the finding, the decision, the approval and the verification), a
resolution when the case is resolved, a hand-off to the owner's assignment group when it is escalated or
failed, a change request when an approval goes to CAB, and the post-mortem as an attached Markdown file.
People's own messages are not mirrored: they came from the thread, or from the ticket itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import JsonValue

from actiondesk.agents.postmortem import PostMortem, render_markdown
from actiondesk.agents.triage.signals import verification_text
from actiondesk.core.audit import AuditDraft, AuditKind, texts
from actiondesk.core.case import Case
from actiondesk.core.redact import redact_text
from actiondesk.core.tickets import Attachment, ChangeDraft, OutboxDraft, TicketDraft, TicketUpdate, UpdateKind


def _finding(p: dict[str, JsonValue]) -> str:
    evidence = p.get("evidence")
    evidence = evidence if isinstance(evidence, list) else []
    sources = "; ".join(str(e.get("summary")) for e in evidence if isinstance(e, dict))
    confidence = p.get("confidence")
    shown = f"{confidence:.0%}" if isinstance(confidence, int | float) else "?"
    return f"Finding ({p.get('kind')}, confidence {shown})" + (f". Evidence: {sources}" if sources else "")


def _decision(p: dict[str, JsonValue]) -> str:
    policies = ", ".join(texts(p.get("policy_ids"))) or "none"
    return f"Governance: {p.get('outcome')} for {p.get('action')} (policies: {policies})"


def _approval(p: dict[str, JsonValue]) -> str:
    reason = f": {p['reason']}" if p.get("reason") else ""
    return f"Approval {p.get('approval_id')} {p.get('status')} by {p.get('by')}{reason}"


def _verification(p: dict[str, JsonValue]) -> str:
    return verification_text(p)


FACTS: dict[AuditKind, Callable[[dict[str, JsonValue]], str]] = {
    AuditKind.FINDING: _finding,
    AuditKind.DECISION: _decision,
    AuditKind.APPROVAL: _approval,
    AuditKind.VERIFICATION: _verification,
}


def ticket_of(case: Case) -> TicketDraft:
    return TicketDraft(
        case_id=case.id,
        title=redact_text(case.title),
        description=redact_text(case.text),
        kind=case.kind.value,
        service=case.service,
    )


class TicketMirror:
    """The Recorder's mirror: audit drafts of one save → outbox drafts, one set per enabled system."""

    def __init__(self, systems: Sequence[str], agent: str, cab_groups: frozenset[str]) -> None:
        self.systems = tuple(systems)
        self.agent = agent
        self.cab_groups = cab_groups

    def __call__(self, case: Case, drafts: Sequence[AuditDraft]) -> list[OutboxDraft]:
        if not self.systems:
            return []
        updates = self.updates(drafts)
        ticket = ticket_of(case)
        return [OutboxDraft(system=s, ticket=ticket, update=u) for s in self.systems for u in updates]

    def updates(self, drafts: Sequence[AuditDraft]) -> list[TicketUpdate]:
        lines: list[str] = []
        changes: list[TicketUpdate] = []
        ending: UpdateKind | None = None
        reason = ""
        group: str | None = None
        for draft in drafts:
            payload = draft.payload
            if draft.kind is AuditKind.MESSAGE and draft.actor == self.agent:
                lines.append(str(payload.get("text", "")))
            elif draft.kind in FACTS:
                lines.append(FACTS[draft.kind](payload))
            elif draft.kind is AuditKind.APPROVAL_REQUESTED and payload.get("group") in self.cab_groups:
                changes.append(self._change(payload))
            elif draft.kind is AuditKind.CASE_RESOLVED:
                ending = UpdateKind.RESOLVE
            elif draft.kind in (AuditKind.CASE_ESCALATED, AuditKind.CASE_FAILED):
                ending, reason = UpdateKind.ESCALATE, str(payload.get("reason", ""))
            elif draft.kind is AuditKind.HANDED_OFF and payload.get("assignment_group"):
                group = str(payload["assignment_group"])
            elif draft.kind is AuditKind.POSTMORTEM:
                changes.append(self._postmortem(payload))
        text = redact_text("\n".join(line for line in lines if line))
        if ending is UpdateKind.RESOLVE:
            return [*changes, TicketUpdate(kind=UpdateKind.RESOLVE, text=text or "Resolved.", public=True)]
        if ending is UpdateKind.ESCALATE:
            handed = redact_text(f"Handed to a person: {reason}" if reason else "Handed to a person.")
            update = TicketUpdate(kind=UpdateKind.ESCALATE, text="\n".join(x for x in (text, handed) if x), group=group)
            return [*changes, update]
        notes = [TicketUpdate(kind=UpdateKind.NOTE, text=text)] if text else []
        return [*notes, *changes]

    @staticmethod
    def _postmortem(payload: dict[str, JsonValue]) -> TicketUpdate:
        pm = PostMortem.model_validate(payload)
        name = f"postmortem-{pm.case_id}.md"
        body = redact_text(render_markdown(pm))
        attachment = Attachment(name=name, content_type="text/markdown", text=body)
        return TicketUpdate(kind=UpdateKind.ATTACH, text=f"Post-mortem attached: {name}", attachment=attachment)

    def _change(self, approval: dict[str, JsonValue]) -> TicketUpdate:
        call = approval.get("call") if isinstance(approval.get("call"), dict) else {}
        action = call.get("action") if isinstance(call, dict) else None
        reasons = "; ".join(texts(approval.get("reasons")))
        title = f"{action} on {approval.get('target')}"
        description = redact_text(f"Proposed by ActionDesk; needs {approval.get('group')} approval. {reasons}")
        change = ChangeDraft(correlation_id=str(approval.get("id")), title=title, description=description)
        return TicketUpdate(kind=UpdateKind.CHANGE, text=f"CAB change requested: {title}", change=change)
