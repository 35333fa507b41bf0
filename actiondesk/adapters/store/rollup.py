"""Metric rollups kept up with the case transitions, in the transaction that makes them.

Each case has a row of *facts* (``case_rollups``): what its case row, its approvals and its audit entries add to
the figures (status, resolution time, plan decisions, spend, approval waits, escalations, hand-offs). A write
transaction that changes any of these (``SqlUnitOfWork``) loads the case's facts once, changes them in memory,
and at the commit writes them back and adds the *difference* between the case's old and new contributions to
``metric_rollups``: one row per (UTC day the case was opened, figure, key) with a total and a count, and the same
under the all-time day ``""``. A /metrics scrape then reads the all-time rows and the window's days: its cost
depends on the number of days and keys, never on the number of stored cases. Replicas agree because the rollups
are rows in the database, written in the transitions' own transactions.

The definitions are those of ``agents/metrics.py`` (a test replays transitions and compares the two).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from actiondesk.core.approval import Approval, ApprovalStatus
from actiondesk.core.audit import AuditEntry, AuditKind
from actiondesk.core.case import Case, CaseStatus

ALL_TIME = ""  # the day of the all-time rows
SEP = "\x1f"  # between a figure's name and its key in the in-memory maps

# Audit kinds counted over the whole chain (actiondesk_case_transitions), whatever case they name.
TRANSITION_KINDS = frozenset(
    {AuditKind.CASE_OPENED, AuditKind.CASE_RESOLVED, AuditKind.CASE_ESCALATED, AuditKind.CASE_FAILED}
)
# Audit kinds that change a case's facts.
FACT_KINDS = frozenset({AuditKind.CASE_ESCALATED, AuditKind.HANDED_OFF, AuditKind.PICKED_UP})

Facts = dict[str, Any]  # JSON: see _contributions for the fields
Totals = dict[str, list[float]]  # "name\x1fkey" -> [total, count]

_SQL = {
    "sqlite": (
        "SELECT facts FROM case_rollups WHERE case_id = ?",
        "INSERT INTO case_rollups (case_id, facts) VALUES (?, ?) "
        "ON CONFLICT (case_id) DO UPDATE SET facts = excluded.facts",
        "INSERT INTO metric_rollups (day, name, key, total, count) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (day, name, key) DO UPDATE SET total = metric_rollups.total + excluded.total, "
        "count = metric_rollups.count + excluded.count",
    ),
    "postgresql": (
        # locked: two transactions changing one case's facts (a step, an approval click) take turns
        "SELECT facts FROM case_rollups WHERE case_id = %s FOR UPDATE",
        "INSERT INTO case_rollups (case_id, facts) VALUES (%s, %s) "
        "ON CONFLICT (case_id) DO UPDATE SET facts = excluded.facts",
        "INSERT INTO metric_rollups (day, name, key, total, count) VALUES (%s, %s, %s, %s, %s) "
        "ON CONFLICT (day, name, key) DO UPDATE SET total = metric_rollups.total + excluded.total, "
        "count = metric_rollups.count + excluded.count",
    ),
}


def case_part(case: Case) -> dict[str, Any]:
    """What the case row itself contributes."""
    outcomes: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    for step in case.plan.steps if case.plan else ():
        if step.decision is not None:
            outcomes[step.decision.outcome.value] += 1
            levels[step.decision.autonomy_level.name.lower()] += 1
    resolved = case.status is CaseStatus.RESOLVED and case.resolved_at is not None
    return {
        "day": day_of(case.created_at),
        "status": case.status.value,
        "mttr": (case.resolved_at - case.created_at).total_seconds() if resolved and case.resolved_at else None,
        "reopened": case.reopened,
        "pattern": case.plan.runbook if case.plan else "(no plan)",
        "cost": case.cost_usd,
        "llm_calls": case.llm_calls,
        "tokens": case.tokens,
        "outcomes": dict(outcomes),
        "levels": dict(levels),
    }


def approval_part(facts: Facts, approval: Approval) -> None:
    """Record a decided approval's wait (``waits``: every decided one, for MTTR without approval waits;
    ``decided``: approved or rejected ones, for the approval-wait figure)."""
    waits: dict[str, float] = facts.setdefault("waits", {})
    decided: dict[str, float] = facts.setdefault("decided", {})
    waits.pop(approval.id, None)
    decided.pop(approval.id, None)
    if approval.decided_at is None or approval.status is ApprovalStatus.PENDING:
        return
    seconds = (approval.decided_at - approval.created_at).total_seconds()
    waits[approval.id] = seconds
    if approval.status in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED):
        decided[approval.id] = seconds


def audit_part(facts: Facts, entry: AuditEntry) -> None:
    """Escalations (and their breaker trips), hand-offs and pick-ups, as ``metrics.gather`` reads them."""
    if entry.kind is AuditKind.CASE_ESCALATED:
        reason = str(entry.payload.get("reason", ""))
        facts["escalations"] = facts.get("escalations", 0) + 1
        if "breaker" in reason:
            facts["trips"] = facts.get("trips", 0) + 1
    elif entry.kind is AuditKind.HANDED_OFF:
        facts.setdefault("handoffs", []).append([str(entry.payload.get("team") or "(none)"), None])
    elif entry.kind is AuditKind.PICKED_UP:
        slots = facts.setdefault("handoffs", [])
        if slots and slots[-1][1] is None:
            after = entry.payload.get("after_seconds")
            slots[-1][1] = float(after) if isinstance(after, int | float) else 0.0


def _contributions(facts: Facts) -> Totals:
    """The figures one case adds, as totals and counts (nothing until its case row is known)."""
    case = facts.get("case")
    if case is None:
        return {}
    out: Totals = {}

    def add(name: str, key: str, total: float, count: float = 1) -> None:
        slot = out.setdefault(f"{name}{SEP}{key}", [0.0, 0.0])
        slot[0] += total
        slot[1] += count

    status = CaseStatus(case["status"])
    group = status.value if status.terminal else "open"
    add("cases", group, 0)
    add("cost", "", case["cost"])
    add("llm_calls", "", case["llm_calls"])
    add("tokens", "", case["tokens"])
    if case["reopened"]:
        add("reopened", "", 0)
    for outcome, n in case["outcomes"].items():
        add("outcome", outcome, 0, n)
    for level, n in case["levels"].items():
        add("level", level, 0, n)
    escalations = facts.get("escalations", 0)
    if escalations:
        add("escalations", "", 0, escalations)
    if facts.get("trips"):
        add("trips", "", 0, facts["trips"])
    if status.terminal:
        add("closed", "", 0)
    mttr = case["mttr"]
    if mttr is not None:
        add("mttr", "", mttr)
        add("mttr_excluded", "", mttr - sum(facts.get("waits", {}).values()))
        add("pattern_mttr", case["pattern"], mttr)
        if escalations == 0 and case["reopened"] == 0:
            add("first_contact", "", 0)
    for seconds in facts.get("decided", {}).values():
        add("approval_wait", "", seconds)
    for team, seconds in facts.get("handoffs", []):
        add("handoffs", team, 0)
        if seconds is None:
            add("waiting", team, 0)
        else:
            add("pickup", team, seconds)
    return out


def _difference(old: Totals, new: Totals) -> Totals:
    delta: Totals = {}
    for key in old.keys() | new.keys():
        before, after = old.get(key, [0.0, 0.0]), new.get(key, [0.0, 0.0])
        change = [after[0] - before[0], after[1] - before[1]]
        if change != [0.0, 0.0]:
            delta[key] = change
    return delta


class Rollups:
    """The metric bookkeeping of one write transaction (see the module docstring)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._select, self._save, self._add = _SQL["sqlite" if connection.dialect.name == "sqlite" else "postgresql"]
        # case -> (contribution, day, stored text) as read, and the facts this transaction changes
        self._facts: dict[str, tuple[Totals, str | None, str, Facts]] = {}
        self._transitions: Counter[str] = Counter()

    def facts(self, case_id: str) -> Facts:
        """The case's facts, read once per transaction; changes to the returned dict are written at ``close``."""
        held = self._facts.get(case_id)
        if held is None:
            row = self._connection.exec_driver_sql(self._select, (case_id,)).first()
            text = str(row[0]) if row is not None else "{}"
            facts: Facts = json.loads(text)
            day = facts["case"]["day"] if "case" in facts else None
            held = self._facts[case_id] = (_contributions(facts), day, text, facts)
        return held[3]

    def case(self, case: Case) -> None:
        self.facts(case.id)["case"] = case_part(case)

    def new_case(self, case: Case) -> None:
        """A case inserted in this transaction: it has no facts yet, so there are none to read."""
        if case.id not in self._facts:
            self._facts[case.id] = (_contributions({}), None, "{}", {})
        self.case(case)

    def approval(self, approval: Approval) -> None:
        approval_part(self.facts(approval.case_id), approval)

    def audit(self, entry: AuditEntry) -> None:
        if entry.kind in TRANSITION_KINDS:
            self._transitions[entry.kind.value] += 1
        if entry.kind in FACT_KINDS and entry.case_id is not None:
            audit_part(self.facts(entry.case_id), entry)

    def close(self) -> None:
        """Write the changed facts and add the differences to the rollups (before the commit)."""
        saves: list[tuple[str, str]] = []
        changes: defaultdict[tuple[str, str, str], float] = defaultdict(float)
        counts: defaultdict[tuple[str, str, str], float] = defaultdict(float)
        for case_id, (before, old_day, stored, facts) in sorted(self._facts.items()):
            text = json.dumps(facts, separators=(",", ":"), sort_keys=True)
            if text == stored:
                continue
            saves.append((case_id, text))
            after = _contributions(facts)
            new_day = facts["case"]["day"] if "case" in facts else None
            moves = [(old_day, before, after)] if old_day == new_day else [(old_day, before, {}), (new_day, {}, after)]
            for day, old, new in moves:
                if day is None:
                    continue
                for key, (total, count) in _difference(old, new).items():
                    name, label = key.split(SEP, 1)
                    for bucket in (day, ALL_TIME):
                        changes[bucket, name, label] += total
                        counts[bucket, name, label] += count
        for kind, n in self._transitions.items():
            counts[ALL_TIME, "transitions", kind] += n
        self._facts.clear()
        self._transitions.clear()
        if saves:
            self._connection.exec_driver_sql(self._save, saves)
        rows = [(d, n, k, changes[d, n, k], round(counts[d, n, k])) for d, n, k in changes.keys() | counts.keys()]
        if rows:
            self._connection.exec_driver_sql(self._add, sorted(rows))  # sorted: one lock order across replicas


