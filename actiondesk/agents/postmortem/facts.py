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
from actiondesk.core.audit_payloads import (
    ActionResult,
    ActionStarted,
    ApprovalNoted,
    ApprovalRequested,
    DecisionNoted,
    Observation,
    Verification,
    read,
)
from actiondesk.core.case import Case


class Fact(Protocol):
    """An audit entry, stored or about to be (AuditEntry and AuditDraft both are)."""

    kind: AuditKind
    actor: str
    at: datetime
    payload: dict[str, JsonValue]


def approvals_of(facts: Sequence[Fact]) -> list[ApprovalFact]:
    asked: dict[str, ApprovalFact] = {}
    for fact in facts:
        if fact.kind is AuditKind.APPROVAL_REQUESTED:
            request = read(fact, ApprovalRequested)
            asked[request.id] = ApprovalFact(
                id=request.id,
                action=request.action or "",
                target=str(request.target),
                group=request.group,
                requested_at=fact.at,
                status="pending",
            )
        elif fact.kind is AuditKind.APPROVAL:
            decided = read(fact, ApprovalNoted)
            if decided.approval_id not in asked or decided.status not in ("approved", "rejected", "expired"):
                continue  # a vote of a quorum, or a refused click: the decision comes later
            known = asked[decided.approval_id]
            asked[known.id] = known.model_copy(
                update={
                    "status": decided.status,
                    "decided_by": decided.by or None,
                    "decided_at": fact.at,
                    "wait_seconds": (fact.at - known.requested_at).total_seconds(),
                    "break_glass": decided.break_glass,
                }
            )
    return list(asked.values())


def actions_of(facts: Sequence[Fact], case: Case, approvals: list[ApprovalFact], agent: str) -> list[ActionTaken]:
    decisions: dict[str, DecisionNoted] = {}
    started: dict[str | None, tuple[datetime, ActionStarted]] = {}
    taken: list[ActionTaken] = []
    approved = {a.action: a for a in approvals if a.status == "approved"}
    asked_for = case.plan is not None and case.plan.runbook == "rollback"
    for fact in facts:
        if fact.kind is AuditKind.DECISION:
            decision = read(fact, DecisionNoted)
            decisions[decision.action] = decision
        elif fact.kind is AuditKind.ACTION_STARTED:
            start = read(fact, ActionStarted)
            started[start.key] = (fact.at, start)
        elif fact.kind is AuditKind.ACTION_RESULT:
            result = read(fact, ActionResult)
            if result.key not in started:
                continue
            at, start = started[result.key]
            decided = decisions.get(result.action)
            approval = approved.get(result.action)
            taken.append(
                ActionTaken(
                    at=at,
                    action=result.action,
                    params=params_text(start.params),
                    target=start.target or None,
                    decided=decided.outcome if decided is not None else "?",
                    level=decided.autonomy_level if decided is not None else None,
                    proposed_by=case.reporter if asked_for else agent,
                    approved_by=(approval.decided_by,) if approval and approval.decided_by else (),
                    ran_by=fact.actor,
                    result=result.status,
                    error=result.error or None,
                    run_key=str(result.key),
                )
            )
    return taken


def _deployer(facts: Sequence[Fact], commit: str | None) -> str | None:
    """Who deployed ``commit``, as the list_deployments probe read it (findings before changes had authors)."""
    for fact in facts:
        observed = read(fact, Observation) if fact.kind is AuditKind.OBSERVATION else None
        if observed is not None and observed.action == "list_deployments":
            output = observed.output
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


def last_verification(facts: Sequence[Fact]) -> Verification | None:
    found = [read(f, Verification) for f in facts if f.kind is AuditKind.VERIFICATION]
    found = [v for v in found if v.signal not in (None, "actions")]
    return found[-1] if found else None
