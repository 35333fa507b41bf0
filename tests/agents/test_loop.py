"""The case loop end to end, on the real store (SQLite and PostgreSQL) and the sandbox estate, on simulated time."""

from __future__ import annotations

from itertools import groupby
from typing import TYPE_CHECKING

from actiondesk.adapters.sandbox import DEFAULT_START, FaultKind, FaultRecord, default_estate
from actiondesk.agents.governance import PolicyData, load_policies
from actiondesk.core.audit import AuditKind
from actiondesk.core.case import CaseKind, CaseStatus
from actiondesk.core.governance import Outcome
from actiondesk.core.plan import StepStatus
from actiondesk.core.runs import RunStatus

if TYPE_CHECKING:
    from conftest import Desk, MakeDesk

K = AuditKind


def story(kinds: list[AuditKind]) -> list[AuditKind]:
    """The case's audit kinds with the agent's chat lines dropped and runs of one kind folded into one."""
    head, tail = kinds[:2], [k for k in kinds[2:] if k is not K.MESSAGE]
    return head + [kind for kind, _ in groupby(tail)]


def test_bad_production_deploy_waits_for_sre_then_rolls_back_once_and_resolves(desk: Desk) -> None:
    desk.bad_deploy()
    case = desk.report()

    assert case.status is CaseStatus.AWAITING_APPROVAL
    (approval,) = desk.pending(case.id)
    # The card's parameters are computed by code from the deployment history, not made up.
    assert approval.call.action == "rollback_deployment"
    assert approval.call.params["service"] == "payment-gateway"
    assert approval.call.params["to_version"] == "v2.4.1"
    assert approval.call.params["from_version"] == "v2.5.0"
    assert (approval.group, approval.requested_by, approval.production) == ("sre", "alice", True)
    assert desk.rollbacks("payment-gateway") == []

    case = desk.approve(case.id, "bob")

    assert case.status is CaseStatus.RESOLVED
    assert desk.rollbacks("payment-gateway") == ["v2.4.1"]
    (run,) = desk.store.runs(case.id)
    assert run.status is RunStatus.SUCCEEDED
    assert case.finding is not None
    assert case.finding.culprit is not None
    assert (case.finding.culprit.version, case.finding.culprit.commit) == ("v2.5.0", "9f3c2ab")
    assert story(desk.kinds(case.id)) == [
        K.CASE_OPENED,
        K.MESSAGE,
        K.OBSERVATION,
        K.FINDING,
        K.PLAN,
        K.DECISION,
        K.APPROVAL_REQUESTED,
        K.APPROVAL,
        K.ACTION_STARTED,
        K.ACTION_RESULT,
        K.OBSERVATION,
        K.VERIFICATION,
        K.CASE_RESOLVED,
        K.POSTMORTEM,
    ]
    decision = next(e for e in desk.audit(case.id) if e.kind is K.DECISION)
    assert decision.payload["outcome"] == "approve"
    assert decision.payload["policy_ids"] == ["autonomy.default.production", "ladder.approve"]
    assert decision.payload["policy_hash"] == load_policies().hash, "each decision names the policy set it used"
    verification = next(e for e in desk.audit(case.id) if e.kind is K.VERIFICATION)
    assert verification.payload["ok"] is True
    assert verification.payload["signal"] == "error_rate"
    assert desk.store.verify_audit().ok


def test_staging_bad_deploy_is_rolled_back_without_asking(desk: Desk) -> None:
    desk.bad_deploy("search", "v1.9.0", "3b7e1c4")
    case = desk.report("search is returning errors")

    assert case.status is CaseStatus.RESOLVED
    assert case.plan is not None
    (step,) = case.plan.steps
    assert step.decision is not None
    assert step.decision.outcome is Outcome.ALLOW
    assert desk.store.approvals(case.id) == []
    assert desk.rollbacks("search") == ["v1.8.2"]


def test_tier0_at_autonomy_3_still_waits_for_approval(make_desk: MakeDesk) -> None:
    desk = make_desk(policy=PolicyData(autonomy={"orders-db": 3}))
    desk.bad_deploy("orders-db", "v15.5", "d41e7b9")
    case = desk.report("the orders database is throwing errors on every write")

    assert case.status is CaseStatus.AWAITING_APPROVAL
    (approval,) = desk.pending(case.id)
    assert approval.group == "sre"
    assert "tier0.never_autonomous" in approval.policy_ids
    assert desk.rollbacks("orders-db") == []


def test_fault_without_a_preceding_deploy_gets_no_invented_culprit(desk: Desk) -> None:
    desk.wait(60)
    desk.fault("payment-gateway", 0.3)
    desk.wait(60)
    case = desk.report("payments are failing with 500 errors")

    assert case.status is CaseStatus.ESCALATED
    assert case.finding is not None
    assert case.finding.abstained
    assert case.finding.culprit is None
    assert case.plan is None
    assert desk.store.runs(case.id) == []


