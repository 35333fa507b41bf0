"""JSON shapes the console reads. Everything shown about an approval is computed here from stored data,
never from a model's words."""

from __future__ import annotations

from pydantic import JsonValue

from actiondesk.agents.fulfilment.checklist import checklist, is_request_plan
from actiondesk.agents.questions import Question
from actiondesk.core.approval import Approval
from actiondesk.core.audit import AuditEntry
from actiondesk.core.case import Case


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


def case_detail(
    case: Case, approvals: list[Approval], timeline: list[AuditEntry], asked: list[Question]
) -> dict[str, JsonValue]:
    return {
        **case_summary(case),
        "text": case.text,
        "finding": case.finding.model_dump(mode="json") if case.finding else None,
        "plan": case.plan.model_dump(mode="json") if case.plan else None,
        "checklist": checklist(case.plan) if case.plan is not None and is_request_plan(case.plan) else None,
        "approvals": [approval_view(a) for a in approvals],
        "questions": [question_view(q) for q in asked],
        "timeline": [entry_view(e) for e in timeline],
    }
