"""Rollback on request: the inverse of a finished run opens a case that governance decides like any other."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from actiondesk.core.audit import AuditKind
from actiondesk.core.case import CaseKind, CaseStatus
from actiondesk.core.errors import ActionError, InvalidParametersError, NotFoundError
from actiondesk.core.runs import ActionRun, RunStatus

if TYPE_CHECKING:
    from conftest import Desk


def _rolled_back_staging(desk: Desk) -> str:
    """search's bad deploy rolled back on its own (staging); returns the run's key."""
    desk.bad_deploy("search", "v1.9.0", "3b7e1c4")
    case = desk.report("search is returning errors")
    assert case.status is CaseStatus.RESOLVED
    (run,) = desk.store.runs(case.id)
    assert run.status is RunStatus.SUCCEEDED
    return run.key


def test_rollback_of_a_staging_rollback_redeploys_what_ran_before(desk: Desk) -> None:
    key = _rolled_back_staging(desk)
    assert desk.estate.service("search").version == "v1.8.2"

    case = desk.runtime.rollbacks.request(key, "carol")

    assert (case.kind, case.reporter, case.status) == (CaseKind.REQUEST, "carol", CaseStatus.ACTING)
    assert case.plan is not None
    (step,) = case.plan.steps
    assert step.call.action == "rollback_deployment"
    assert step.call.params["to_version"] == "v1.9.0"
    assert step.call.params["from_version"] == "v1.8.2"
    case = desk.runtime.loop.run(case.id)
    assert case.status is CaseStatus.RESOLVED
    assert desk.estate.service("search").version == "v1.9.0"
    kinds = desk.kinds(case.id)
    assert kinds.index(AuditKind.PLAN) < kinds.index(AuditKind.DECISION) < kinds.index(AuditKind.ACTION_STARTED)
    assert desk.store.verify_audit().ok


def test_rollback_in_production_waits_for_approval_like_any_action(desk: Desk) -> None:
    desk.bad_deploy()
    case = desk.report()
    case = desk.approve(case.id, "bob")
    assert case.status is CaseStatus.RESOLVED
    (run,) = desk.store.runs(case.id)

    undo = desk.runtime.loop.run(desk.runtime.rollbacks.request(run.key, "carol").id)

    assert undo.status is CaseStatus.AWAITING_APPROVAL
    (approval,) = desk.pending(undo.id)
    assert (approval.group, approval.requested_by) == ("sre", "carol")
    assert approval.call.params["to_version"] == "v2.5.0"
    assert desk.estate.service("payment-gateway").version == "v2.4.1", "nothing runs before the approval"


def test_unknown_run_is_not_found(desk: Desk) -> None:
    with pytest.raises(NotFoundError, match="no action run C-nope/step-0"):
        desk.runtime.rollbacks.request("C-nope/step-0", "carol")


def _stored(desk: Desk, status: RunStatus, snapshot: dict) -> str:
    run = ActionRun(
        key=f"manual/{status.value}",
        case_id=None,
        action="rollback_deployment",
        params={"service": "search", "to_version": "v1.8.2"},
        status=status,
        snapshot=snapshot,
        started_at=desk.clock.now(),
    )
    with desk.store.transaction() as uow:
        uow.claim_run(run)
    return run.key


def test_a_run_that_did_not_succeed_is_not_rolled_back(desk: Desk) -> None:
    key = _stored(desk, RunStatus.FAILED, {"service": "search", "version": "v1.9.0"})
    with pytest.raises(ActionError, match="only a succeeded run is rolled back"):
        desk.runtime.rollbacks.request(key, "carol")
    assert desk.store.list_cases() == []


def test_a_run_without_an_inverse_is_refused(desk: Desk) -> None:
    key = _stored(desk, RunStatus.SUCCEEDED, {"service": "search", "version": None})
    with pytest.raises(ActionError, match="has no inverse"):
        desk.runtime.rollbacks.request(key, "carol")


def test_an_inverse_the_catalog_cannot_run_is_refused_before_a_case_opens(desk: Desk) -> None:
    key = _stored(desk, RunStatus.SUCCEEDED, {"service": "search", "version": "v1.9.0; rm -rf /"})
    with pytest.raises(InvalidParametersError, match="to_version: String should match pattern"):
        desk.runtime.rollbacks.request(key, "carol")
    assert desk.store.list_cases() == []