def test_a_message_naming_no_service_investigates_the_one_chain_of_trouble(desk: Desk) -> None:
    desk.bad_deploy()
    case = desk.report("the flux capacitor is throwing 500s")

    assert case.finding is not None
    assert case.finding.culprit is not None
    assert (case.finding.culprit.service, case.finding.culprit.commit) == ("payment-gateway", "9f3c2ab")
    assert case.status is CaseStatus.AWAITING_APPROVAL


def test_a_message_naming_no_service_on_a_healthy_estate_asks_instead_of_guessing(desk: Desk) -> None:
    case = desk.report("the flux capacitor is throwing 500s")

    assert case.status is CaseStatus.AWAITING_REPLY
    assert case.finding is not None
    assert case.finding.abstained
    assert case.finding.service is None
    assert case.plan is None
    assert set(case.finding.candidates) == {s.name for s in desk.estate.services()}


def test_step_bound_escalates_instead_of_looping_on(make_desk: MakeDesk) -> None:
    desk = make_desk(max_steps=2)
    desk.bad_deploy()
    case = desk.report()

    assert case.status is CaseStatus.ESCALATED
    escalation = [e for e in desk.audit(case.id) if e.kind is K.CASE_ESCALATED]
    assert len(escalation) == 1
    assert "step bound" in str(escalation[0].payload["reason"])
    assert desk.store.approvals(case.id) == []


def test_fault_the_rollback_does_not_cure_escalates_instead_of_resolving(make_desk: MakeDesk) -> None:
    # A second fault, bound to no version, starts with the deploy's own: the rollback ends only the latter.
    untied = FaultRecord(
        id="fault-untied", service="search", kind=FaultKind.ERROR_RATE, value=0.1, start=DEFAULT_START.replace(minute=1)
    )
    state = default_estate(DEFAULT_START)
    desk = make_desk(
        state=state.model_copy(update={"faults": (untied,)}), verify_timeout_seconds=30, verify_interval_seconds=10
    )
    desk.bad_deploy("search", "v1.9.0", "3b7e1c4")
    case = desk.report("search is returning errors")

    assert desk.rollbacks("search") == ["v1.8.2"], "the rollback itself ran"
    assert case.status is CaseStatus.ESCALATED
    assert case.resolved_at is None
    kinds = desk.kinds(case.id)
    assert K.CASE_RESOLVED not in kinds
    checks = [e.payload for e in desk.audit(case.id) if e.kind is K.VERIFICATION]
    assert len(checks) == 1
    assert checks[0]["ok"] is False
    assert float(checks[0]["current"]) > float(checks[0]["limit"])  # type: ignore[arg-type]
    after = kinds[kinds.index(K.ACTION_RESULT) :]
    assert after.count(K.OBSERVATION) == 3, "one read per interval until the timeout"


def test_running_a_finished_case_again_changes_nothing(desk: Desk) -> None:
    desk.bad_deploy("search", "v1.9.0", "3b7e1c4")
    case = desk.report("search is returning errors")
    assert case.status is CaseStatus.RESOLVED
    before = desk.audit(case.id)

    again = desk.runtime.loop.run(case.id)
    desk.runtime.loop.run(case.id)

    assert again.status is CaseStatus.RESOLVED
    assert desk.audit(case.id) == before
    assert desk.rollbacks("search") == ["v1.8.2"]
    assert len(desk.store.runs(case.id)) == 1


def test_run_does_not_advance_a_case_leased_by_another_worker(desk: Desk) -> None:
    desk.bad_deploy("search", "v1.9.0", "3b7e1c4")
    case = desk.runtime.loop.open_case("search is returning errors", "alice")
    assert desk.store.claim_lease(case.id, "other-replica:42", desk.clock.now(), 30)
    before = desk.audit(case.id)

    held = desk.runtime.loop.run(case.id)

    assert held.status is CaseStatus.OPEN
    assert desk.audit(case.id) == before
    assert desk.rollbacks("search") == []

    desk.wait(31)  # the other replica died: its lease runs out and this worker takes the case over
    assert desk.runtime.loop.run(case.id).status is CaseStatus.RESOLVED
    assert desk.rollbacks("search") == ["v1.8.2"]


STAGING_PAIR = """
name: roll-back-staging-pair
description: Test runbook, a request with two steps.
when: {finding: request}
goal: "Put {finding.service} and search back on their previous builds"
steps:
  - action: rollback_deployment
    rationale: "search first"
    params: {service: search, to_version: v1.8.0, from_version: v1.8.2, reason: "request {case.id}"}
  - action: rollback_deployment
    rationale: "then the indexer"
    params: {service: search-indexer, to_version: v0.9.0, from_version: v0.9.1, reason: "request {case.id}"}
verify: actions
"""


