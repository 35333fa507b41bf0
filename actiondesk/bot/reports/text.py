"""Case events and desk figures as plain lines: the words the terminal, the chat surfaces and the scheduler's
daily report share."""

from __future__ import annotations

from actiondesk.agents.metrics import Report
from actiondesk.core.audit import AuditEntry
from actiondesk.core.audit_payloads import (
    ActedAlone,
    ActionResult,
    ActionStarted,
    ApprovalNoted,
    ApprovalRequested,
    DecisionNoted,
    FindingNoted,
    HandedOff,
    Message,
    Observation,
    Page,
    PickedUp,
    PlanNoted,
    Postmortem,
    PostmortemSummary,
    Verification,
    parse,
)


def describe(entry: AuditEntry) -> str:
    match parse(entry):
        case Message() as m:
            return m.text
        case FindingNoted() as f:
            return f.summary
        case PlanNoted() as p:
            return f"{p.runbook}: {p.goal}"
        case DecisionNoted() as d:
            return f"{d.action} -> {d.outcome} ({', '.join(d.policy_ids)})"
        case Observation() as o:
            return f"{o.action}: {o.summary}"
        case ActionStarted() as s:
            return f"{s.action} {s.params}"
        case ActionResult() as r:
            return f"{r.action}: {r.status}" + (f" ({r.error})" if r.error else "")
        case ApprovalNoted() as a:
            return f"{a.status} by {a.by or '-'}"
        case ApprovalRequested() as q:
            return f"{q.group} asked to approve {q.target}"
        case Verification() as v:
            return "ok" if v.ok else "not yet"
        case HandedOff() as h:
            people = ", ".join(h.people) or "nobody"
            return f"to {h.team} on-call ({h.group}: {people}), paged: {h.paged or 'no'}"
        case Page() as pg:
            return f"{pg.action} {pg.systems}"
        case PickedUp() as u:
            return f"by {u.by} ({u.how}) after {u.after_seconds} s"
        case ActedAlone() as alone:
            return f"{alone.action} at level {alone.level}: {alone.status} (announced to {alone.team})"
        case Postmortem() as pm:
            return pm.summary[:200]
        case PostmortemSummary() as ps:
            return f"the model's summary: {ps.text[:160]}"
        case _:
            return ", ".join(f"{k}={v}" for k, v in list(entry.payload.items())[:4])


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
