"""Build a post-mortem from what is stored: the case and its finding, and its audit trail (which holds every
decision, approval, action, verification, hand-off and page). Deterministic: the same facts give the same text.

The facts are read from the audit trail in ``facts``; the timeline is told in ``timeline``; what would have
caught it earlier and the follow-ups are in ``lessons``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from actiondesk.agents.postmortem.facts import Fact, actions_of, approvals_of, last_verification, root_cause_of
from actiondesk.agents.postmortem.lessons import earlier, follow_ups
from actiondesk.agents.postmortem.model import ActionTaken, Impact, PostMortem, RootCause
from actiondesk.agents.postmortem.timeline import timeline_of
from actiondesk.agents.postmortem.words import took
from actiondesk.agents.triage.signals import LABELS, RULES, verification_text
from actiondesk.core.audit_payloads import CaseStopped, Verification, parse
from actiondesk.core.case import Case
from actiondesk.core.estate import Owner, Service


def build_postmortem(
    case: Case, facts: Sequence[Fact], owner: Owner, *, agent: str, service: Service | None, now: datetime
) -> PostMortem:
    """The post-mortem of ``case`` from its audit trail ``facts`` (oldest first)."""
    finding = case.finding
    approvals = approvals_of(facts)
    actions = actions_of(facts, case, approvals, agent)
    root = root_cause_of(case, facts)
    verified = last_verification(facts)
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
    timeline = timeline_of(case, facts, root, agent)
    hand_offs = tuple(stopped.reason for stopped in map(parse, facts) if isinstance(stopped, CaseStopped))
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
        earlier=tuple(earlier(case, root, detect, finding.kind if finding else None)),
        follow_ups=tuple(follow_ups(case, root, actions, approvals, hand_offs, owner)),
        written_at=now,
    )


def _summary(
    case: Case,
    root: RootCause | None,
    actions: list[ActionTaken],
    verified: Verification | None,
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
    if verified is not None and verified.ok:
        parts.append(verification_text(verified))
    if mttr is not None:
        parts.append(f"Resolved {took(mttr)} after it was reported.")
    return " ".join(parts)
