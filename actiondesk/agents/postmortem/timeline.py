"""The timeline: the change, the onset of each signal, then what each audit entry adds, in time order."""

from __future__ import annotations

from collections.abc import Sequence

from actiondesk.agents.postmortem.facts import Fact
from actiondesk.agents.postmortem.model import Moment, RootCause
from actiondesk.agents.postmortem.words import params_text, took
from actiondesk.agents.triage.signals import LABELS, RULES, verification_text
from actiondesk.core.audit import AuditKind
from actiondesk.core.audit_payloads import (
    ActionResult,
    ActionStarted,
    ApprovalNoted,
    ApprovalRequested,
    CaseOpened,
    CaseStopped,
    DecisionNoted,
    FindingNoted,
    HandedOff,
    Message,
    Page,
    PickedUp,
    PlanNoted,
    Verification,
    parse,
    read,
)
from actiondesk.core.case import Case


def _known(value: str | None, missing: str = "unknown") -> str:
    """A value as written, or ``missing`` in words when a row written before the field existed lacks it."""
    return value if value else missing


def _action(action: str | None) -> str:
    return _known(action, "an unnamed action")


def _describe(fact: Fact, agent: str) -> str | None:
    """What one audit entry adds to the timeline, in words computed from its data (None: leave it out)."""
    if fact.kind is AuditKind.VERIFICATION:  # its text is the triage's, read from the checks as stored
        return verification_text(read(fact, Verification)).replace("Verification: ", "verification: ", 1)
    match parse(fact):
        case CaseOpened() as opened:
            by = f" by {opened.reporter}" if opened.reporter else ""
            where = f" from {opened.surface}" if opened.surface else ""
            return f"case opened{by}{where}: “{opened.title}”"
        case Message() as message if fact.actor != agent:
            return f"{fact.actor} wrote: “{message.text[:160]}”"
        case FindingNoted() as finding:
            sure = finding.confidence
            shown = f" (confidence {float(sure):.0%})" if sure is not None and not finding.abstained else ""
            return f"finding: {finding.summary}{shown}"
        case PlanNoted() as plan:
            return f"plan {plan.runbook}: {plan.goal}"
        case DecisionNoted() as d:
            again = "re-checked before running: " if d.recheck else ""
            ids = ", ".join(d.policy_ids)
            level = f" at level {d.autonomy_level}" if d.autonomy_level is not None else ""
            return f"governance {again}{_known(d.outcome, 'unknown outcome')} for {_action(d.action)}{level} ({ids})"
        case ApprovalRequested() as asked:
            on = f" on {asked.target}" if asked.target else ""
            group = _known(asked.group, "an unknown group")
            return f"approval {_known(asked.id)} asked of {group} for {_action(asked.action)}{on}"
        case ApprovalNoted() as a:
            reason = f": {a.reason}" if a.reason else ""
            return f"approval {_known(a.approval_id)} {_known(a.status, 'decided')} by {a.by or fact.actor}{reason}"
        case ActionStarted() as start:
            on = f" on {start.target}" if start.target else ""
            return f"{_action(start.action)} started{on} ({params_text(start.params)})"
        case ActionResult() as result:
            error = f": {result.error}" if result.error else ""
            return f"{_action(result.action)} {_known(result.status, 'ended')}{error}"
        case CaseStopped() as stopped:
            said = "handed to people" if fact.kind is AuditKind.CASE_ESCALATED else "failed"
            return f"{said}: {stopped.reason}" if stopped.reason else said
        case HandedOff() as handed:
            people = ", ".join(handed.people) or "nobody in the directory"
            how = f", paged through {', '.join(handed.paged)}" if handed.paged else ""
            team, group = _known(handed.team, "its owner's"), _known(handed.group, "no group")
            return f"handed to {team} on-call ({group}: {people}){how}"
        case PickedUp() as picked:
            after = took(float(picked.after_seconds) if picked.after_seconds is not None else None)
            how = f" ({picked.how})" if picked.how else ""
            return f"picked up by {_known(picked.by, 'someone')}{how} {after} after the hand-off"
        case Page() as page:
            return f"page {_known(page.action, 'sent')} ({', '.join(page.systems)})"
    if fact.kind is AuditKind.CASE_RESOLVED:
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
        if fact.kind is AuditKind.MESSAGE and fact.actor == case.reporter and read(fact, Message).text == case.text:
            continue  # the report itself: the case's opening already says it
        described = _describe(fact, agent)
        if described is not None:
            moments.append(Moment(at=fact.at, actor=fact.actor, kind=fact.kind.value, what=described))
    return tuple(sorted(moments, key=lambda m: m.at))  # stable: entries at one instant keep their order
