"""Confidence-gated autonomy end to end, notices of actions that ran alone, pick-ups and post-mortems, on the
real store and sandbox: a level-3 service with a finding at 0.95 runs alone and is announced; at 0.6 it waits
for approval; every hand-off names its owner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pytest

from actiondesk.agents.governance import PolicyData
from actiondesk.agents.postmortem import PostMortem, render_markdown
from actiondesk.agents.postmortem.markdown import SECTIONS
from actiondesk.agents.triage import Triage
from actiondesk.core.audit import AuditKind
from actiondesk.core.case import Case, CaseStatus
from actiondesk.core.errors import NotAuthorizedError
from actiondesk.core.finding import Finding

if TYPE_CHECKING:
    from conftest import Desk, MakeDesk

K = AuditKind


class SureAs:
    """The real triage, with the finding's confidence set to a chosen value (the evidence stays real)."""

    def __init__(self, triage: Triage, confidence: float) -> None:
        self._triage = triage
        self._confidence = confidence

    def run(self, case: Case, thread: Sequence[str] = (), *, asked: bool = False) -> Finding:
        return self._triage.run(case, thread, asked=asked).model_copy(update={"confidence": self._confidence})

    def __getattr__(self, name: str) -> Any:  # the rest of triage (its namer, its services, its settings) as is
        return getattr(self._triage, name)


def level3(make_desk: MakeDesk, confidence: float) -> Desk:
    desk = make_desk(policy=PolicyData(autonomy={"payment-gateway": 3}))
    desk.runtime.loop.triage = SureAs(desk.runtime.loop.triage, confidence)  # type: ignore[assignment]
    return desk


def payloads(desk: Desk, case_id: str, kind: AuditKind) -> list[dict]:
    return [e.payload for e in desk.audit(case_id) if e.kind is kind]


def test_a_level_3_finding_at_095_runs_alone_and_is_announced_to_its_owner(make_desk: MakeDesk) -> None:
    desk = level3(make_desk, 0.95)
    desk.bad_deploy()
    case = desk.report()

    assert case.status is CaseStatus.RESOLVED
    assert desk.pending(case.id) == []
    assert desk.rollbacks("payment-gateway") == ["v2.4.1"]
    (decision,) = payloads(desk, case.id, K.DECISION)
    assert (decision["outcome"], decision["autonomy_level"], decision["confidence"]) == ("allow", 3, 0.95)
    assert "confidence.threshold.default" in decision["policy_ids"]
    (alone,) = payloads(desk, case.id, K.ACTED_ALONE)
    assert (alone["action"], alone["status"], alone["level"]) == ("rollback_deployment", "succeeded", 3)
    assert (alone["confidence"], alone["threshold"], alone["team"]) == (0.95, 0.9, "payments")
    assert alone["run_key"] == f"{case.id}/step-0"
    # the inverse a Roll back would run is there to be asked for, and goes through governance
    undo = desk.runtime.rollbacks.request(alone["run_key"], "bob")
    assert desk.runtime.loop.run(undo.id).status is CaseStatus.RESOLVED
    assert desk.rollbacks("payment-gateway") == ["v2.4.1", "v2.5.0"]


def test_a_level_3_finding_at_06_waits_for_approval(make_desk: MakeDesk) -> None:
    desk = level3(make_desk, 0.6)
    desk.bad_deploy()
    case = desk.report()

    assert case.status is CaseStatus.AWAITING_APPROVAL
    (approval,) = desk.pending(case.id)
    assert approval.group == "sre"
    assert "ladder.autonomous.unsure" in approval.policy_ids
    assert any("60% sure, below the threshold of 90%" in r for r in approval.reasons)
    assert desk.rollbacks("payment-gateway") == []
    assert payloads(desk, case.id, K.ACTED_ALONE) == []
    done = desk.approve(case.id, "bob")
    assert done.status is CaseStatus.RESOLVED
    assert payloads(desk, case.id, K.ACTED_ALONE) == [], "a person approved it: nothing ran alone"


def test_a_per_service_threshold_from_the_settings(make_desk: MakeDesk) -> None:
    desk = make_desk(
        policy=PolicyData(autonomy={"payment-gateway": 3}),
        confidence_threshold=0.5,
        confidence_thresholds={"payment-gateway": 0.99},
    )
    desk.runtime.loop.triage = SureAs(desk.runtime.loop.triage, 0.95)  # type: ignore[assignment]
    desk.bad_deploy()
    case = desk.report()
    assert case.status is CaseStatus.AWAITING_APPROVAL
    (approval,) = desk.pending(case.id)
    assert "confidence.threshold[payment-gateway]" in approval.policy_ids


def test_guarded_staging_actions_are_announced_too(desk: Desk) -> None:
    desk.bad_deploy("search", "v1.9.0", "3b7e1c4")
    case = desk.report("search is returning errors")
    assert case.status is CaseStatus.RESOLVED
    (alone,) = payloads(desk, case.id, K.ACTED_ALONE)
    assert (alone["level"], alone["team"], alone["confidence"]) == (2, "search", case.finding.confidence)  # type: ignore[union-attr]