@dataclass(frozen=True)
class Figures:
    """Rollup rows summed: "name\x1fkey" -> (total, count)."""

    rows: Mapping[str, tuple[float, float]]

    def count(self, name: str, key: str = "") -> int:
        return round(self.rows.get(f"{name}{SEP}{key}", (0.0, 0.0))[1])

    def total(self, name: str, key: str = "") -> float:
        return self.rows.get(f"{name}{SEP}{key}", (0.0, 0.0))[0]

    def mean(self, name: str, key: str = "") -> float | None:
        total, count = self.rows.get(f"{name}{SEP}{key}", (0.0, 0.0))
        return total / count if round(count) else None

    def keys(self, name: str) -> list[str]:
        """The keys of ``name`` with a nonzero count, sorted."""
        prefix = f"{name}{SEP}"
        return sorted(k[len(prefix) :] for k, (_, n) in self.rows.items() if k.startswith(prefix) and round(n))


def figures(rows: Iterable[tuple[str, str, float, float]]) -> Figures:
    return Figures({f"{name}{SEP}{key}": (float(total), float(count)) for name, key, total, count in rows})


def day_of(at: datetime) -> str:
    """The day a rollup row of a case opened at ``at`` is kept under (UTC)."""
    return at.astimezone(UTC).date().isoformat()


