"""Case events and desk figures as plain lines: the words the terminal, the chat surfaces and the scheduler's
daily report share."""

from __future__ import annotations

from actiondesk.agents.metrics import Report
from actiondesk.core.audit import AuditEntry, AuditKind, texts


def describe(entry: AuditEntry) -> str:
    p = entry.payload
    match entry.kind:
        case AuditKind.MESSAGE:
            return str(p.get("text", ""))
        case AuditKind.FINDING:
            return str(p.get("summary", ""))
        case AuditKind.PLAN:
            return f"{p.get('runbook')}: {p.get('goal')}"
        case AuditKind.DECISION:
            policies = p.get("policy_ids")
            named = ", ".join(map(str, policies)) if isinstance(policies, list) else ""
            return f"{p.get('action')} -> {p.get('outcome')} ({named})"
        case AuditKind.OBSERVATION:
            return f"{p.get('action')}: {p.get('summary')}"
        case AuditKind.ACTION_STARTED:
            return f"{p.get('action')} {p.get('params')}"
        case AuditKind.ACTION_RESULT:
            return f"{p.get('action')}: {p.get('status')}" + (f" ({p.get('error')})" if p.get("error") else "")
        case AuditKind.APPROVAL:
            return f"{p.get('status')} by {p.get('by', '-')}"
        case AuditKind.APPROVAL_REQUESTED:
            return f"{p.get('group')} asked to approve {p.get('target')}"
        case AuditKind.VERIFICATION:
            return "ok" if p.get("ok") else "not yet"
        case AuditKind.HANDED_OFF:
            people = ", ".join(texts(p.get("people"))) or "nobody"
            return f"to {p.get('team')} on-call ({p.get('group')}: {people}), paged: {p.get('paged') or 'no'}"
        case AuditKind.PAGE:
            return f"{p.get('action')} {p.get('systems')}"
        case AuditKind.PICKED_UP:
            return f"by {p.get('by')} ({p.get('how')}) after {p.get('after_seconds')} s"
        case AuditKind.ACTED_ALONE:
            return f"{p.get('action')} at level {p.get('level')}: {p.get('status')} (announced to {p.get('team')})"
        case AuditKind.POSTMORTEM:
            return str(p.get("summary", ""))[:200]
        case AuditKind.POSTMORTEM_SUMMARY:
            return f"the model's summary: {str(p.get('text', ''))[:160]}"
        case _:
            return ", ".join(f"{k}={v}" for k, v in list(p.items())[:4])


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def metrics_lines(r: Report) -> list[str]:
    """The figures as short lines, for the terminal and for chat."""
    fcr = "-" if r.fcr is None else f"{r.fcr:.0%}"
    cost = "-" if r.cost_per_resolved_usd is None else f"${r.cost_per_resolved_usd:.3f}"
    mix = ", ".join(f"{k} {v}" for k, v in r.outcomes.items()) or "-"
    lines = [
        f"{r.start:%Y-%m-%d %H:%M} to {r.end:%Y-%m-%d %H:%M} UTC: {r.cases} cases, {r.resolved} resolved, "
        f"{r.escalated} escalated, {r.failed} failed, {r.open} open",
        f"MTTR {_duration(r.mttr.mean)} (p50 {_duration(r.mttr.p50)}, p90 {_duration(r.mttr.p90)}); "
        f"without approval wait {_duration(r.mttr_without_approval.mean)}",
        f"first-contact resolution {fcr}; cost per resolved request {cost} "
        f"({r.llm_calls} model calls, {r.tokens} tokens)",
        f"decisions: {mix}; approval wait {_duration(r.approval_wait.mean)}; breaker trips {r.breaker_trips}",
    ]
    lines += [f"  {name}: MTTR {_duration(s.mean)} over {s.count}" for name, s in r.mttr_by_pattern.items()]
    if r.escalations_by_owner:
        lines.append(
            f"hand-offs to people: {sum(r.escalations_by_owner.values())}; picked up in {_duration(r.pickup.p50)} "
            f"(p50), {_duration(r.pickup.p90)} (p90)"
        )
    for team, count in r.escalations_by_owner.items():
        picked = r.pickup_by_owner.get(team)
        waiting = r.waiting_for_pickup.get(team, 0)
        lines.append(
            f"  {team}: {count} hand-offs, picked up in {_duration(picked.p50 if picked else None)} (p50)"
            + (f", {waiting} waiting" if waiting else "")
        )
    return lines
