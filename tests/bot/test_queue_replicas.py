"""Three replicas drain 2,000 queued cases from one PostgreSQL database while one of them is SIGKILLed twice:
every case is worked (none lost), no case's step is applied twice, and the audit chain verifies.

The cases are queued the way a burst leaves them: stored, open, nobody working them. The replicas claim them
with ``FOR UPDATE SKIP LOCKED``; a killed replica's cases are claimed again once their lease runs out.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from serverproc import ROOT, ServerProcess, server_env, wait_for
from sqlalchemy import func, select

from actiondesk.adapters.store import SqlStore, make_engine
from actiondesk.adapters.store.migrate import upgrade
from actiondesk.adapters.store.tables import cases
from actiondesk.agents.loop import QUEUED
from actiondesk.core.audit import AuditDraft, AuditKind
from actiondesk.core.case import Case, CaseKind

pytestmark = [pytest.mark.postgres, pytest.mark.long]

COUNT = int(os.environ.get("ACTIONDESK_QUEUE_TEST_CASES", "2000"))  # fewer for a quick local run
DRAIN_TIMEOUT = 900.0  # a bound on a stuck drain (the test fails naming it), not a performance goal


def _queue(store: SqlStore) -> None:
    start = datetime.now(UTC) - timedelta(minutes=5)
    for first in range(0, COUNT, 500):
        with store.transaction() as uow:
            for n in range(first, min(COUNT, first + 500)):
                at = start + timedelta(milliseconds=n)
                case = Case(
                    id=f"C-q{n:05d}",
                    kind=CaseKind.INCIDENT,
                    title="a queued report",
                    text=f"my laptop cannot reach the wiki (report {n})",
                    reporter="alice",
                    created_at=at,
                    updated_at=at,
                )
                uow.add_case(case)
                uow.append_audit(
                    AuditDraft(kind=AuditKind.CASE_OPENED, case_id=case.id, actor="alice", at=at, payload={"n": n})
                )


def _left(store: SqlStore) -> int:
    query = select(func.count()).select_from(cases).where(cases.c.status.in_([s.value for s in QUEUED]))
    with store._engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def test_three_replicas_drain_the_queue_while_one_is_killed_twice(postgres_url: str) -> None:
    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    store = SqlStore(engine)
    _queue(store)
    env = server_env(postgres_url, ACTIONDESK_LEASE_SECONDS="3", ACTIONDESK_TRIAGE_WATCH_SECONDS="0")
    replicas = [ServerProcess.start(env, ROOT) for _ in range(3)]
    kills = 0
    try:
        for threshold in (COUNT * 3 // 4, COUNT // 3):  # kill the first replica at two points of the drain
            wait_for(lambda t=threshold: _left(store) <= t, f"the queue to fall to {threshold}", DRAIN_TIMEOUT)
            replicas[0].process.kill()  # SIGKILL: its claimed cases keep their leases until they run out
            replicas[0].process.wait(timeout=30)
            kills += 1
            replicas[0] = ServerProcess.start(env, ROOT)
        wait_for(lambda: _left(store) == 0, "the queue to drain", DRAIN_TIMEOUT)
    finally:
        for replica in replicas:
            replica.stop()
    assert kills == 2
    stored = store.list_cases(limit=COUNT + 10)
    assert len(stored) == COUNT
    assert all(c.status not in QUEUED for c in stored)  # none lost: every case was worked to a stop
    entries = [e for e in store.audit() if e.case_id is not None]
    # none twice: each case's one-off entries appear once (a step redone after a crash would repeat them)
    for kind in (AuditKind.CASE_OPENED, AuditKind.FINDING, AuditKind.CASE_ESCALATED, AuditKind.CASE_RESOLVED):
        repeated = {case: n for case, n in Counter(e.case_id for e in entries if e.kind is kind).items() if n > 1}
        assert repeated == {}, f"{kind.value} written more than once for {sorted(repeated)[:5]}"
    assert {e.case_id for e in entries if e.kind is AuditKind.FINDING} == {c.id for c in stored}
    report = store.verify_audit()
    assert report.ok, report
    engine.dispose()
