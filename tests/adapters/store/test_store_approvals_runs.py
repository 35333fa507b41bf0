from __future__ import annotations

from datetime import timedelta

import pytest
from store_factories import T0, a_case, a_run, an_approval, race

from actiondesk.adapters.store import SqlStore
from actiondesk.core.approval import Approval, ApprovalStatus
from actiondesk.core.errors import ApprovalNotFoundError, CaseNotFoundError, NotFoundError
from actiondesk.core.runs import ActionRun, RunStatus


@pytest.fixture
def with_case(store: SqlStore) -> SqlStore:
    with store.transaction() as uow:
        uow.add_case(a_case())
    return store


def _decide(store: SqlStore, approval: Approval, approver: str) -> bool:
    decided = approval.model_copy(
        update={"status": ApprovalStatus.APPROVED, "decided_by": approver, "decided_at": T0 + timedelta(minutes=1)}
    )
    with store.transaction() as uow:
        return uow.transition_approval(decided, ApprovalStatus.PENDING)


def test_approvals_round_trip_and_filter(with_case: SqlStore) -> None:
    store = with_case
    with store.transaction() as uow:
        uow.add_approval(an_approval("appr-1"))
        uow.add_approval(an_approval("appr-2"))
        assert uow.get_approval("appr-1") == an_approval("appr-1")

    assert _decide(store, an_approval("appr-2"), "sam")
    assert [a.id for a in store.approvals()] == ["appr-1", "appr-2"]
    assert [a.id for a in store.approvals(status=ApprovalStatus.PENDING)] == ["appr-1"]
    approved = store.approvals(case_id="case-1", status=ApprovalStatus.APPROVED)
    assert [(a.id, a.decided_by, a.decided_at) for a in approved] == [("appr-2", "sam", T0 + timedelta(minutes=1))]
    assert store.approvals(case_id="other") == []


def test_approval_errors(with_case: SqlStore) -> None:
    with pytest.raises(ApprovalNotFoundError), with_case.transaction() as uow:
        uow.get_approval("nope")
    with pytest.raises(CaseNotFoundError), with_case.transaction() as uow:
        uow.add_approval(an_approval(case_id="no-such-case"))


def test_two_racing_approvers_exactly_one_wins(with_case: SqlStore) -> None:
    store = with_case
    rounds = 10
    with store.transaction() as uow:
        for n in range(rounds):
            uow.add_approval(an_approval(f"appr-{n}"))

    for n in range(rounds):
        approval = an_approval(f"appr-{n}")
        results = race(lambda: _decide(store, approval, "sam"), lambda: _decide(store, approval, "kim"))  # noqa: B023
        assert sorted(results) == [False, True]
        stored = store.approvals(status=ApprovalStatus.APPROVED)[-1]
        assert stored.decided_by == ["sam", "kim"][results.index(True)]


def test_claim_run_is_idempotent(with_case: SqlStore) -> None:
    store = with_case
    with store.transaction() as uow:
        first, created = uow.claim_run(a_run(service="payment-gateway"))
    with store.transaction() as uow:
        again, created_again = uow.claim_run(a_run(service="something else"))

    assert created
    assert not created_again
    assert again == first == a_run(service="payment-gateway")


def test_claim_run_under_two_threads_creates_one(with_case: SqlStore) -> None:
    store = with_case

    def claim(key: str, owner: str) -> tuple[ActionRun, bool]:
        with store.transaction() as uow:
            return uow.claim_run(a_run(key, owner=owner))

    for n in range(10):
        results = race(lambda: claim(f"run-{n}", "a"), lambda: claim(f"run-{n}", "b"))  # noqa: B023
        assert sorted(created for _, created in results) == [False, True]
        assert results[0][0] == results[1][0]


def test_runs_are_saved_and_listed(with_case: SqlStore) -> None:
    store = with_case
    with store.transaction() as uow:
        run, _ = uow.claim_run(a_run("run-1"))
        uow.claim_run(a_run("run-0", None))
        finished = run.model_copy(
            update={"status": RunStatus.SUCCEEDED, "result": {"version": "v2.4.0"}, "finished_at": T0}
        )
        uow.save_run(finished)
        with pytest.raises(NotFoundError):
            uow.save_run(a_run("never-claimed"))
        with pytest.raises(CaseNotFoundError):
            uow.claim_run(a_run("orphan", "no-such-case"))

    assert store.runs("case-1") == [finished]
