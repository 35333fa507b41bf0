"""What a post-mortem suggests: what would have caught the incident earlier, and the follow-ups for its owner."""

from __future__ import annotations

from actiondesk.agents.postmortem.model import ActionTaken, ApprovalFact, FollowUp, RootCause
from actiondesk.agents.postmortem.words import took
from actiondesk.agents.triage.signals import LABELS
from actiondesk.core.case import Case
from actiondesk.core.estate import Owner
from actiondesk.core.finding import FindingKind


def earlier(case: Case, root: RootCause | None, detect: float | None, kind: FindingKind | None) -> list[str]:
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


def follow_ups(
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
