"""Build a post-mortem from what is stored: the case and its finding, and its audit trail (which holds every
decision, approval, action, verification, hand-off and page). Deterministic: the same facts give the same text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from pydantic import JsonValue

from actiondesk.agents.postmortem.model import (
    ActionTaken,
    ApprovalFact,
    FollowUp,
    Impact,
    Moment,
    PostMortem,
    RootCause,
)
from actiondesk.agents.triage.signals import LABELS, RULES, verification_text
from actiondesk.core.audit import AuditKind, texts
from actiondesk.core.case import Case
from actiondesk.core.estate import Owner, Service
from actiondesk.core.finding import FindingKind


class Fact(Protocol):
    """An audit entry, stored or about to be (AuditEntry and AuditDraft both are)."""

    kind: AuditKind
    actor: str
    at: datetime
    payload: dict[str, JsonValue]


def took(seconds: float | None) -> str:
    """A duration as people say it: 45 s, 4 min 10 s, 2 h 5 min."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    if whole < 90:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 90:
        return f"{minutes} min" + (f" {secs} s" if secs else "")
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h" + (f" {minutes} min" if minutes else "")


def _params(params: JsonValue) -> str:
    if not isinstance(params, dict):
        return ""
    return ", ".join(f"{k}={v}" for k, v in params.items())


def _describe(fact: Fact, agent: str) -> str | None:
    """What one audit entry adds to the timeline, in words computed from its data (None: leave it out)."""
    p = fact.payload
    match fact.kind:
        case AuditKind.CASE_OPENED:
            return f"case opened by {p.get('reporter')} from {p.get('surface')}: “{p.get('title')}”"
        case AuditKind.MESSAGE if fact.actor != agent:
            return f"{fact.actor} wrote: “{str(p.get('text', ''))[:160]}”"
        case AuditKind.FINDING:
            sure = p.get("confidence")
            shown = (
                f" (confidence {float(sure):.0%})" if isinstance(sure, int | float) and not p.get("abstained") else ""
            )
            return f"finding: {p.get('summary')}{shown}"
        case AuditKind.PLAN:
            return f"plan {p.get('runbook')}: {p.get('goal')}"
        case AuditKind.DECISION:
            again = "re-checked before running: " if p.get("recheck") else ""
            ids = ", ".join(texts(p.get("policy_ids")))
            return (
                f"governance {again}{p.get('outcome')} for {p.get('action')} at level {p.get('autonomy_level')} ({ids})"
            )
        case AuditKind.APPROVAL_REQUESTED:
            call = p.get("call") if isinstance(p.get("call"), dict) else {}
            action = call.get("action") if isinstance(call, dict) else None
            return f"approval {p.get('id')} asked of {p.get('group')} for {action} on {p.get('target')}"
        case AuditKind.APPROVAL:
            reason = f": {p['reason']}" if p.get("reason") else ""
            return f"approval {p.get('approval_id')} {p.get('status')} by {p.get('by', fact.actor)}{reason}"
        case AuditKind.ACTION_STARTED:
            return f"{p.get('action')} started on {p.get('target')} ({_params(p.get('params'))})"
        case AuditKind.ACTION_RESULT:
            error = f": {p['error']}" if p.get("error") else ""
            return f"{p.get('action')} {p.get('status')}{error}"
        case AuditKind.VERIFICATION:
            return verification_text(p).replace("Verification: ", "verification: ", 1)
        case AuditKind.CASE_ESCALATED:
            return f"handed to people: {p.get('reason')}"
        case AuditKind.CASE_FAILED:
            return f"failed: {p.get('reason')}"
        case AuditKind.HANDED_OFF:
            people = ", ".join(texts(p.get("people"))) or "nobody in the directory"
            paged = texts(p.get("paged"))
            how = f", paged through {', '.join(paged)}" if paged else ""
            return f"handed to {p.get('team')} on-call ({p.get('group')}: {people}){how}"
        case AuditKind.PICKED_UP:
            after = took(_number(p.get("after_seconds")))
            return f"picked up by {p.get('by')} ({p.get('how')}) {after} after the hand-off"
        case AuditKind.PAGE:
            return f"page {p.get('action')} ({', '.join(texts(p.get('systems')))})"
        case AuditKind.CASE_RESOLVED:
            return "resolved"
    return None


def _number(value: JsonValue) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _approvals(facts: Sequence[Fact]) -> list[ApprovalFact]:
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


def _actions(facts: Sequence[Fact], case: Case, approvals: list[ApprovalFact], agent: str) -> list[ActionTaken]:
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
                    params=_params(start.payload.get("params")),
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


def _root_cause(case: Case, facts: Sequence[Fact]) -> RootCause | None:
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


def _verification(facts: Sequence[Fact]) -> dict[str, JsonValue] | None:
    found = [
        f.payload
        for f in facts
        if f.kind is AuditKind.VERIFICATION and f.payload.get("signal") not in (None, "actions")
    ]
    return found[-1] if found else None