def test_request_with_two_steps_runs_both_in_order_and_resolves(make_desk: MakeDesk, tmp_path) -> None:
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "roll-back-staging-pair.yaml").write_text(STAGING_PAIR)
    desk = make_desk(
        world={"services": {"search-indexer": {"tier": 3, "environment": "staging", "version": "v0.9.1"}}},
        runbook_dir=tmp_path / "runbooks",
    )
    case = desk.runtime.loop.open_case(
        "Please put search-indexer and search back on their previous builds", "alice", kind=CaseKind.REQUEST
    )
    case = desk.runtime.loop.run(case.id)

    assert case.status is CaseStatus.RESOLVED
    assert case.plan is not None
    assert [s.status for s in case.plan.steps] == [StepStatus.SUCCEEDED, StepStatus.SUCCEEDED]
    started = [e.payload["params"] for e in desk.audit(case.id) if e.kind is K.ACTION_STARTED]
    assert [p["service"] for p in started] == ["search", "search-indexer"]  # type: ignore[index]
    assert desk.rollbacks("search") == ["v1.8.0"]
    assert desk.rollbacks("search-indexer") == ["v0.9.0"]
    (verification,) = [e.payload for e in desk.audit(case.id) if e.kind is K.VERIFICATION]
    assert verification == {"signal": "actions", "ok": True}


def test_a_new_complaint_reopens_a_resolved_case_and_its_new_rollback_really_runs(desk: Desk) -> None:
    desk.bad_deploy()
    case = desk.report()
    case = desk.approve(case.id)
    assert case.status is CaseStatus.RESOLVED
    assert desk.rollbacks("payment-gateway") == ["v2.4.1"]

    desk.wait(600)
    desk.bad_deploy(version="v2.6.0", commit="aa11bb2")
    reopened = desk.runtime.loop.add_message(case.id, "alice", "payment gateway is throwing 500s again")
    assert (reopened.status, reopened.reopened) == (CaseStatus.TRIAGING, 1)

    case = desk.runtime.loop.run(case.id)
    assert case.status is CaseStatus.AWAITING_APPROVAL
    assert case.finding is not None
    assert case.finding.culprit is not None
    assert case.finding.culprit.version == "v2.6.0"
    case = desk.approve(case.id)

    # The second plan's step 0 is a new call: it must not be taken for a replay of the first plan's step 0.
    assert desk.rollbacks("payment-gateway") == ["v2.4.1", "v2.4.1"]
    assert case.status is CaseStatus.RESOLVED
    assert case.reopened == 1
    assert [r.params["from_version"] for r in desk.store.runs(case.id)] == ["v2.5.0", "v2.6.0"]
    assert desk.store.verify_audit().ok


def test_an_informational_reply_does_not_reopen(desk: Desk) -> None:
    desk.bad_deploy("search", "v1.9.0", "3b7e1c4")
    case = desk.report("search is returning errors")

    after = desk.runtime.loop.add_message(case.id, "alice", "thanks, looks good now")

    assert (after.status, after.reopened) == (CaseStatus.RESOLVED, 0)
    assert desk.kinds(case.id)[-1] is K.MESSAGE


SECRETS = (
    "xoxb-123456789012-abcdefghijkl",
    "hunter2",
    "xapp-1-A0123456789-0123456789abcdef",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlc2lnbmF0dXJl",
)


def test_secrets_in_messages_are_redacted_in_the_case_and_the_audit_trail(desk: Desk) -> None:
    desk.bad_deploy("search", "v1.9.0", "3b7e1c4")
    case = desk.runtime.loop.open_case(
        "search is returning errors with token xoxb-123456789012-abcdefghijkl and password=hunter2", "alice"
    )
    desk.runtime.loop.run(case.id)
    desk.runtime.loop.add_message(
        case.id,
        "alice",
        "also tried xapp-1-A0123456789-0123456789abcdef and "
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlc2lnbmF0dXJl",
    )

    stored = desk.store.get_case(case.id)
    entries = desk.audit(case.id)
    reply = [e for e in entries if e.kind is K.MESSAGE and e.actor == "alice"][-1]
    for secret in SECRETS:
        assert secret not in stored.text
        assert secret not in stored.title
        for entry in entries:
            assert secret not in entry.model_dump_json(), f"{secret} leaked into audit entry {entry.seq}"
    assert "[REDACTED]" in stored.text
    assert "search is returning errors" in stored.text, "the rest of the message is kept"
    assert "also tried" in str(reply.payload["text"])
    assert desk.store.verify_audit().ok
