"""The post-mortem as Markdown: headings, short lists, no tables (it must read in a ticket, a chat thread and a
terminal as well as in a Markdown viewer)."""

from __future__ import annotations

from datetime import datetime

from actiondesk.agents.postmortem.model import PostMortem
from actiondesk.agents.postmortem.words import took

SECTIONS = (
    "Summary",
    "Impact",
    "Timeline",
    "Root cause",
    "What was done, and by whom",
    "Approvals",
    "MTTR",
    "What would have caught it earlier",
    "Follow-ups",
)


def stamp(at: datetime | None) -> str:
    return "-" if at is None else at.strftime("%Y-%m-%d %H:%M:%S UTC")


def _time(at: datetime, day: str) -> str:
    """The time of day, with the date when it differs from the incident's."""
    return at.strftime("%H:%M:%S") if at.strftime("%Y-%m-%d") == day else at.strftime("%Y-%m-%d %H:%M:%S")


def render_markdown(pm: PostMortem) -> str:
    day = pm.opened_at.strftime("%Y-%m-%d")
    lines: list[str] = [f"# Post-mortem {pm.case_id}: {pm.title}", ""]
    lines += [
        f"Owner: {pm.owner_team} ({pm.owner_group}) · reported by {pm.reporter} from {pm.surface} · "
        f"written {stamp(pm.written_at)} by ActionDesk from the case's audit trail",
        "",
        "## Summary",
        "",
        pm.summary,
        "",
    ]
    if pm.model_summary:
        lines += [
            f"> Summary written by the model from the facts below (not a source of facts): {pm.model_summary}",
            "",
        ]
    impact = pm.impact
    where = impact.service or "-"
    if impact.tier is not None:
        where += f" (tier {impact.tier}, {impact.environment})"
    lines += ["## Impact", "", f"- Service: {where}"]
    if impact.started_at is not None:
        lines.append(f"- Started: {stamp(impact.started_at)} (the signal's onset)")
    lines.append(f"- Detected: {stamp(impact.detected_at)} (case opened by {impact.detected_by})")
    if impact.mitigated_at is not None:
        lines.append(f"- Mitigated: {stamp(impact.mitigated_at)} (first change that succeeded)")
    lines.append(f"- Resolved: {stamp(impact.resolved_at)} (verified)")
    lines.append(f"- Duration: {took(impact.duration_seconds)}")
    lines += [f"- {signal}" for signal in impact.signals]
    lines += ["", f"## Timeline ({day}, UTC)", ""]
    lines += [f"- {_time(m.at, day)} · {m.actor} · {m.what}" for m in pm.timeline]
    lines += ["", "## Root cause", ""]
    root = pm.root_cause
    if root is None:
        lines.append("No finding was recorded.")
    else:
        lines.append(f"{root.summary} (finding {root.kind}, confidence {root.confidence:.0%})")
        by = f" by {root.deployed_by}" if root.deployed_by else ""
        if root.commit:
            lines.append("")
            lines.append(
                f"- Change: {root.service} {root.version}, commit {root.commit}, deployed {stamp(root.deployed_at)}{by}"
                + (f"; the version before was {root.previous_version}" if root.previous_version else "")
            )
        elif root.change:
            lines.append("")
            lines.append(f"- Change: {root.change}, made {stamp(root.deployed_at)}{by}")
        lines += ["", "Evidence:", ""] if root.evidence else []
        lines += [f"- {e}" for e in root.evidence]
    lines += ["", "## What was done, and by whom", ""]
    if not pm.actions:
        lines.append("No action ran.")
    for a in pm.actions:
        approved = f", approved by {', '.join(a.approved_by)}" if a.approved_by else ""
        decided = f"governance: {a.decided}" + (f" at level {a.level}" if a.level is not None else "")
        error = f" ({a.error})" if a.error else ""
        lines.append(
            f"- {_time(a.at, day)} {a.action} {a.params} on {a.target or '-'}: proposed by {a.proposed_by}, "
            f"{decided}{approved}, run by {a.ran_by}: {a.result}{error}" + (f" (run {a.run_key})" if a.run_key else "")
        )
    lines += ["", "## Approvals", ""]
    if not pm.approvals:
        lines.append("None: nothing waited for a person.")
    for ap in pm.approvals:
        decided = (
            f"{ap.status} by {ap.decided_by} at {_time(ap.decided_at, day)} after {took(ap.wait_seconds)}"
            if ap.decided_at is not None
            else ap.status
        )
        glass = " (break-glass: review required)" if ap.break_glass else ""
        lines.append(
            f"- {ap.id}: {ap.action} on {ap.target}, asked of {ap.group} at {_time(ap.requested_at, day)}; "
            f"{decided}{glass}"
        )
    lines += ["", "## MTTR", ""]
    lines.append(f"- Time to resolve (report to verified resolution): {took(pm.mttr_seconds)}")
    if pm.approval_wait_seconds:
        rest = (pm.mttr_seconds or 0) - pm.approval_wait_seconds
        lines.append(f"- Of which waiting for approval: {took(pm.approval_wait_seconds)} (without it: {took(rest)})")
    if pm.time_to_detect_seconds is not None:
        lines.append(f"- Time to detect (onset to report): {took(pm.time_to_detect_seconds)}")
    if pm.time_to_mitigate_seconds is not None:
        lines.append(f"- Time to mitigate (report to the change that fixed it): {took(pm.time_to_mitigate_seconds)}")
    if pm.hand_offs:
        lines.append(f"- Handed to people {len(pm.hand_offs)} time(s): {'; '.join(pm.hand_offs)}")
    lines += ["", "## What would have caught it earlier", ""]
    lines += [f"- {e}" for e in pm.earlier]
    lines += ["", "## Follow-ups", ""]
    lines += [f"- [ ] {f.text} (owner: {f.owner})" for f in pm.follow_ups] or ["- None."]
    return "\n".join(lines) + "\n"