def build_postmortem(
    case: Case, facts: Sequence[Fact], owner: Owner, *, agent: str, service: Service | None, now: datetime
) -> PostMortem:
    """The post-mortem of ``case`` from its audit trail ``facts`` (oldest first)."""
    finding = case.finding
    approvals = _approvals(facts)
    actions = _actions(facts, case, approvals, agent)
    root = _root_cause(case, facts)
    verified = _verification(facts)
    onset = finding.onset if finding else None
    mitigated = next((a.at for a in actions if a.result == "succeeded"), None)
    resolved = case.resolved_at
    start = onset or case.created_at
    waits = sum(a.wait_seconds or 0.0 for a in approvals if a.status in ("approved", "rejected"))
    signals: list[str] = []
    if finding is not None and finding.chain:
        for link in finding.chain:
            rule = RULES[link.signal]
            signals.append(
                f"{link.service}'s {LABELS[link.signal]}: baseline {rule.shown(link.baseline)}, "
                f"peak {rule.shown(link.peak)}, from {link.onset:%H:%M:%S}"
            )
    elif finding is not None and finding.baseline is not None and finding.peak is not None:
        rule = RULES[finding.signal or "error_rate"]
        signals.append(
            f"{LABELS[finding.signal or 'error_rate']}: baseline {rule.shown(finding.baseline)}, "
            f"peak {rule.shown(finding.peak)}"
        )
    if verified is not None:
        signals.append(verification_text(verified).replace("Verification: ", "at verification: ", 1))
    impact = Impact(
        service=case.service,
        tier=service.tier if service else None,
        environment=service.environment if service else None,
        started_at=onset,
        detected_at=case.created_at,
        detected_by=case.reporter,
        mitigated_at=mitigated,
        resolved_at=resolved,
        duration_seconds=(resolved - start).total_seconds() if resolved else None,
        signals=tuple(signals),
    )
    timeline = _timeline(case, facts, root, agent)
    hand_offs = tuple(
        str(f.payload.get("reason")) for f in facts if f.kind in (AuditKind.CASE_ESCALATED, AuditKind.CASE_FAILED)
    )
    mttr = (resolved - case.created_at).total_seconds() if resolved else None
    detect = (case.created_at - onset).total_seconds() if onset else None
    return PostMortem(
        case_id=case.id,
        title=case.title,
        reporter=case.reporter,
        surface=case.surface,
        owner_team=owner.team,
        owner_group=owner.group,
        opened_at=case.created_at,
        resolved_at=resolved,
        summary=_summary(case, root, actions, verified, mttr),
        impact=impact,
        root_cause=root,
        timeline=timeline,
        actions=tuple(actions),
        approvals=tuple(approvals),
        mttr_seconds=mttr,
        time_to_detect_seconds=detect,
        time_to_mitigate_seconds=(mitigated - case.created_at).total_seconds() if mitigated else None,
        approval_wait_seconds=waits,
        hand_offs=hand_offs,
        earlier=tuple(_earlier(case, root, detect, finding.kind if finding else None)),
        follow_ups=tuple(_follow_ups(case, root, actions, approvals, hand_offs, owner)),
        written_at=now,
    )


def _timeline(case: Case, facts: Sequence[Fact], root: RootCause | None, agent: str) -> tuple[Moment, ...]:
    moments: list[Moment] = []
    if root is not None and root.deployed_at is not None:
        by = f" by {root.deployed_by}" if root.deployed_by else ""
        kind = root.change_kind or "deploy"
        what = (
            f"{root.service} {root.version} (commit {root.commit}) deployed{by}"
            if kind == "deploy"
            else f"{root.change or kind}{by}"
        )
        moments.append(Moment(at=root.deployed_at, actor=root.deployed_by or kind, kind=kind, what=what))
    finding = case.finding
    if finding is not None and finding.chain:
        for link in finding.chain:
            rule = RULES[link.signal]
            what = f"{link.service}'s {LABELS[link.signal]} leaves its baseline, rising to {rule.shown(link.peak)}"
            moments.append(Moment(at=link.onset, actor="telemetry", kind="onset", what=what))
    elif finding is not None and finding.onset is not None:
        rule = RULES[finding.signal or "error_rate"]
        peak = f", rising to {rule.shown(finding.peak)}" if finding.peak is not None else ""
        what = f"{finding.service}'s {LABELS[finding.signal or 'error_rate']} leaves its baseline{peak}"
        moments.append(Moment(at=finding.onset, actor="telemetry", kind="onset", what=what))
    for fact in facts:
        if fact.kind is AuditKind.MESSAGE and fact.actor == case.reporter and fact.payload.get("text") == case.text:
            continue  # the report itself: the case's opening already says it
        described = _describe(fact, agent)
        if described is not None:
            moments.append(Moment(at=fact.at, actor=fact.actor, kind=fact.kind.value, what=described))
    return tuple(sorted(moments, key=lambda m: m.at))  # stable: entries at one instant keep their order