def test_take_it_picks_up_a_handed_off_case_and_only_people_can(desk: Desk) -> None:
    desk.fault("payment-gateway")
    desk.wait(120)
    case = desk.report()
    assert case.status is CaseStatus.ESCALATED
    (handed,) = payloads(desk, case.id, K.HANDED_OFF)
    assert handed["people"] == ["grace"]
    takeover = desk.runtime.takeover
    assert takeover is not None
    with pytest.raises(NotAuthorizedError):
        takeover.take(desk.runtime.loop.recorder, case.id, "slack:U0NOBODY")
    desk.wait(240)
    takeover.take(desk.runtime.loop.recorder, case.id, "grace")
    (picked,) = payloads(desk, case.id, K.PICKED_UP)
    assert (picked["by"], picked["how"], picked["after_seconds"], picked["team"]) == (
        "grace",
        "take",
        240.0,
        "payments",
    )
    desk.runtime.loop.add_message(case.id, "bob", "looking too")
    assert len(payloads(desk, case.id, K.PICKED_UP)) == 1, "picked up once per hand-off"

    from actiondesk.bot.reports import metrics
    from actiondesk.bot.reports.text import metrics_lines

    figures = metrics.report(desk.store, case.created_at, desk.clock.now(), 0.0)
    assert figures.escalations_by_owner == {"payments": 1}
    assert (figures.pickup.count, figures.pickup.p50, figures.waiting_for_pickup) == (1, 240.0, {})
    lines = metrics_lines(figures)  # what the weekly report and /actiondesk status say
    assert "hand-offs to people: 1; picked up in 4.0 min (p50), 4.0 min (p90)" in lines
    assert "  payments: 1 hand-offs, picked up in 4.0 min (p50)" in lines


def test_the_terminal_timeline_reads_the_new_entries(desk: Desk) -> None:
    from actiondesk.bot.reports.text import describe

    desk.fault("payment-gateway")
    desk.wait(120)
    case = desk.report()
    handed = next(e for e in desk.audit(case.id) if e.kind is K.HANDED_OFF)
    assert describe(handed) == "to payments on-call (payments-oncall: grace), paged: no"


def test_the_reporter_replying_is_not_a_pick_up(desk: Desk) -> None:
    desk.fault("payment-gateway")
    desk.wait(120)
    case = desk.report()
    desk.runtime.loop.add_message(case.id, "alice", "any news?")
    assert payloads(desk, case.id, K.PICKED_UP) == []


def test_the_post_mortem_is_written_from_the_stored_facts_when_the_incident_resolves(desk: Desk) -> None:
    desk.bad_deploy()
    case = desk.report()
    desk.wait(180)
    case = desk.approve(case.id, "bob")
    (stored,) = payloads(desk, case.id, K.POSTMORTEM)
    pm = PostMortem.model_validate(stored)
    assert pm.model_summary is None
    assert pm.root_cause is not None
    assert (pm.root_cause.commit, pm.root_cause.version, pm.root_cause.deployed_by) == ("9f3c2ab", "v2.5.0", "dave")
    assert pm.mttr_seconds == (case.resolved_at - case.created_at).total_seconds()  # type: ignore[operator]
    (approval,) = pm.approvals
    assert (approval.decided_by, approval.wait_seconds) == ("bob", 180.0)
    (action,) = pm.actions
    assert (action.action, action.approved_by, action.result, action.ran_by) == (
        "rollback_deployment",
        ("bob",),
        "succeeded",
        "actiondesk",
    )
    text = render_markdown(pm)
    for section in SECTIONS:
        assert f"\n## {section}" in text
    assert "deployed by dave" in text
    assert pm.impact.started_at is not None
    assert pm.impact.started_at.strftime("%H:%M:%S") in text
    assert any("Alertmanager" in e for e in pm.earlier), "a person reported it: an alert would have been earlier"
    assert any("9f3c2ab" in f.text for f in pm.follow_ups)
    messages = [e.payload["text"] for e in desk.audit(case.id) if e.kind is K.MESSAGE]
    assert any(str(m).startswith("Post-mortem written:") for m in messages)


def test_a_resolved_request_gets_no_post_mortem(desk: Desk) -> None:
    desk.bad_deploy("search", "v1.9.0", "3b7e1c4")
    first = desk.report("search is returning errors")
    (run,) = desk.store.runs(first.id)
    undo = desk.runtime.rollbacks.request(run.key, "bob")
    assert desk.runtime.loop.run(undo.id).status is CaseStatus.RESOLVED
    assert payloads(desk, undo.id, K.POSTMORTEM) == []
    assert len(payloads(desk, first.id, K.POSTMORTEM)) == 1
