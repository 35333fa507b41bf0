"""Metrics from stored cases: gathered once per request, shown as JSON (console, chat) and in the Prometheus
exposition format at /metrics. Everything here reads through the Reporting port, never the store."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from datetime import UTC, datetime, time, timedelta, tzinfo

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import JsonValue

from actiondesk.agents.metrics import CaseFacts, Report, compute
from actiondesk.core.approval import Approval
from actiondesk.core.audit import AuditKind
from actiondesk.core.audit_payloads import CaseEscalated, HandedOff, PickedUp, read
from actiondesk.core.ports import Clock, Reporting
from actiondesk.core.tickets import OutboxStatus

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def gather(reports: Reporting, start: datetime, end: datetime) -> tuple[list[CaseFacts], dict[str, int]]:
    cases = reports.cases_opened(start, end)
    ids = {c.id for c in cases}
    approvals: dict[str, list[Approval]] = {}
    for approval in reports.approvals():
        if approval.case_id in ids:
            approvals.setdefault(approval.case_id, []).append(approval)
    escalations: Counter[str] = Counter()
    trips: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for entry in reports.audit_of_kind(AuditKind.CASE_ESCALATED, start):
        if entry.case_id in ids:
            reason = read(entry, CaseEscalated).reason
            escalations[entry.case_id] += 1
            reasons[reason.split(":")[0] or "(none)"] += 1
            if "breaker" in reason:
                trips[entry.case_id] += 1
    hand_offs = _hand_offs(reports, start, ids)
    facts = [
        CaseFacts(
            case=c,
            approvals=tuple(approvals.get(c.id, ())),
            escalations=escalations[c.id],
            breaker_trips=trips[c.id],
            hand_offs=tuple(hand_offs.get(c.id, ())),
        )
        for c in cases
    ]
    return facts, dict(reasons)


def _hand_offs(reports: Reporting, start: datetime, ids: set[str]) -> dict[str, list[tuple[str, float | None]]]:
    """Per case, in order: each hand-off's owner team and the seconds until a person picked it up (None: not
    yet). A pick-up closes the hand-off before it."""
    entries = [
        *reports.audit_of_kind(AuditKind.HANDED_OFF, start),
        *reports.audit_of_kind(AuditKind.PICKED_UP, start),
    ]
    found: dict[str, list[tuple[str, float | None]]] = {}
    for entry in sorted(entries, key=lambda e: e.seq):
        if entry.case_id not in ids:
            continue
        slots = found.setdefault(entry.case_id, [])
        if entry.kind is AuditKind.HANDED_OFF:
            slots.append((read(entry, HandedOff).team or "(none)", None))
        elif slots and slots[-1][1] is None:
            after = read(entry, PickedUp).after_seconds
            slots[-1] = (slots[-1][0], float(after) if after is not None else 0.0)
    return found


def report(reports: Reporting, start: datetime, end: datetime, infra_cost_per_hour: float) -> Report:
    facts, reasons = gather(reports, start, end)
    return compute(facts, start, end, infra_cost_per_hour, reasons)


def daily(
    reports: Reporting, start: datetime, end: datetime, infra_cost_per_hour: float, zone: tzinfo = UTC
) -> list[dict[str, JsonValue]]:
    """One point per calendar day in ``zone`` (the viewer's time zone), from the day ``start`` falls on to the
    day ``end`` falls on, each clipped to [start, end): MTTR (mean) and FCR with its base (how many of the
    closed cases were resolved at first contact), for the dashboard's charts. Today's cases are under today."""
    facts, _ = gather(reports, start, end)
    points: list[dict[str, JsonValue]] = []
    day = start.astimezone(zone).date()
    while (midnight := datetime.combine(day, time(), zone)) < end:
        nxt = datetime.combine(day + timedelta(days=1), time(), zone)  # a calendar day, 23 or 25 hours at DST
        r = compute(facts, max(midnight, start), min(nxt, end), infra_cost_per_hour)
        closed = r.cases - r.open
        points.append(
            {
                "day": day.isoformat(),
                "cases": r.cases,
                "resolved": r.resolved,
                "closed": closed,
                "first_contact": round(r.fcr * closed) if r.fcr is not None else 0,
                "mttr_seconds": r.mttr.mean,
                "fcr": r.fcr,
            }
        )
        day += timedelta(days=1)
    return points


def calendar_period(clock: Clock, days: float, zone: tzinfo) -> tuple[datetime, datetime]:
    """The last ``days`` calendar days in ``zone``, today included: from midnight ``ceil(days) - 1`` days ago
    (local time) until now."""
    end = clock.now()
    first = end.astimezone(zone).date() - timedelta(days=max(1, math.ceil(days)) - 1)
    return datetime.combine(first, time(), zone), end


def as_json(r: Report) -> dict[str, JsonValue]:
    data = dataclasses.asdict(r)
    data["start"], data["end"] = r.start.isoformat(), r.end.isoformat()
    return data


def period(clock: Clock, days: float) -> tuple[datetime, datetime]:
    end = clock.now()
    return end - timedelta(days=days), end


# The audit entry that marks a case entering a state, and the state it names.
@dataclasses.dataclass(frozen=True)
class Figures:
    """The desk's figures for a chat status reply: a period's report."""

    reports: Reporting
    clock: Clock
    infra_cost_per_hour: float

    def last(self, days: float) -> Report:
        start, end = period(self.clock, days)
        return report(self.reports, start, end, self.infra_cost_per_hour)


def outbox_line(reports: Reporting) -> str | None:
    """One line for a chat status reply (e.g. `/actiondesk status`): what waits and what is dead, or None."""
    counts = reports.outbox_counts()
    pending = sum(c.get("pending", 0) for c in counts.values())
    dead = sum(c.get("dead", 0) for c in counts.values())
    if not pending and not dead:
        return None
    line = f"Outbox (tickets and pages): {pending} updates queued, {dead} dead letters"
    return line + (" (see `actiondesk outbox status`)" if dead else "")


TRANSITIONS = {
    AuditKind.CASE_OPENED: "open",
    AuditKind.CASE_RESOLVED: "resolved",
    AuditKind.CASE_ESCALATED: "escalated",
    AuditKind.CASE_FAILED: "failed",
}


class DeskCollector(Collector):
    """Read on every scrape from the metric rollups the store keeps up with each case transition (see
    adapters/store/rollup.py): the cost of a scrape does not grow with the cases stored. Names follow Prometheus
    conventions (base units, _total). The window counts the cases opened from the UTC day ``window_days`` ago on."""

    def __init__(self, reports: Reporting, clock: Clock, window_days: float, infra_cost_per_hour: float) -> None:
        self._reports = reports
        self._clock = clock
        self._window = window_days
        self._infra = infra_cost_per_hour

    def collect(self) -> list[Metric]:
        start, end = period(self._clock, self._window)
        everything, window = self._reports.metric_figures(start)
        infra = self._infra * max(0.0, (end - start).total_seconds() / 3600)
        cases = GaugeMetricFamily("actiondesk_cases", "Cases by their current status.", labels=["status"])
        for status in ("resolved", "escalated", "failed", "open"):
            cases.add_metric([status], everything.count("cases", status))
        transitions = CounterMetricFamily(
            "actiondesk_case_transitions", "Cases entering a state, since the first case.", labels=["to"]
        )
        for kind, state in TRANSITIONS.items():
            transitions.add_metric([state], everything.count("transitions", kind.value))
        transitions.add_metric(["reopened"], everything.count("reopened"))
        decisions = CounterMetricFamily(
            "actiondesk_decisions", "Governance outcomes of proposed calls.", labels=["outcome"]
        )
        for outcome in everything.keys("outcome"):
            decisions.add_metric([outcome], everything.count("outcome", outcome))
        levels = CounterMetricFamily(
            "actiondesk_decisions_by_level", "Decisions by the trust level they were made at.", labels=["level"]
        )
        for level in everything.keys("level"):
            levels.add_metric([level], everything.count("level", level))
        label = f"{self._window:g}d"
        mttr = GaugeMetricFamily(
            "actiondesk_mttr_seconds",
            "Mean time to verified resolution over the window.",
            labels=["window", "approval_wait"],
        )
        # A figure with no data yet (nothing resolved, no approval decided) is absent, never a flattering 0.
        if (mean := window.mean("mttr")) is not None:
            mttr.add_metric([label, "included"], mean)
        if (mean := window.mean("mttr_excluded")) is not None:
            mttr.add_metric([label, "excluded"], mean)
        by_pattern = GaugeMetricFamily(
            "actiondesk_pattern_mttr_seconds", "Mean time to resolution per runbook.", labels=["window", "pattern"]
        )
        for pattern in window.keys("pattern_mttr"):
            by_pattern.add_metric([label, pattern], window.mean("pattern_mttr", pattern) or 0.0)
        fcr = GaugeMetricFamily(
            "actiondesk_first_contact_resolution_ratio",
            "Closed cases resolved with no hand-off and no reopen.",
            labels=["window"],
        )
        if closed := window.count("closed"):
            fcr.add_metric([label], window.count("first_contact") / closed)
        cost = GaugeMetricFamily(
            "actiondesk_cost_per_resolved_request_dollars",
            "(token cost + infrastructure cost) / resolved cases over the window.",
            labels=["window"],
        )
        if resolved := window.count("mttr"):
            cost.add_metric([label], (window.total("cost") + infra) / resolved)
        wait = GaugeMetricFamily(
            "actiondesk_approval_wait_seconds", "Mean approval wait over the window.", labels=["window"]
        )
        if (mean := window.mean("approval_wait")) is not None:
            wait.add_metric([label], mean)
        backlog = GaugeMetricFamily(
            "actiondesk_outbox_rows",
            "Outbox rows (ticket writes and pages) by system and state: pending (not yet delivered), dead (rejected).",
            labels=["system", "state"],
        )
        for system, counts in sorted(self._reports.outbox_counts().items()):
            for state in (OutboxStatus.PENDING, OutboxStatus.DEAD):
                backlog.add_metric([system, state.value], counts.get(state.value, 0))
        by_owner = CounterMetricFamily(
            "actiondesk_handoffs", "Hand-offs to people, by the owner team they went to.", labels=["team"]
        )
        for team in everything.keys("handoffs"):
            by_owner.add_metric([team], everything.count("handoffs", team))
        pickup = GaugeMetricFamily(
            "actiondesk_pickup_seconds",
            "Mean time from a hand-off until a person picked the case up, over the window.",
            labels=["window", "team"],
        )
        for team in window.keys("pickup"):
            pickup.add_metric([label, team], window.mean("pickup", team) or 0.0)
        waiting = GaugeMetricFamily(
            "actiondesk_handoffs_waiting", "Hand-offs nobody has picked up yet, by owner team.", labels=["team"]
        )
        for team in everything.keys("waiting"):
            waiting.add_metric([team], everything.count("waiting", team))
        return [
            backlog,
            by_owner,
            pickup,
            waiting,
            cases,
            transitions,
            decisions,
            levels,
            mttr,
            by_pattern,
            fcr,
            cost,
            wait,
            CounterMetricFamily(
                "actiondesk_llm_calls", "Model calls made for cases.", value=round(everything.total("llm_calls"))
            ),
            CounterMetricFamily(
                "actiondesk_llm_tokens", "Model tokens spent on cases.", value=round(everything.total("tokens"))
            ),
            CounterMetricFamily(
                "actiondesk_escalations", "Hand-offs to humans.", value=everything.count("escalations")
            ),
            CounterMetricFamily("actiondesk_breaker_trips", "Circuit-breaker trips.", value=everything.count("trips")),
            CounterMetricFamily(
                "actiondesk_reopened_cases", "Cases reopened after closing.", value=everything.count("reopened")
            ),
        ]