def _summary(
    case: Case,
    root: RootCause | None,
    actions: list[ActionTaken],
    verified: dict[str, JsonValue] | None,
    mttr: float | None,
) -> str:
    parts: list[str] = []
    finding = case.finding
    if finding is not None and finding.culprit is not None and finding.onset is not None:
        rule, label = RULES[finding.signal or "error_rate"], LABELS[finding.signal or "error_rate"]
        culprit = finding.culprit
        change = (
            f"{culprit.version} (commit {culprit.commit}) was deployed"
            if culprit.kind == "deploy"
            else f"{culprit.described()} was made"
        )
        parts.append(
            f"{finding.service}'s {label} rose from {rule.shown(finding.baseline or 0)} to "
            f"{rule.shown(finding.peak or 0)} at {finding.onset:%H:%M:%S} UTC, "
            f"{took((finding.onset - culprit.at).total_seconds())} after {change}."
        )
    elif root is not None:
        parts.append(root.summary)
    else:
        parts.append(f"{case.reporter} reported: “{case.title}”.")
    done = [a for a in actions if a.result == "succeeded"]
    for action in done:
        who = f"approved by {', '.join(action.approved_by)}" if action.approved_by else "on its own"
        parts.append(f"ActionDesk ran {action.action} ({action.params}), {who}.")
    if verified is not None and verified.get("ok"):
        parts.append(verification_text(verified))
    if mttr is not None:
        parts.append(f"Resolved {took(mttr)} after it was reported.")
    return " ".join(parts)


def _earlier(case: Case, root: RootCause | None, detect: float | None, kind: FindingKind | None) -> list[str]:
    """What would have caught it earlier, from the facts: how late the report came, how close the change was."""
    out: list[str] = []
    service = case.service
    signal = LABELS[case.finding.signal or "error_rate"] if case.finding is not None else LABELS["error_rate"]
    if detect is not None and detect > 0 and case.surface != "alert":
        out.append(
            f"An alert on {service}'s {signal}, sent to ActionDesk's Alertmanager webhook (POST /api/alerts), "
            f"would have opened this case up to {took(detect)} earlier: {case.reporter} reported it "
            f"{took(detect)} after the onset."
        )
    if root is not None and root.deployed_at is not None and case.finding and case.finding.onset:
        lead = (case.finding.onset - root.deployed_at).total_seconds()
        if root.change_kind in (None, "deploy"):
            out.append(
                f"A post-deploy check of {service}'s {signal} (a canary step in the pipeline) would have stopped "
                f"{root.version} within {took(lead)} of its deploy, before it reached every request."
            )
        else:
            out.append(
                f"A check of {root.service}'s {signal} right after {root.change} (a staged rollout of the change) "
                f"would have caught it within {took(lead)}."
            )
    if kind is FindingKind.DISK_FULL:
        host = case.finding.subject if case.finding and case.finding.subject else "the host"
        out.append(f"A disk-usage alert at 85% on {host} would have fired before the volume was full.")
    if kind is FindingKind.UNEXPLAINED_ANOMALY:
        out.append(
            "No recorded change preceded the onset: record configuration, flag and scaling changes where "
            "triage reads them."
        )
    if not out:
        out.append(
            "Nothing in the stored facts points at an earlier signal: the case was opened by an alert at the onset."
        )
    return out


def _follow_ups(
    case: Case,
    root: RootCause | None,
    actions: list[ActionTaken],
    approvals: list[ApprovalFact],
    hand_offs: tuple[str, ...],
    owner: Owner,
) -> list[FollowUp]:
    team = owner.team
    out: list[FollowUp] = []
    if root is not None and root.commit:
        out.append(
            FollowUp(
                text=f"Find and fix what commit {root.commit} broke before {root.version} is deployed again.",
                owner=team,
            )
        )
        out.append(FollowUp(text=f"Add an error-rate gate after each deploy of {root.service}.", owner=team))
    elif root is not None and root.change:
        out.append(
            FollowUp(text=f"Find out why {root.change} broke {root.service}; review it before it returns.", owner=team)
        )
    if case.surface != "alert" and case.service:
        out.append(FollowUp(text=f"Alert on {case.service}'s 5xx rate and route the alert to ActionDesk.", owner=team))
    for approval in approvals:
        if approval.break_glass:
            out.append(
                FollowUp(text=f"Review break-glass approval {approval.id} by {approval.decided_by}.", owner=team)
            )
    waited = [a for a in approvals if a.status == "approved" and (a.wait_seconds or 0) > 0]
    if waited:
        longest = max(waited, key=lambda a: a.wait_seconds or 0)
        out.append(
            FollowUp(
                text=f"Approval by {longest.group} took {took(longest.wait_seconds)}: decide whether {longest.action} "
                f"on {longest.target} should keep asking, or act alone on a sure diagnosis (level 3).",
                owner=team,
            )
        )
    for action in actions:
        if action.result not in ("succeeded",):
            out.append(
                FollowUp(
                    text=f"Find out why {action.action} {action.result}: {action.error or 'no error recorded'}.",
                    owner=team,
                )
            )
    for reason in hand_offs:
        out.append(
            FollowUp(text=f"Review the hand-off to people ({reason}): can a runbook cover it next time?", owner=team)
        )
    return out
