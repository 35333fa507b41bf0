"""The timeline: the change, the onset of each signal, then what each audit entry adds, in time order."""

from __future__ import annotations

from collections.abc import Sequence

from actiondesk.agents.postmortem.facts import Fact, as_number
from actiondesk.agents.postmortem.model import Moment, RootCause
from actiondesk.agents.postmortem.words import params_text, took
from actiondesk.agents.triage.signals import LABELS, RULES, verification_text
from actiondesk.core.audit import AuditKind, texts
from actiondesk.core.case import Case


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
            return f"{p.get('action')} started on {p.get('target')} ({params_text(p.get('params'))})"
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
            after = took(as_number(p.get("after_seconds")))
            return f"picked up by {p.get('by')} ({p.get('how')}) {after} after the hand-off"
        case AuditKind.PAGE:
            return f"page {p.get('action')} ({', '.join(texts(p.get('systems')))})"
        case AuditKind.CASE_RESOLVED:
            return "resolved"
    return None


def timeline_of(case: Case, facts: Sequence[Fact], root: RootCause | None, agent: str) -> tuple[Moment, ...]:
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
