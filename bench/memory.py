"""In-memory stand-ins for the bench only: a store and an estate with constant-time answers, so the loop
benchmark measures ActionDesk's own overhead per step and no I/O."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from actiondesk.actions.catalog import Catalog
from actiondesk.actions.executor import Executor
from actiondesk.actions.packs import builtin_packs
from actiondesk.actions.spec import ActionContext
from actiondesk.agents.governance import Governance, PolicyData
from actiondesk.agents.loop import CaseLoop, LoopSettings
from actiondesk.agents.ownership import OwnerBook, TakeOver
from actiondesk.agents.planner import RunbookPlanner, builtin_runbook_paths
from actiondesk.agents.record import Recorder
from actiondesk.agents.triage import Triage, TriageSettings
from actiondesk.core.approval import Approval, ApprovalStatus
from actiondesk.core.audit import GENESIS, AuditDraft, AuditEntry, canonical_json, entry_hash
from actiondesk.core.case import Case, CaseStatus
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.errors import ConcurrencyError
from actiondesk.core.estate import Change, Deployment, LogLine, Person, Point, Series, Service, ServicePods
from actiondesk.core.redact import redact
from actiondesk.core.runs import ActionRun


class MemoryStore:
    def __init__(self) -> None:
        self.cases: dict[str, Case] = {}
        self.approvals_: dict[str, Approval] = {}
        self.runs_: dict[str, ActionRun] = {}
        self.entries: list[AuditEntry] = []
        self.by_case: dict[str | None, list[AuditEntry]] = {}
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[MemoryStore]:
        with self._lock:
            yield self

    def add_case(self, case: Case) -> Case:
        self.cases[case.id] = case.model_copy(update={"version": 1})
        return self.cases[case.id]

    def get_case(self, case_id: str) -> Case:
        return self.cases[case_id]

    def save_case(self, case: Case) -> Case:
        if self.cases[case.id].version != case.version:
            raise ConcurrencyError(case.id)
        self.cases[case.id] = case.model_copy(update={"version": case.version + 1})
        return self.cases[case.id]

    def add_approval(self, approval: Approval) -> None:
        self.approvals_[approval.id] = approval

    def get_approval(self, approval_id: str) -> Approval:
        return self.approvals_[approval_id]

    def transition_approval(self, approval: Approval, expected: ApprovalStatus) -> bool:
        if self.approvals_[approval.id].status is not expected:
            return False
        self.approvals_[approval.id] = approval
        return True

    def claim_run(self, run: ActionRun) -> tuple[ActionRun, bool]:
        if run.key in self.runs_:
            return self.runs_[run.key], False
        self.runs_[run.key] = run
        return run, True

    def save_run(self, run: ActionRun) -> None:
        self.runs_[run.key] = run

    def append_audit(self, draft: AuditDraft) -> AuditEntry:
        prev = self.entries[-1].hash if self.entries else GENESIS
        seq = len(self.entries) + 1
        payload = canonical_json(redact(draft.payload))
        digest = entry_hash(seq, draft.kind.value, draft.case_id, draft.actor, draft.at, payload, prev)
        entry = AuditEntry(
            seq=seq,
            kind=draft.kind,
            case_id=draft.case_id,
            actor=draft.actor,
            at=draft.at,
            payload=draft.payload,
            prev_hash=prev,
            hash=digest,
        )
        self.entries.append(entry)
        self.by_case.setdefault(entry.case_id, []).append(entry)
        return entry

    def audit(self, case_id: str | None = None, after_seq: int = 0) -> Iterator[AuditEntry]:
        found = self.entries if case_id is None else self.by_case.get(case_id, [])
        return iter([e for e in found if e.seq > after_seq])

    def list_cases(self, statuses: frozenset[CaseStatus] | None = None, limit: int = 100) -> list[Case]:
        return [c for c in self.cases.values() if statuses is None or c.status in statuses][:limit]

    def approvals(self, case_id: str | None = None, status: ApprovalStatus | None = None) -> list[Approval]:
        return [
            a
            for a in self.approvals_.values()
            if (case_id is None or a.case_id == case_id) and (status is None or a.status is status)
        ]

    def claim_lease(self, case_id: str, owner: str, now: datetime, seconds: float) -> bool:
        return True

    def release_lease(self, case_id: str, owner: str) -> None:
        return None


class FixedEstate:
    """One staging service with a bad deploy; every answer is precomputed."""

    def __init__(self, now: datetime) -> None:
        self.svc = Service("search", 3, "staging", "v1.3.0")
        onset = now - timedelta(minutes=5)
        self._bad = [
            Point(now - timedelta(minutes=60 - i), 0.3 if now - timedelta(minutes=60 - i) >= onset else 0.003)
            for i in range(61)
        ]
        self._good = [Point(now - timedelta(minutes=5 - i), 0.003) for i in range(6)]
        self._deploys = [
            Deployment("search", "v1.3.0", "abc1234", onset - timedelta(minutes=2), "dev"),
            Deployment("search", "v1.2.0", "def5678", onset - timedelta(days=3), "dev"),
        ]
        self._logs = [LogLine(onset, "search", "ERROR", "GET /q -> 500", "0" * 32, "v1.3.0")]
        self.rolled_back = False

    def service(self, name: str) -> Service:
        return self.svc

    def services(self) -> list[Service]:
        return [self.svc]

    def error_rate(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        return Series(service, "error_rate", tuple(self._good if self.rolled_back else self._bad))

    def latency_p95(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        return Series(service, "latency_p95_ms", ())

    def cpu(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        return Series(service, "cpu_pct", ())

    def pods(self, service: str, at: datetime) -> ServicePods:
        return ServicePods(service, at, 0, ())

    def unready_replicas(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        return Series(service, "unready_replicas", ())

    def restarts(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        return Series(service, "restarts", ())

    def logs(self, service: str, start: datetime, end: datetime, **_: object) -> list[LogLine]:
        return self._logs

    def deployments(self, service: str, limit: int = 10) -> list[Deployment]:
        return self._deploys[:limit]

    def changes(self, service: str, start: datetime, end: datetime) -> list[Change]:
        return []

    def rollback(self, service: str, to_version: str, *, reason: str) -> Deployment:
        self.rolled_back = True
        self.svc = Service("search", 3, "staging", to_version)
        return Deployment("search", to_version, "def5678", self._deploys[0].deployed_at, "actiondesk", "rollback")

    def person(self, name: str) -> Person | None:
        return None

    def members(self, group: str) -> frozenset[str]:
        return frozenset()

    def reset(self) -> None:
        self.rolled_back = False
        self.svc = Service("search", 3, "staging", "v1.3.0")


def memory_loop(now: datetime, *, hooked: bool = False) -> tuple[CaseLoop, FixedEstate]:
    """The case loop on the in-memory store and the fixed estate (bench/run.py's step loop, bench/caseloop.py's
    bare baseline); ``hooked``: with the Recorder's take-over hook (owners, lone-action notices, the post-mortem
    at resolution) as `serve` runs it."""
    clock = SimulatedClock(now)
    estate = FixedEstate(now)
    store = MemoryStore()
    catalog = Catalog(builtin_packs())
    executor = Executor(catalog, ActionContext(estate, estate, estate, clock), store, "actiondesk")
    hook = TakeOver(OwnerBook.from_file(None, estate), estate, store, clock, agent="actiondesk") if hooked else None
    loop = CaseLoop(
        Recorder(store, clock, "actiondesk", hook=hook),
        executor,
        Triage(executor, estate, TriageSettings()),
        RunbookPlanner.from_paths(builtin_runbook_paths()),
        Governance(catalog, estate, PolicyData()),
        LoopSettings(verify_interval_seconds=1),
        owner="bench",
    )
    return loop, estate
