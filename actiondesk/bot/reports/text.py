"""Case events and desk figures as plain lines: the words the terminal, the chat surfaces and the scheduler's
daily report share."""

from __future__ import annotations

from actiondesk.agents.metrics import Report
from actiondesk.core.audit import AuditEntry
from actiondesk.core.audit_payloads import (
    AccessRefused,
    ActedAlone,
    ActionResult,
    ActionStarted,
    ApprovalNoted,
    ApprovalRequested,
    CaseOpened,
    CaseResolved,
    CaseStopped,
    ChangeRecorded,
    DecisionNoted,
    FindingNoted,
    HandedOff,
    InjectionSuspected,
    Message,
    Observation,
    Page,
    PickedUp,
    PlanNoted,
    Postmortem,
    PostmortemSummary,
    SettingChanged,
    SignedIn,
    Thought,
    TokenCreated,
    TokenRevoked,
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
            return f"{q.group} asked to approve {q.target or q.action or 'a call'}"
        case Verification() as v:
            return "ok" if v.ok else "not yet"
        case HandedOff() as h:
            people = ", ".join(h.people) or "nobody"
            return f"to {h.team or 'its owner'} on-call ({h.group or 'no group'}: {people}), paged: {h.paged or 'no'}"
        case Page() as pg:
            return f"{pg.action} {pg.systems}"
        case PickedUp() as u:
            after = f" after {u.after_seconds} s" if u.after_seconds is not None else ""
            return f"by {u.by or 'someone'} ({u.how or 'how unknown'}){after}"
        case ActedAlone() as alone:
            level = f" at level {alone.level}" if alone.level is not None else ""
            told = f" (announced to {alone.team})" if alone.team else ""
            return f"{alone.action}{level}: {alone.status or 'unknown'}{told}"
        case Postmortem() as pm:
            return pm.summary[:200]
        case PostmortemSummary() as ps:
            return f"the model's summary: {ps.text[:160]}"
        case CaseOpened() as o:
            where = f" on {o.surface}" if o.surface else ""
            return f"{o.case_kind or 'case'} from {o.reporter or 'someone'}{where}: {o.title}"
        case Thought() as t:
            said = t.text or t.error or t.model_reason or t.action or ""
            return f"{t.event or 'thought'}" + (f": {said[:160]}" if said else "")
        case CaseResolved() as done:
            return f"resolved by the runbook {done.runbook}" if done.runbook else "resolved"
        case CaseStopped() as stop:
            at = f" at step {stop.step}" if stop.step is not None else ""
            return (stop.reason or "no reason given") + at
        case InjectionSuspected() as i:
            return f"in {i.source or 'an unknown source'}: {i.why}"
        case SettingChanged() as c:
            what = " ".join(x for x in (c.action, c.target) if x)
            return f"{c.setting}" + (f" ({what})" if what else "")
        case SignedIn() as who:
            return f"{who.email or 'someone'} via {who.via or 'an unknown way'}" + (
                f" from {who.client}" if who.client else ""
            )
        case AccessRefused() as no:
            return f"{no.method} {no.path} from {no.client or 'an unknown client'}: {no.status} {no.reason}".strip()
        case TokenCreated() as made:
            return f"token {made.token} ({', '.join(made.scopes) or 'no scopes'})"
        case TokenRevoked() as gone:
            return f"token {gone.token}"
        case ChangeRecorded() as change:
            return f"{change.change_kind} of {change.service} from {change.source} ({change.change})"
        case _:
            return entry.kind.value


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
