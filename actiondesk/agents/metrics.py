"""What the service desk is judged by, computed from stored cases: MTTR, first-contact resolution, cost per
resolved request, autonomy mix, approval wait, escalations and breaker trips.

Definitions (the README repeats them):
- MTTR: from the report or alert that opened the case to its verified resolution, over resolved cases; also
  without the time spent waiting for approvers.
- First-contact resolution (FCR): of the cases closed in the period, the share resolved in their first
  conversation with no hand-off to a human: never escalated, never reopened.
- Cost per resolved request: (token cost + infrastructure cost per hour * hours in the period) / resolved.
- Autonomy mix: governance outcomes of the proposed mutating calls, and the trust level they were decided at.
- Approval wait: request → decision of every decided approval.
- Escalations by owner: the hand-offs to people, by the owner team each was handed to.
- Time until picked up: from a hand-off to the first thing a person did on the case after it (a message in its
  thread or on its ticket, an approval decision, a Take it), by anyone but the agent, the reporter and the
  alerting system; a hand-off nobody picked up yet is counted as waiting.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from actiondesk.core.approval import Approval, ApprovalStatus
from actiondesk.core.case import Case, CaseStatus


@dataclass(frozen=True)
class CaseFacts:
    """One case and what its audit trail adds: hand-offs to humans and breaker trips."""

    case: Case
    approvals: tuple[Approval, ...] = ()
    escalations: int = 0
    breaker_trips: int = 0
    hand_offs: tuple[tuple[str, float | None], ...] = ()  # (owner team, seconds until picked up, None: waiting)

    @property
    def approval_wait_seconds(self) -> float:
        return sum(
            (a.decided_at - a.created_at).total_seconds()
            for a in self.approvals
            if a.decided_at is not None and a.status is not ApprovalStatus.PENDING
        )

    @property
    def mttr_seconds(self) -> float | None:
        case = self.case
        if case.status is not CaseStatus.RESOLVED or case.resolved_at is None:
            return None
        return (case.resolved_at - case.created_at).total_seconds()

    @property
    def first_contact(self) -> bool:
        return self.case.status is CaseStatus.RESOLVED and self.escalations == 0 and self.case.reopened == 0

    @property
    def pattern(self) -> str:
        return self.case.plan.runbook if self.case.plan else "(no plan)"


@dataclass(frozen=True)
class Summary:
    count: int
    mean: float | None
    p50: float | None
    p90: float | None


def summarise(values: Sequence[float]) -> Summary:
    if not values:
        return Summary(0, None, None, None)
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return Summary(len(values), statistics.fmean(values), statistics.median(values), p90)


@dataclass(frozen=True)
class Report:
    start: datetime
    end: datetime
    cases: int
    resolved: int
    escalated: int
    failed: int
    open: int
    mttr: Summary
    mttr_without_approval: Summary
    mttr_by_pattern: dict[str, Summary]
    mttr_by_service: dict[str, Summary]
    fcr: float | None
    token_cost_usd: float
    infrastructure_cost_usd: float
    cost_per_resolved_usd: float | None
    cost_per_resolved_by_pattern: dict[str, float]
    llm_calls: int
    tokens: int
    outcomes: dict[str, int]
    autonomy_levels: dict[str, int]
    approval_wait: Summary
    breaker_trips: int
    reopened: int
    escalation_reasons: dict[str, int] = field(default_factory=dict)
    escalations_by_owner: dict[str, int] = field(default_factory=dict)
    pickup: Summary = field(default_factory=lambda: summarise([]))
    pickup_by_owner: dict[str, Summary] = field(default_factory=dict)
    waiting_for_pickup: dict[str, int] = field(default_factory=dict)


def compute(
    facts: Iterable[CaseFacts],
    start: datetime,
    end: datetime,
    infra_cost_per_hour: float = 0.0,
    escalation_reasons: dict[str, int] | None = None,
) -> Report:
    """Figures for the cases opened in [start, end)."""
    chosen = [f for f in facts if start <= f.case.created_at < end]
    statuses = Counter(f.case.status for f in chosen)
    resolved = [f for f in chosen if f.mttr_seconds is not None]
    closed = [f for f in chosen if f.case.status.terminal]
    by_pattern: dict[str, list[float]] = defaultdict(list)
    by_service: dict[str, list[float]] = defaultdict(list)
    for f in resolved:
        by_pattern[f.pattern].append(f.mttr_seconds or 0.0)
        by_service[f.case.service or "(unknown)"].append(f.mttr_seconds or 0.0)
    hours = max(0.0, (end - start).total_seconds() / 3600)
    infra = infra_cost_per_hour * hours
    tokens_cost = sum(f.case.cost_usd for f in chosen)
    per_pattern: dict[str, float] = {}
    for pattern, values in by_pattern.items():
        share = len(values) / len(resolved)
        cost = sum(f.case.cost_usd for f in resolved if f.pattern == pattern) + infra * share
        per_pattern[pattern] = cost / len(values)
    outcomes: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    for f in chosen:
        for step in f.case.plan.steps if f.case.plan else ():
            if step.decision is not None:
                outcomes[step.decision.outcome.value] += 1
                levels[step.decision.autonomy_level.name.lower()] += 1
    waits = [
        (a.decided_at - a.created_at).total_seconds()
        for f in chosen
        for a in f.approvals
        if a.decided_at is not None and a.status in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED)
    ]
    by_owner: Counter[str] = Counter()
    picked: dict[str, list[float]] = defaultdict(list)
    waiting: Counter[str] = Counter()
    for f in chosen:
        for team, seconds in f.hand_offs:
            by_owner[team] += 1
            if seconds is None:
                waiting[team] += 1
            else:
                picked[team].append(seconds)
    return Report(
        start=start,
        end=end,
        cases=len(chosen),
        resolved=len(resolved),
        escalated=statuses[CaseStatus.ESCALATED],
        failed=statuses[CaseStatus.FAILED],
        open=len(chosen) - len(closed),
        mttr=summarise([f.mttr_seconds or 0.0 for f in resolved]),
        mttr_without_approval=summarise([(f.mttr_seconds or 0.0) - f.approval_wait_seconds for f in resolved]),
        mttr_by_pattern={k: summarise(v) for k, v in sorted(by_pattern.items())},
        mttr_by_service={k: summarise(v) for k, v in sorted(by_service.items())},
        fcr=(sum(f.first_contact for f in closed) / len(closed)) if closed else None,
        token_cost_usd=tokens_cost,
        infrastructure_cost_usd=infra,
        cost_per_resolved_usd=((tokens_cost + infra) / len(resolved)) if resolved else None,
        cost_per_resolved_by_pattern=dict(sorted(per_pattern.items())),
        llm_calls=sum(f.case.llm_calls for f in chosen),
        tokens=sum(f.case.tokens for f in chosen),
        outcomes=dict(sorted(outcomes.items())),
        autonomy_levels=dict(sorted(levels.items())),
        approval_wait=summarise(waits),
        breaker_trips=sum(f.breaker_trips for f in chosen),
        reopened=sum(1 for f in chosen if f.case.reopened),
        escalation_reasons=dict(sorted((escalation_reasons or {}).items())),
        escalations_by_owner=dict(sorted(by_owner.items())),
        pickup=summarise([v for values in picked.values() for v in values]),
        pickup_by_owner={team: summarise(picked.get(team, [])) for team in sorted(by_owner)},
        waiting_for_pickup=dict(sorted(waiting.items())),
    )
