"""Service-desk staples (a locked VPN session, a password reset, a full log volume): the live state a staple is
about is read, and the staple is named only when that state warrants its runbook."""

from __future__ import annotations

from actiondesk.actions.executor import Executor
from actiondesk.actions.packs.access import AccountOutput, SessionOutput
from actiondesk.actions.packs.hosts import VolumeOutput
from actiondesk.actions.spec import ActionOutput
from actiondesk.agents.staples import Staple
from actiondesk.core.case import Case
from actiondesk.core.errors import ActionDeskError
from actiondesk.core.finding import Evidence, Finding, FindingKind
from actiondesk.core.plan import ActionCall

FULL_PCT = 90.0  # a log volume this full warrants clearing (clear_log_volume's own drift check agrees)


def read_staple(executor: Executor, case: Case, staple: Staple) -> Finding:
    """Read the live state the staple is about; name it only when the state warrants its runbook."""
    kind, subject = staple.kind, staple.subject

    def abstain(why: str) -> Finding:
        return Finding(kind=kind, service=None, subject=subject, summary=why, confidence=0.0, abstained=True)

    if subject is None:
        return abstain("This sounds like a full log volume, but which host? Name it, like worker-1.")
    action, param = {
        FindingKind.VPN_LOCKED: ("get_vpn_session", "user"),
        FindingKind.PASSWORD_RESET: ("get_account", "user"),
        FindingKind.DISK_FULL: ("get_log_volume", "host"),
    }[kind]
    call = ActionCall(action=action, params={param: subject})
    seen: ActionOutput
    try:
        if kind is FindingKind.VPN_LOCKED:
            seen = session = executor.probe_as(call, case.id, SessionOutput)
            if session.status != "locked":
                return abstain(f"{subject}'s VPN session is {session.status}, not locked; there is nothing to reset.")
            summary = f"{subject}'s VPN session is locked."
        elif kind is FindingKind.DISK_FULL:
            seen = volume = executor.probe_as(call, case.id, VolumeOutput)
            if volume.volume.used_pct < FULL_PCT:
                return abstain(f"{volume.summary()}: not full, so I will not clear it.")
            summary = f"{volume.summary()}: it needs clearing."
        else:
            seen = executor.probe_as(call, case.id, AccountOutput)
            summary = f"{subject} asks for a password reset ({seen.summary()})."
    except ActionDeskError as exc:
        return abstain(f"I could not read {subject}'s state: {exc}")
    evidence = (Evidence(source=action, summary=seen.summary()),)
    return Finding(
        kind=kind,
        service=None,
        subject=subject,
        summary=summary,
        confidence=0.95,
        abstained=False,
        evidence=evidence,
    )