def backfill(connection: Connection) -> None:
    """Build every case's facts and the rollups from the stored history (migration 0011), replacing any."""
    from sqlalchemy import delete, func, insert, select

    from actiondesk.adapters.store.mapping import approval_from, case_from, entry_from
    from actiondesk.adapters.store.tables import (
        approvals,
        audit_entries,
        case_rollups,
        cases,
        metric_rollups,
    )

    connection.execute(delete(case_rollups))
    connection.execute(delete(metric_rollups))
    facts: dict[str, Facts] = {}
    for row in connection.execute(select(approvals).where(approvals.c.decided_at.is_not(None))).mappings():
        approval = approval_from(row)
        approval_part(facts.setdefault(approval.case_id, {}), approval)
    kinds = sorted(k.value for k in FACT_KINDS)
    query = select(audit_entries).where(audit_entries.c.kind.in_(kinds)).order_by(audit_entries.c.seq)
    for row in connection.execute(query).mappings():
        entry = entry_from(row)
        if entry.case_id is not None:
            audit_part(facts.setdefault(entry.case_id, {}), entry)
    totals: defaultdict[tuple[str, str, str], float] = defaultdict(float)
    counts: defaultdict[tuple[str, str, str], float] = defaultdict(float)
    batch: list[dict[str, str]] = []
    for row in connection.execute(select(cases)).mappings().all():
        case = case_from(row)
        held = facts.pop(case.id, {})
        held["case"] = case_part(case)
        batch.append({"case_id": case.id, "facts": json.dumps(held, separators=(",", ":"), sort_keys=True)})
        for key, (total, count) in _contributions(held).items():
            name, label = key.split(SEP, 1)
            for bucket in (held["case"]["day"], ALL_TIME):
                totals[bucket, name, label] += total
                counts[bucket, name, label] += count
        if len(batch) >= 1000:
            connection.execute(insert(case_rollups), batch)
            batch = []
    if batch:
        connection.execute(insert(case_rollups), batch)
    # audit entries naming a case that is not stored keep their facts too, as appends would have
    leftover = [
        {"case_id": case_id, "facts": json.dumps(held, separators=(",", ":"), sort_keys=True)}
        for case_id, held in facts.items()
    ]
    if leftover:
        connection.execute(insert(case_rollups), leftover)
    kind_counts = select(audit_entries.c.kind, func.count()).where(
        audit_entries.c.kind.in_(sorted(k.value for k in TRANSITION_KINDS))
    )
    for kind, n in connection.execute(kind_counts.group_by(audit_entries.c.kind)):
        counts[ALL_TIME, "transitions", str(kind)] += int(n)
    rows = [
        {"day": d, "name": n, "key": k, "total": totals[d, n, k], "count": round(counts[d, n, k])}
        for d, n, k in sorted(totals.keys() | counts.keys())
    ]
    if rows:
        connection.execute(insert(metric_rollups), rows)
