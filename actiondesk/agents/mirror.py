"""Which steps of a case are mirrored into its ticket, and as what.

Every save that carries audit entries becomes at most one work note per ticket system (the agent's own
messages, with the facts behind the finding, the decision, the approval and the verification), a
resolution when the case is resolved, a hand-off to the owner's assignment group when it is escalated or
failed, a change request when an approval goes to CAB, and the post-mortem as an attached Markdown file.
People's own messages are not mirrored: they came from the thread, or from the ticket itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from actiondesk.agents.postmortem import PostMortem, render_markdown
from actiondesk.agents.triage.signals import verification_text
from actiondesk.core.audit import AuditDraft, AuditKind
from actiondesk.core.audit_payloads import (
    ApprovalNoted,
    ApprovalRequested,
    CaseStopped,
    DecisionNoted,
    FindingNoted,
    HandedOff,
    Message,
    Payload,
    Postmortem,
    Verification,
    parse,
)
from actiondesk.core.case import Case
from actiondesk.core.redact import redact_text
from actiondesk.core.tickets import Attachment, ChangeDraft, OutboxDraft, TicketDraft, TicketUpdate, UpdateKind


def _fact(payload: Payload) -> str | None:
    """The work-note line of a finding, a governance decision, an approval or a verification (None: another kind).
    A value an older row lacks is said in words ("unknown", or its clause left out), never "None" or a blank."""
    match payload:
        case FindingNoted() as p:
            sources = "; ".join(str(e.get("summary")) for e in p.evidence)
            shown = f"{p.confidence:.0%}" if p.confidence is not None else "unknown"
            kind = p.finding_kind or "unknown kind"
            return f"Finding ({kind}, confidence {shown})" + (f". Evidence: {sources}" if sources else "")
        case DecisionNoted() as p:
            policies = ", ".join(p.policy_ids) or "none"
            outcome, action = p.outcome or "unknown outcome", p.action or "an unnamed action"
            return f"Governance: {outcome} for {action} (policies: {policies})"
        case ApprovalNoted() as p:
            name = f"Approval {p.approval_id}" if p.approval_id else "An approval"
            by = f" by {p.by}" if p.by else ""
            reason = f": {p.reason}" if p.reason else ""
            return f"{name} {p.status or 'decided'}{by}{reason}"
        case Verification() as p:
            return verification_text(p)
        case _:
            return None


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
            payload = parse(draft)
            fact = _fact(payload)
            if isinstance(payload, Message) and draft.actor == self.agent:
                lines.append(payload.text)
            elif fact is not None:
                lines.append(fact)
            elif isinstance(payload, ApprovalRequested) and payload.group in self.cab_groups:
                changes.append(self._change(payload))
            elif draft.kind is AuditKind.CASE_RESOLVED:
                ending = UpdateKind.RESOLVE
            elif isinstance(payload, CaseStopped):
                ending, reason = UpdateKind.ESCALATE, payload.reason
            elif isinstance(payload, HandedOff) and payload.assignment_group:
                group = payload.assignment_group
            elif isinstance(payload, Postmortem):
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
    def _postmortem(payload: Postmortem) -> TicketUpdate:
        pm = PostMortem.model_validate(payload.dump())
        name = f"postmortem-{pm.case_id}.md"
        body = redact_text(render_markdown(pm))
        attachment = Attachment(name=name, content_type="text/markdown", text=body)
        return TicketUpdate(kind=UpdateKind.ATTACH, text=f"Post-mortem attached: {name}", attachment=attachment)

    def _change(self, approval: ApprovalRequested) -> TicketUpdate:
        reasons = "; ".join(approval.reasons)
        action = approval.action or "an unnamed action"
        title = f"{action} on {approval.target}" if approval.target else action
        description = redact_text(f"Proposed by ActionDesk; needs {approval.group} approval. {reasons}")
        change = ChangeDraft(correlation_id=approval.id, title=title, description=description)
        return TicketUpdate(kind=UpdateKind.CHANGE, text=f"CAB change requested: {title}", change=change)
