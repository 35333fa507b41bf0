"""JSON shapes the console reads. Everything shown about an approval is computed here from stored data,
never from a model's words."""

from __future__ import annotations

from typing import Any

from pydantic import JsonValue

from actiondesk.agents.fulfilment.checklist import checklist, is_request_plan
from actiondesk.agents.postmortem import render_markdown, stored_postmortem
from actiondesk.agents.questions import Question
from actiondesk.core.approval import Approval
from actiondesk.core.audit import AuditEntry
from actiondesk.core.audit_payloads import HandedOff, PickedUp, parse
from actiondesk.core.case import Case
from actiondesk.core.catalog import ChangeEvent


def case_summary(case: Case) -> dict[str, JsonValue]:
    return {
        "id": case.id,
        "kind": case.kind.value,
        "status": case.status.value,
        "title": case.title,
        "service": case.service,
        "reporter": case.reporter,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "resolved_at": case.resolved_at.isoformat() if case.resolved_at else None,
        "wake_at": case.wake_at.isoformat() if case.wake_at else None,
        "watch_until": case.watch_until.isoformat() if case.watch_until else None,
    }


def approval_view(approval: Approval) -> dict[str, JsonValue]:
    return {
        "id": approval.id,
        "status": approval.status.value,
        "action": approval.call.action,
        "target": approval.target,
        "params": dict(approval.call.params),
        "group": approval.group,
        "reasons": list(approval.reasons),
        "policy_ids": list(approval.policy_ids),
        "requested_by": approval.requested_by,
        "expires_at": approval.expires_at.isoformat(),
        "decided_by": approval.decided_by,
        "decided_at": approval.decided_at.isoformat() if approval.decided_at else None,
        "reason": approval.reason,
    }


def entry_view(entry: AuditEntry) -> dict[str, JsonValue]:
    return {
        "seq": entry.seq,
        "kind": entry.kind.value,
        "actor": entry.actor,
        "at": entry.at.isoformat(),
        "payload": entry.payload,
        "hash": entry.hash,
    }


def question_view(question: Question) -> dict[str, JsonValue]:
    return {
        "seq": question.seq,
        "text": question.text,
        "choices": list(question.choices),
        "open": question.open,
        "answer": question.answer,
        "answered_by": question.answered_by,
        "outcome": question.outcome(),
    }


def owner_view(timeline: list[AuditEntry]) -> dict[str, JsonValue] | None:
    """Who has the case now: its latest hand-off (owner team, on-call group and people, pages), and the person
    who picked it up since, if anyone did. None while the case was never handed to people."""
    view: dict[str, JsonValue] | None = None
    for entry in timeline:
        match parse(entry):
            case HandedOff() as handed:
                view = {
                    "team": handed.team,
                    "group": handed.group,
                    "people": list[JsonValue](handed.people),
                    "paged": list[JsonValue](handed.paged),
                    "reason": handed.reason or None,
                    "handed_off_at": entry.at.isoformat(),
                    "picked_up_by": None,
                    "picked_up_at": None,
                }
            case PickedUp() as picked if view is not None:
                view = {**view, "picked_up_by": picked.by or None, "picked_up_at": entry.at.isoformat()}
    return view


def postmortem_view(timeline: list[AuditEntry]) -> dict[str, JsonValue] | None:
    pm = stored_postmortem(timeline)
    if pm is None:
        return None
    return {"markdown": render_markdown(pm), "summary": pm.summary, "model_summary": pm.model_summary}


def case_detail(
    case: Case, approvals: list[Approval], timeline: list[AuditEntry], asked: list[Question]
) -> dict[str, JsonValue]:
    return {
        **case_summary(case),
        "text": case.text,
        "finding": case.finding.model_dump(mode="json") if case.finding else None,
        "plan": case.plan.model_dump(mode="json") if case.plan else None,
        "checklist": list[JsonValue](checklist(case.plan))
        if case.plan is not None and is_request_plan(case.plan)
        else None,
        "approvals": [approval_view(a) for a in approvals],
        "questions": [question_view(q) for q in asked],
        "timeline": [entry_view(e) for e in timeline],
        "owner": owner_view(timeline),
        "postmortem": postmortem_view(timeline),
    }


def change_json(event: ChangeEvent) -> dict[str, Any]:
    """A recorded change as the API and the console show it: every field, the time in ISO 8601."""
    out: dict[str, Any] = {
        "id": event.id,
        "service": event.service,
        "kind": event.kind,
        "at": event.at.isoformat(),
        "source": event.source,
    }
    for name in ("version", "previous_version", "commit", "key", "value", "previous_value"):
        out[name] = getattr(event, name)
    out["replicas"], out["previous_replicas"] = event.replicas, event.previous_replicas
    out["author"], out["url"] = event.author, event.url
    return out
