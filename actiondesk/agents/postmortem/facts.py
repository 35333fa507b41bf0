"""The facts a post-mortem is built from, read from the audit trail: the approvals, the actions taken, the root
cause, the last verification of the signals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from pydantic import JsonValue

from actiondesk.agents.postmortem.model import ActionTaken, ApprovalFact, RootCause
from actiondesk.agents.postmortem.words import params_text
from actiondesk.core.audit import AuditKind
from actiondesk.core.case import Case


class Fact(Protocol):
    """An audit entry, stored or about to be (AuditEntry and AuditDraft both are)."""

    kind: AuditKind
    actor: str
    at: datetime
    payload: dict[str, JsonValue]


def as_number(value: JsonValue) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def approvals_of(facts: Sequence[Fact]) -> list[ApprovalFact]:
    asked: dict[str, ApprovalFact] = {}
    for fact in facts:
        p = fact.payload
        if fact.kind is AuditKind.APPROVAL_REQUESTED:
            call = p.get("call") if isinstance(p.get("call"), dict) else {}
            asked[str(p.get("id"))] = ApprovalFact(
                id=str(p.get("id")),
                action=str(call.get("action") if isinstance(call, dict) else ""),
                target=str(p.get("target")),
                group=str(p.get("group")),
                requested_at=fact.at,
                status="pending",
            )
        elif fact.kind is AuditKind.APPROVAL and str(p.get("approval_id")) in asked:
            status = str(p.get("status"))
            if status not in ("approved", "rejected", "expired"):
                continue  # a vote of a quorum, or a refused click: the decision comes later
            known = asked[str(p.get("approval_id"))]
            asked[known.id] = known.model_copy(
                update={
                    "status": status,
                    "decided_by": str(p.get("by")) if p.get("by") else None,
                    "decided_at": fact.at,
                    "wait_seconds": (fact.at - known.requested_at).total_seconds(),
                    "break_glass": bool(p.get("break_glass")),
                }
            )
    return list(asked.values())


def actions_of(facts: Sequence[Fact], case: Case, approvals: list[ApprovalFact], agent: str) -> list[ActionTaken]:
    decisions: dict[str, dict[str, JsonValue]] = {}
    started: dict[str, Fact] = {}
    taken: list[ActionTaken] = []
    approved = {a.action: a for a in approvals if a.status == "approved"}
    asked_for = case.plan is not None and case.plan.runbook == "rollback"
    for fact in facts:
        p = fact.payload
        if fact.kind is AuditKind.DECISION:
            decisions[str(p.get("action"))] = p
        elif fact.kind is AuditKind.ACTION_STARTED:
            started[str(p.get("key"))] = fact
        elif fact.kind is AuditKind.ACTION_RESULT and str(p.get("key")) in started:
            start = started[str(p.get("key"))]
            action = str(p.get("action"))
            decision = decisions.get(action, {})
            approval = approved.get(action)
            level = decision.get("autonomy_level")
            taken.append(
                ActionTaken(
                    at=start.at,
                    action=action,
                    params=params_text(start.payload.get("params")),
                    target=str(start.payload.get("target")) if start.payload.get("target") else None,
                    decided=str(decision.get("outcome", "?")),
                    level=int(level) if isinstance(level, int) else None,
                    proposed_by=case.reporter if asked_for else agent,
                    approved_by=(approval.decided_by,) if approval and approval.decided_by else (),
                    ran_by=fact.actor,
                    result=str(p.get("status")),
                    error=str(p["error"]) if p.get("error") else None,
                    run_key=str(p.get("key")),
                )
            )
    return taken


def _deployer(facts: Sequence[Fact], commit: str | None) -> str | None:
    """Who deployed ``commit``, as the list_deployments probe read it (findings before changes had authors)."""
    for fact in facts:
        if fact.kind is AuditKind.OBSERVATION and fact.payload.get("action") == "list_deployments":
            output = fact.payload.get("output")
            deployments = output.get("deployments") if isinstance(output, dict) else None
            for item in deployments if isinstance(deployments, list) else []:
                if isinstance(item, dict) and item.get("commit") == commit and item.get("author"):
                    return str(item["author"])
    return None


def root_cause_of(case: Case, facts: Sequence[Fact]) -> RootCause | None:
    finding = case.finding
    if finding is None:
        return None
    culprit = finding.culprit
    return RootCause(
        kind=finding.kind.value,
        summary=finding.summary,
        confidence=finding.confidence,
        service=finding.service,
        version=culprit.version if culprit else None,
        commit=culprit.commit if culprit else None,
        previous_version=culprit.previous_version if culprit else None,
        deployed_at=culprit.at if culprit else None,
        deployed_by=(culprit.author or _deployer(facts, culprit.commit)) if culprit else None,
        change_kind=culprit.kind if culprit else None,
        change=culprit.described() if culprit else None,
        evidence=tuple(f"{e.source}: {e.summary}" for e in finding.evidence),
    )


def last_verification(facts: Sequence[Fact]) -> dict[str, JsonValue] | None:
    found = [
        f.payload
        for f in facts
        if f.kind is AuditKind.VERIFICATION and f.payload.get("signal") not in (None, "actions")
    ]
    return found[-1] if found else None
